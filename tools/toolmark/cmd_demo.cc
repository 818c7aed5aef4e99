// toolmark demo: the main job on an embedded default. Creates a demo database,
// ingests the real scans of ../shared/datasets (or, without them, a few
// generated placeholder scans), prints what was ingested, then batch-
// correlates every item and prints each one's best candidate.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "cli_common.h"
#include "ingest_job.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"
#include "toolmark/engine/registry.h"
#include "toolmark/index/review.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/review/json.h"

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

/// Demo database only: records "identification" for every cartridge-case
/// hit whose CMC score reaches the CMC decision threshold, by an examiner
/// named as the demo itself, so that the review UI and `links` have clusters
/// to show. A real database gets its decisions from examiners only.
std::size_t RecordDemoDecisions(const std::string& folder) {
  auto db = index::Database::Open(folder, false);
  const ComparatorInfo& cmc = DefaultComparator(Kind::kCartridgeCase);
  TM_ASSERT(cmc.decision_threshold.has_value());  // the CMC's registration states Song's C
  const double threshold = *cmc.decision_threshold;
  std::size_t n = 0;
  index::HitFilter pending;
  pending.kind = Kind::kCartridgeCase;
  for (const index::ReviewHit& h : index::ReviewHits(*db, pending)) {
    if (h.hit.comparator != cmc.name || index::PairScore(h) < threshold) continue;
    db->RecordDecision(
        h.hit.id, "identification", "toolmark demo (automatic, not an examiner)",
        "Demo database only: recorded by `toolmark demo` because the CMC score reached the decision "
        "threshold of " +
            std::to_string(static_cast<int>(threshold)) + " congruent cells. Not an examiner's conclusion.");
    ++n;
  }
  return n;
}

void PrintDemoReview(const std::string& folder) {
  auto db = index::Database::Open(folder, false);
  index::HitFilter all;
  all.status = "all";
  const auto hits = index::ReviewHits(*db, all);
  std::printf("== hit lists: %zu pairs to review; the best 15 (toolmark hits --db %s --status all)\n",
              hits.size(), folder.c_str());
  std::printf("%-6s %-15s %13s  %-40s %-40s\n", "hit", "status", "score", "query", "candidate");
  for (std::size_t i = 0; i < hits.size() && i < 15; ++i) {
    const auto& h = hits[i];
    std::printf("%-6lld %-15s %13s  %-40s %-40s\n", static_cast<long long>(h.hit.id), h.status.c_str(),
                review::PairScoreText(h).c_str(), (h.query.case_id + "/" + h.query.item_label).c_str(),
                (h.candidate.case_id + "/" + h.candidate.item_label).c_str());
  }
  std::map<index::ItemId, index::ItemRecord> items;
  for (index::ItemRecord& it : db->List()) items.emplace(it.id, std::move(it));
  std::printf("== linked clusters (toolmark links --db %s [--json|--dot])\n", folder.c_str());
  PrintClusters(index::LinkedClusters(*db), items);
}

int RunDemo(std::string db, const std::string& datasets_flag, bool serve, int port) {
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
  const std::size_t decided = RecordDemoDecisions(db);
  std::printf(
      "== demo decisions: %zu cartridge-case hits with a CMC score at or above the decision threshold "
      "recorded as identifications by \"toolmark demo (automatic, not an examiner)\"\n",
      decided);
  PrintDemoReview(db);
  std::printf("== next: toolmark search --db %s FILE|ID   (one item's ranked candidates)\n", db.c_str());
  std::printf("== review UI: toolmark serve --db %s --port %d --open   then open http://127.0.0.1:%d/%s\n",
              db.c_str(), port, port, serve ? "" : "   (or: scripts/demo.sh --serve)");
  std::fflush(stdout);
  if (rejected || correlated) return 1;
  return serve ? RunServer(db, "127.0.0.1", port) : 0;
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
  auto serve = std::make_shared<bool>(false);
  auto port = std::make_shared<int>(8765);
  cmd->add_flag("--serve", *serve, "Then start the review server on the demo database (Ctrl-C stops it)");
  cmd->add_option("--port", *port, "Port of the review server (loopback)")->check(CLI::Range(1, 65535));
  cmd->callback([=] { *action = [=] { return RunDemo(*db, *datasets, *serve, *port); }; });
}

}  // namespace toolmark::cli
