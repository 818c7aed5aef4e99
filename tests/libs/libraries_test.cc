// The libraries below the CLI, used as a program would use them, without the
// toolmark binary: the evaluation harness (toolmark::eval) and the ingest
// pipeline (toolmark::ingest_pipeline).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "lib_fixtures.h"
#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/synth.h"
#include "toolmark/eval/evaluate.h"
#include "toolmark/eval/score_table.h"
#include "toolmark/index/database.h"
#include "toolmark/ingest/pipeline.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark {
namespace {

namespace fs = std::filesystem;

TEST(EvalLibrary, SyntheticBulletsSeparateAtLandAndBulletLevel) {
  SynthOptions s;
  s.kind = Kind::kBullet;
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
  SynthOptions s;
  s.firearms = 2;
  s.per_firearm = 2;
  s.seed = 5;
  s.size = 160;
  testing::WriteSynthScans(s, scans);
  // One file that is not an X3P: refused, named, and nothing of it stored.
  { std::ofstream(scans / "zz-broken.x3p") << "not a zip"; }

  ingest::IngestRequest r;
  r.paths = {scans.string()};
  r.db = dir / "db";
  r.defaults.case_id = "LIB-1";
  r.defaults.jurisdiction = "NL";
  r.defaults.kind = Kind::kCartridgeCase;
  r.defaults.marks = {{MarkType::kBreechFace}};
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

CalibrationProvenance Provenance(const std::string& set) {
  CalibrationProvenance p;
  p.set = set;
  return p;
}

/// A laboratory's score table: a count of n cells per comparison, same or
/// different source, split t / v / n by "weapon" (rows of a weapon share its split).
std::string WriteCountTable(const testing::TempDir& dir) {
  std::mt19937_64 rng(3);
  std::string csv = "weapon1,weapon2,hypothesis,cmc,n,split1\n";
  const char splits[] = {'t', 't', 'v', 'n'};
  for (int w = 0; w < 120; ++w) {
    const char split = splits[w % 4];
    for (int same : {1, 0, 0, 0}) {
      std::uniform_int_distribution<int> nd(15, 60);
      const int n = nd(rng);
      std::binomial_distribution<int> k(n, same ? 0.45 : 0.04);
      csv += std::to_string(w) + "," + std::to_string(same ? w : w + 1000) + "," + std::to_string(same) +
             "," + std::to_string(k(rng)) + "," + std::to_string(n) + "," + split + "\n";
    }
  }
  csv += "1,2,0,,30,t\n";  // no score: counted, left out
  const std::string path = dir / "scores.csv";
  std::ofstream(path) << csv;
  return path;
}

TEST(EvalLibrary, AScoreTableIsFittedOnItsTrainingRowsAndMeasuredOnItsTestRows) {
  testing::TempDir dir;
  const std::string path = WriteCountTable(dir);
  eval::ScoreTableColumns cols;
  cols.score = "cmc";
  cols.trials = "n";
  cols.split = "split1";
  const eval::ScoreTable table = eval::ReadScoreTable(path, cols);
  EXPECT_EQ(table.rows.size(), 480u);
  EXPECT_EQ(table.without_score, 1u);
  for (const eval::ScoreModel model : {eval::ScoreModel::kKOfN, eval::ScoreModel::kLogistic}) {
    const eval::TableCalibration c = eval::CalibrateTable(table, model, "", Provenance("lib table"), "cmc");
    EXPECT_TRUE(c.split);
    EXPECT_EQ(c.train_km, 60u);  // weapons 0, 1 of every 4
    EXPECT_EQ(c.train_knm, 180u);
    EXPECT_EQ(c.test.km, 30u);
    EXPECT_EQ(c.test.knm, 90u);
    EXPECT_LT(c.test.cllr, 0.3);
    EXPECT_LE(c.test.cllr_min, c.test.cllr + 1e-12);
    EXPECT_GT(c.test.auc, 0.97);
    EXPECT_LE(c.test.misleading_ss, 0.1);
    EXPECT_LE(c.test.misleading_ds, 0.1);
    EXPECT_LT(c.bounds.first, 0);
    EXPECT_GT(c.bounds.second, 0);
  }
  // Without trials there is no k-of-n model; without a split every row is used for both.
  cols.trials.clear();
  EXPECT_THROW(eval::CalibrateTable(eval::ReadScoreTable(path, cols), eval::ScoreModel::kKOfN, "",
                                    Provenance("x"), "cmc"),
               Error);
  cols.split.clear();
  const eval::TableCalibration all = eval::CalibrateTable(
      eval::ReadScoreTable(path, cols), eval::ScoreModel::kLogistic, "", Provenance("x"), "cmc");
  EXPECT_FALSE(all.split);
  EXPECT_EQ(all.test.km + all.test.knm, 480u);
  // Cross-validation by weapon: every row measured once, by a model that never saw its weapons.
  cols.trials = "n";
  cols.group_a = "weapon1";
  cols.group_b = "weapon2";
  const eval::ScoreTable grouped = eval::ReadScoreTable(path, cols);
  EXPECT_EQ(grouped.groups.size(), 240u);
  const eval::TableCalibration cv =
      eval::CalibrateTable(grouped, eval::ScoreModel::kKOfN, "", Provenance("cv"), "cmc", 5);
  EXPECT_EQ(cv.folds, 5);
  EXPECT_EQ(cv.fold_bounds.size(), 5u);
  EXPECT_EQ(cv.test.km + cv.test.knm, 480u);
  EXPECT_LT(cv.test.cllr, 0.3);
  EXPECT_EQ(eval::CalibrateTable(grouped, eval::ScoreModel::kKOfN, "", Provenance("cv"), "cmc", 5).test.cllr,
            cv.test.cllr);  // deterministic
  cols.split = "split1";
  EXPECT_THROW(eval::CalibrateTable(eval::ReadScoreTable(path, cols), eval::ScoreModel::kKOfN, "",
                                    Provenance("cv"), "cmc", 5),
               Error);  // a split or folds, not both
}

TEST(EvalLibrary, BadScoreTablesAreOneLineErrorsNamingTheLine) {
  testing::TempDir dir;
  eval::ScoreTableColumns cols;
  cols.score = "cmc";
  cols.trials = "n";
  const auto refused = [&](const std::string& csv, const std::string& why) {
    const std::string path = dir / "bad.csv";
    std::ofstream(path) << csv;
    try {
      eval::ReadScoreTable(path, cols);
      ADD_FAILURE() << "accepted: " << csv;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  };
  refused("hypothesis,score,n\n1,3,4\n", "no 'cmc' column (--score-column)");
  refused("hypothesis,cmc\n1,3\n", "no 'n' column (--trials-column)");
  refused("hypothesis,cmc,n\n1,5,4\n", "bad.csv:2: cmc is not a whole count between 0 and n");
  refused("hypothesis,cmc,n\n1,2.5,4\n", "bad.csv:2: cmc is not a whole count");
  refused("hypothesis,cmc,n\n1,2,0\n", "bad.csv:2: n is not a whole number");
  refused("hypothesis,cmc,n\nyes,2,4\n", "bad.csv:2: hypothesis is not 1 or 0");
  refused("hypothesis,cmc,n\n1,2,4\n0,inf,4\n", "bad.csv:3: cmc is not a finite number");
  refused("hypothesis,cmc,n\n1,2\n", "bad.csv:2: too few fields");
  // A split column that marks no row t or v would fit and measure every row (in-sample figures).
  cols.split = "split1";
  refused("hypothesis,cmc,n,split1\n1,2,4,n\n0,1,4,x\n", "split1 marks no row t or v");
  cols.split.clear();
  // Several score columns: each is checked like the score.
  cols.trials.clear();
  cols.features = {"cmc", "ccf"};
  refused("hypothesis,cmc\n1,3\n", "no 'ccf' column (--score-column)");
  refused("hypothesis,cmc,ccf\n1,3,nope\n", "bad.csv:2: ccf is not a finite number");
}

}  // namespace
}  // namespace toolmark
