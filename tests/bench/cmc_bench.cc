// Cartridge-case (CMC) benchmarks on the real Fadul scans of
// ../shared/datasets (skipped with a message when absent):
//   BM_CmcPrepare        — one Fadul scan: breech-face preprocessing and the
//                          coarse-registration grid (one core)
//   BM_CmcCompare/<deg>  — one Fadul known-match pair, both directions, with
//                          rotations searched over ±deg (180: the full circle,
//                          the default; 30: cmcR's usual range), one core
//   BM_CmcCoarse         — the coarse full-circle registration alone
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <filesystem>
#include <memory>
#include <string>

#include "toolmark/engine/cmc.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/ingest/scan.h"

namespace {
namespace fs = std::filesystem;

std::string Fadul(const std::string& name) {
  const char* env = std::getenv("TOOLMARK_DATASETS");
  return std::string(env ? env : TOOLMARK_DATASETS_DIR) + "/fadul/" + name;
}

bool Missing(benchmark::State& state) {
  if (fs::exists(Fadul("fadul-1-1.x3p"))) return false;
  state.SkipWithError(("missing " + Fadul("fadul-1-1.x3p")).c_str());
  return true;
}

void BM_CmcPrepare(benchmark::State& state) {
  if (Missing(state)) return;
  const toolmark::Surface s = toolmark::ingest::ReadScan(Fadul("fadul-1-1.x3p"), {}).surface;
  const auto cmc = toolmark::MakeComparator("cmc");
  for (auto _ : state) benchmark::DoNotOptimize(cmc->Prepare(s));
}

void BM_CmcCompare(benchmark::State& state) {
  if (Missing(state)) return;
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  toolmark::CmcOptions o;
  o.max_rotation_deg = static_cast<double>(state.range(0));
  if (state.range(0) < 180) o.coarse_candidates = 3;
  toolmark::BreechFaceOptions bo;
  bo.spacing_um = o.spacing_um;
  const toolmark::BreechFace a =
      toolmark::PreprocessBreechFace(toolmark::ingest::ReadScan(Fadul("fadul-1-1.x3p"), {}).surface, bo);
  const toolmark::BreechFace b =
      toolmark::PreprocessBreechFace(toolmark::ingest::ReadScan(Fadul("fadul-1-2.x3p"), {}).surface, bo);
  int count = 0;
  for (auto _ : state) count = toolmark::CompareCmc(a, b, o).count;
  state.counters["cmc"] = count;
}

}  // namespace

BENCHMARK(BM_CmcPrepare)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CmcCompare)->Arg(180)->Arg(30)->Unit(benchmark::kMillisecond);
