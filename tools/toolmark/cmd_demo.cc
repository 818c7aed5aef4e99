// toolmark demo: the main job on an embedded default. Creates a demo database,
// ingests the real scans of ../shared/datasets (or, without them, a few
// generated placeholder scans), prints what was ingested, then batch-
// correlates every item and prints each one's best candidate.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "cli_common.h"
#include "ingest_job.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::cli {
namespace fs = std::filesystem;
namespace {

/// Pixel spacing assumed for the demo's 2D ring-light images, whose files do
/// not state it (see shared/datasets/MANIFEST.md).
constexpr double kDemoImageSpacingUm = 3.5;

std::string FindDatasets(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("TOOLMARK_DATASETS")) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (const fs::path& c : {fs::current_path() / "../shared/datasets", fs::current_path() / "shared/datasets",
                            exe.parent_path() / "../../../shared/datasets"}) {
    if (fs::is_directory(c, ec)) return fs::canonical(c).string();
  }
  return "";
}

/// Writes a few placeholder height maps (two "firearms", two shots each).
std::string WritePlaceholderScans(const fs::path& dir) {
  fs::create_directories(dir);
  std::string csv = "file,firearm,kind,mark\n";
  for (int firearm = 0; firearm < 2; ++firearm) {
    for (int shot = 0; shot < 2; ++shot) {
      std::mt19937 rng(static_cast<unsigned>(firearm * 10 + shot));
      std::normal_distribution<double> noise(0.0, 0.05);
      Surface s;
      s.values.create(256, 256, CV_64FC1);
      for (int y = 0; y < 256; ++y)
        for (int x = 0; x < 256; ++x)
          s.values.at<double>(y, x) = std::sin(0.07 * (firearm + 1) * x + 0.03 * y) + noise(rng);
      s.spacing_x_um = s.spacing_y_um = 3.125;
      s.meta.comment = "Toolmark placeholder scan (not real evidence)";
      const std::string name =
          "placeholder-f" + std::to_string(firearm) + "-" + std::to_string(shot) + ".x3p";
      ingest::WriteX3pFile(s, (dir / name).string());
      csv += name + ",placeholder" + std::to_string(firearm) + ",cartridge_case,breech_face\n";
    }
  }
  FILE* f = std::fopen((dir / "truth.csv").c_str(), "w");
  if (!f) Fail("cannot write " + (dir / "truth.csv").string());
  std::fputs(csv.c_str(), f);
  std::fclose(f);
  return dir.string();
}

IngestSummary IngestDataset(const std::string& db, const fs::path& dir, const std::string& name) {
  IngestRequest req;
  req.db = db;
  req.manifest = (dir / "truth.csv").string();
  req.flags.case_id = "demo-" + name;
  req.flags.jurisdiction = "demo";
  if (name == "images2d") {
    req.read.spacing_um = kDemoImageSpacingUm;
    std::printf("note: 2D images do not store their pixel size; the demo assumes %.2f um\n",
                kDemoImageSpacingUm);
  }
  std::printf("== ingesting %s (%s)\n", name.c_str(), dir.c_str());
  return RunIngestJob(req);
}

int RunDemo(std::string db, const std::string& datasets_flag) {
  if (db.empty()) db = (fs::temp_directory_path() / ("toolmark-demo-" + std::to_string(::getpid()))).string();
  const std::string datasets = FindDatasets(datasets_flag);
  std::vector<std::pair<fs::path, std::string>> sets;
  if (!datasets.empty()) {
    for (const char* name : {"fadul", "hamby44", "images2d"}) {
      if (fs::exists(fs::path(datasets) / name / "truth.csv"))
        sets.emplace_back(fs::path(datasets) / name, name);
    }
  }
  if (sets.empty()) {
    std::printf("no shared datasets found; generating placeholder scans\n");
    sets.emplace_back(WritePlaceholderScans(fs::path(db + "-input")), "placeholder");
  }
  int rejected = 0;
  for (const auto& [dir, name] : sets) rejected += IngestDataset(db, dir, name).rejected;
  std::printf("== demo database %s\n", db.c_str());
  RunList(db, false);
  std::printf("== batch correlation: every item against the database (hit lists recorded)\n");
  const int correlated = CorrelateDatabase(db, 5);
  std::printf("== next: toolmark search --db %s FILE|ID   (one item's ranked candidates)\n", db.c_str());
  return rejected || correlated ? 1 : 0;
}

}  // namespace

void RegisterDemo(CLI::App& app, Action* action) {
  auto db = std::make_shared<std::string>();
  auto datasets = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Create a demo database from the shared datasets, list it and batch-correlate it");
  cmd->add_option("--db", *db, "Demo database folder (default: a new folder under the temp folder)");
  cmd->add_option("--datasets", *datasets,
                  "Datasets folder (default: $TOOLMARK_DATASETS or ../shared/datasets)");
  cmd->callback([=] { *action = [=] { return RunDemo(*db, *datasets); }; });
}

}  // namespace toolmark::cli
