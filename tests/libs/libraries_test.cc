// The libraries below the CLI, used as a program would use them, without the
// toolmark binary: the evaluation harness (toolmark::eval) and the ingest
// pipeline (toolmark::ingest_pipeline).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/synth.h"
#include "toolmark/eval/evaluate.h"
#include "toolmark/index/database.h"
#include "toolmark/ingest/pipeline.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark {
namespace {

namespace fs = std::filesystem;

TEST(EvalLibrary, SyntheticBulletsSeparateAtLandAndBulletLevel) {
  SynthOptions s;
  s.kind = "bullet";
  s.firearms = 4;
  s.per_firearm = 2;
  s.seed = 11;
  eval::EvalOptions o;
  const std::vector<eval::EvalLevel> levels = eval::EvaluateSynthetic(s, o, "lib-bullets");
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels[0].level, "land");
  EXPECT_EQ(levels[1].level, "bullet");
  for (const eval::EvalLevel& lv : levels) {
    SCOPED_TRACE(lv.level);
    EXPECT_EQ(lv.comparator, "land");  // the bullet kind's default comparator (registry)
    EXPECT_FALSE(lv.pairs.empty());
    EXPECT_GT(lv.metrics.auc, 0.9);
  }
  // 8 bullets: 28 bullet pairs, 4 of them from one barrel.
  EXPECT_EQ(levels[1].pairs.size(), 28u);
  // The same set again gives the same numbers (deterministic scores).
  const std::vector<eval::EvalLevel> again = eval::EvaluateSynthetic(s, o, "lib-bullets");
  ASSERT_EQ(again[0].pairs.size(), levels[0].pairs.size());
  for (std::size_t i = 0; i < again[0].pairs.size(); ++i)
    EXPECT_EQ(again[0].pairs[i].score, levels[0].pairs[i].score);
}

TEST(EvalLibrary, AMissingDatasetIsOneClearError) {
  testing::TempDir dir;
  try {
    eval::EvaluateDataset(dir / "nowhere", {}, {});
    FAIL() << "evaluated a folder that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST(PipelineLibrary, IngestsAFolderReportsEachFileAndRefusesABadOne) {
  testing::TempDir dir;
  const fs::path scans = dir.path() / "scans";
  fs::create_directories(scans);
  SynthOptions s;
  s.firearms = 2;
  s.per_firearm = 2;
  s.seed = 5;
  s.size = 160;
  for (int i = 0; i < SynthScanCount(s); ++i) {
    const SynthScan scan = GenerateSynthScan(s, i);
    ingest::WriteX3pFile(scan.surface, (scans / scan.file).string());
  }
  // One file that is not an X3P: refused, named, and nothing of it stored.
  { std::ofstream(scans / "zz-broken.x3p") << "not a zip"; }

  ingest::IngestRequest r;
  r.paths = {scans.string()};
  r.db = dir / "db";
  r.defaults.case_id = "LIB-1";
  r.defaults.jurisdiction = "NL";
  r.defaults.kind = "cartridge_case";
  r.defaults.marks = {"breech_face"};
  r.threads = 2;
  std::vector<ingest::IngestEvent> events;
  const ingest::IngestSummary sum =
      ingest::RunIngest(r, [&](const ingest::IngestEvent& e) { events.push_back(e); });
  EXPECT_EQ(sum.accepted, 4);
  EXPECT_EQ(sum.rejected, 1);
  EXPECT_EQ(sum.duplicates, 0);
  ASSERT_EQ(events.size(), 5u);
  std::size_t rejected = 0;
  for (const ingest::IngestEvent& e : events) {
    if (e.outcome != ingest::IngestEvent::Outcome::kRejected) continue;
    ++rejected;
    EXPECT_NE(e.error.find("zz-broken.x3p"), std::string::npos) << e.error;
    EXPECT_EQ(e.error.find('\n'), std::string::npos);
  }
  EXPECT_EQ(rejected, 1u);
  auto db = index::Database::Open(r.db, false);
  const std::vector<index::ItemRecord> items = db->List();
  ASSERT_EQ(items.size(), 4u);
  for (const index::ItemRecord& it : items) {
    EXPECT_EQ(it.kind, Kind::kCartridgeCase);
    EXPECT_EQ(it.case_id, "LIB-1");
  }
  // Again: every good file is a duplicate now; nothing new is stored.
  const ingest::IngestSummary again = ingest::RunIngest(r);
  EXPECT_EQ(again.accepted, 0);
  EXPECT_EQ(again.duplicates, 4);
  EXPECT_EQ(index::Database::Open(r.db, false)->List().size(), 4u);
}

}  // namespace
}  // namespace toolmark
