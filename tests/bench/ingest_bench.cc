// Ingest benchmarks on the real scans of ../shared/datasets:
//   X3P read of a Hamby 44 land (1515×422 float64) and of a Fadul scan;
//   `toolmark ingest` of all 67 shared 3D scans into a fresh database with 1
//   and 2 reader threads (items/s).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "spawn.h"
#include "toolmark/base/file_io.h"
#include "toolmark/ingest/x3p.h"

namespace {
namespace fs = std::filesystem;

std::string Datasets() {
  const char* env = std::getenv("TOOLMARK_DATASETS");
  return env ? env : TOOLMARK_DATASETS_DIR;
}

void ReadX3p(benchmark::State& state, const std::string& relative) {
  const std::string path = Datasets() + relative;
  if (!fs::exists(path)) return state.SkipWithError(("missing " + path).c_str());
  const std::string bytes = toolmark::base::ReadFileBounded(path, std::size_t{1} << 30);
  for (auto _ : state) {
    auto scan = toolmark::ingest::ReadX3pBytes(bytes, {});
    benchmark::DoNotOptimize(scan.surface.values.data);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void BM_ReadX3pHambyLand(benchmark::State& state) {
  ReadX3p(state, "/hamby44/hamby44-barrel1-bullet1-land1.x3p");
}
void BM_ReadX3pFadul(benchmark::State& state) { ReadX3p(state, "/fadul/fadul-1-1.x3p"); }

int RunToolmark(const std::vector<std::string>& args) {
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = toolmark::testing::SpawnProcess(TOOLMARK_BINARY, args, null_fd, -1);
  ::close(null_fd);
  return toolmark::testing::WaitProcess(pid);
}

void BM_IngestShared3d(benchmark::State& state) {
  const std::string root = Datasets();
  if (!fs::exists(root + "/fadul/truth.csv")) return state.SkipWithError("shared datasets absent");
  const std::string db =
      (fs::temp_directory_path() / ("toolmark-bench-" + std::to_string(getpid()))).string();
  const std::string threads = std::to_string(state.range(0));
  for (auto _ : state) {
    fs::remove_all(db);
    for (const char* set : {"fadul", "hamby44"}) {
      if (RunToolmark({"ingest", "--db", db, "--case", "bench", "--threads", threads, "--manifest",
                       root + "/" + set + "/truth.csv"}) != 0) {
        state.SkipWithError("ingest failed");
      }
    }
  }
  fs::remove_all(db);
  state.counters["items_per_s"] =
      benchmark::Counter(67.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ReadX3pHambyLand)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadX3pFadul)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IngestShared3d)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
