// toolmark synth OUT: a synthetic dataset (X3P files + truth.csv).
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>

#include "cli_common.h"
#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/orientation.h"
#include "toolmark/engine/synth.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::cli {
namespace fs = std::filesystem;
namespace {

struct SynthArgs {
  std::string out, difficulty = "realistic";
  SynthOptions options;
  int threads = 0;
  std::string stored_as = "upright";  ///< bullets: write the lands in this orientation
};

std::string TruthRow(const SynthScan& s) {
  return s.file + "," + s.firearm + "," + KindName(s.kind) + "," + Join(MarkNames(s.marks), ";") + "," +
         s.bullet + "," + (s.land ? std::to_string(s.land) : "") + "," + s.land_id + "\n";
}

int RunSynth(SynthArgs args) {
  args.options.difficulty = ParseSynthDifficulty(args.difficulty);
  const Orientation stored_as = *ParseOrientation(args.stored_as);
  Check(stored_as == Orientation::kUpright || args.options.kind == Kind::kBullet,
        "--stored-as applies to bullet lands only");
  const int count = SynthScanCount(args.options);
  std::error_code ec;
  if (fs::exists(args.out, ec) && !fs::is_empty(args.out, ec)) {
    Fail(args.out + ": folder exists and is not empty; choose a new folder");
  }
  fs::create_directories(args.out, ec);
  if (ec) Fail(args.out + ": cannot create folder: " + ec.message());
  std::optional<tbb::global_control> limit;
  if (args.threads > 0) limit.emplace(tbb::global_control::max_allowed_parallelism, args.threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> rows(static_cast<std::size_t>(count));
  Progress progress(static_cast<std::size_t>(count), "synth");
  std::mutex progress_mutex;
  tbb::parallel_for(0, count, [&](int i) {
    const SynthScan scan = GenerateSynthScan(args.options, i);
    ingest::WriteX3pFile(
        stored_as == Orientation::kUpright ? scan.surface : FromUpright(scan.surface, stored_as),
        (fs::path(args.out) / scan.file).string());
    rows[static_cast<std::size_t>(i)] = TruthRow(scan);
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress.Tick(scan.file);
  });
  std::string csv = "file,firearm,kind,mark,bullet,land,land_id\n";
  for (const auto& r : rows) csv += r;
  base::WriteFileAtomic((fs::path(args.out) / "truth.csv").string(), csv);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %d %s scans (%d firearms x %d %s, %s, seed %llu) in %.1f s\n", args.out.c_str(), count,
              KindName(args.options.kind), args.options.firearms, args.options.per_firearm,
              args.options.kind == Kind::kBullet ? "bullets" : "shots", args.difficulty.c_str(),
              static_cast<unsigned long long>(args.options.seed), seconds);
  return 0;
}

}  // namespace

void RegisterSynth(CLI::App& app, Action* action) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* cmd =
      app.add_subcommand("synth", "Generate a synthetic dataset with ground truth (X3P + truth.csv)");
  cmd->add_option("out", args->out, "New output folder")->required();
  cmd->add_option_function<std::string>(
         "--kind", [args](const std::string& v) { args->options.kind = KindOf(v); },
         "cartridge_case or bullet")
      ->check(CLI::IsMember(KindNames()));
  cmd->add_option("--firearms", args->options.firearms, "Number of firearms (barrels)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--per-firearm", args->options.per_firearm, "Cartridge cases or bullets per firearm")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--seed", args->options.seed, "Random seed (the same seed gives the same files)");
  cmd->add_option("--difficulty", args->difficulty, "easy, realistic (default) or hard")
      ->check(CLI::IsMember({"easy", "realistic", "hard"}));
  cmd->add_option("--size", args->options.size,
                  "Points a side (cartridge case, default 256) or across a land (bullet, default 768)")
      ->check(CLI::Range(32, 4096));
  cmd->add_option("--lands", args->options.lands, "Lands per barrel (bullets, default 6)")
      ->check(CLI::Range(3, 16));
  cmd->add_option("--threads", args->threads, "Worker threads (default: all cores)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--stored-as", args->stored_as,
                  "Bullets: write every land in this orientation (as another lab's instrument might: "
                  "transposed, rot90, rot270, …; default upright); truth.csv does not say which")
      ->check(CLI::IsMember(OrientationNames()));
  cmd->callback([args, action] { *action = [args] { return RunSynth(*args); }; });
}

}  // namespace toolmark::cli
