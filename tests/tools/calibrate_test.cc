// toolmark calibrate end to end: fits from a scores CSV and from synthetic
// sets, the calibration file's round trip through eval, determinism, and
// corrupted / wrong-version / mismatched calibration files as one-line errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "run_cli.h"
#include "test_util.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

/// A scores CSV (score,known_match): KM ~ N(2, 1), KNM ~ N(0, 1), n of each.
std::string WriteScoresCsv(const TempDir& dir, const std::string& name, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0, 1);
  std::string csv = "file_a,file_b,score,known_match\n";
  for (int i = 0; i < n; ++i) csv += "a,\"b, quoted\"," + std::to_string(2 + d(rng)) + ",1\n";
  for (int i = 0; i < n; ++i) csv += "a,b," + std::to_string(d(rng)) + ",0\n";
  csv += "a,b,nan,0\n";  // a pair without a score is left out
  WriteFile(dir / name, csv);
  return dir / name;
}

void ExpectOneLineError(const CliResult& r, const std::string& starts_with,
                        const std::string& contains = "") {
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("toolmark: " + starts_with, 0), 0u) << r.err;
  EXPECT_NE(r.err.find(contains), std::string::npos) << r.err;
}

/// Runs `base` plus each case's flags; each must fail with one line containing its text.
using FlagCases = std::vector<std::pair<std::vector<std::string>, std::string>>;
void ExpectEachOneLineError(const std::vector<std::string>& base, const FlagCases& cases) {
  for (const auto& [flags, why] : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), flags.begin(), flags.end());
    ExpectOneLineError(RunCli(args), "", why);
  }
}

TEST(Calibrate, FitsScoresAndWritesAFileThatReadsBackExactly) {
  TempDir dir;
  const std::string scores = WriteScoresCsv(dir, "pairs.csv", 400, 1);
  const std::string test = WriteScoresCsv(dir, "test.csv", 400, 2);
  const std::string out = dir / "cal.json";
  const CliResult r = RunCli({"calibrate", "--scores", scores, "--test-scores", test, "--comparator",
                              "baseline", "--set", "gaussian test scores", "--out", out, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  const json c = j["calibration"];
  EXPECT_EQ(c["format"], "toolmark-calibration");
  EXPECT_EQ(c["format_version"], 1);
  EXPECT_EQ(c["comparator"], "baseline");
  EXPECT_EQ(c["level"], "pair");
  EXPECT_EQ(c["transform"], "identity");
  EXPECT_EQ(c["provenance"]["set"], "gaussian test scores");
  EXPECT_EQ(c["provenance"]["km"], 400);
  EXPECT_EQ(c["provenance"]["knm"], 400);
  EXPECT_EQ(j["without_score"], 1);
  EXPECT_EQ(
      c["provenance"]["command"].get<std::string>().rfind("toolmark calibrate --comparator baseline", 0), 0u);
  // True log10 LR slope 2 / ln 10 ≈ 0.87.
  EXPECT_NEAR(c["parameters"][1].get<double>(), 2 / std::log(10.0), 0.1);
  EXPECT_LT(c["min_log10_lr"].get<double>(), -1);
  EXPECT_GT(c["max_log10_lr"].get<double>(), 1);
  EXPECT_LE(c["max_log10_lr"].get<double>(), std::log10(401.0));
  // Fitting set and held-out set: Cllr about 0.49 bits (d' = 2), above min Cllr.
  ASSERT_EQ(j["quality"].size(), 2u);
  for (const json& q : j["quality"]) {
    EXPECT_GT(q["cllr"].get<double>(), 0.35) << q.dump();
    EXPECT_LT(q["cllr"].get<double>(), 0.65) << q.dump();
    EXPECT_LE(q["min_cllr"].get<double>(), q["cllr"].get<double>() + 1e-12);
  }
  // The file holds exactly what was printed (numbers round-trip bit for bit).
  const json file = json::parse(ReadFile(out));
  EXPECT_EQ(file, c);
  EXPECT_EQ(file["parameters"][0].get<double>(), c["parameters"][0].get<double>());

  // The same fit again gives the same numbers; a file written from it is read back as it is.
  const CliResult again = RunCli({"calibrate", "--scores", scores, "--comparator", "baseline", "--set",
                                  "gaussian test scores", "--json"});
  ASSERT_EQ(again.status, 0) << again.err;
  const json c2 = json::parse(again.out)["calibration"];
  EXPECT_EQ(c2["parameters"], c["parameters"]);
  EXPECT_EQ(c2["max_log10_lr"], c["max_log10_lr"]);
  EXPECT_EQ(c2["min_log10_lr"], c["min_log10_lr"]);
}

TEST(Calibrate, TextSummaryAndHelp) {
  TempDir dir;
  const CliResult r = RunCli({"calibrate", "--scores", WriteScoresCsv(dir, "s.csv", 50, 3), "--comparator",
                              "baseline", "--print-cc"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* text : {"50 known-match, 50 known-non-match scores", "Cllr", "ELUB", "LR at score",
                           "calibration_default.cc", "{\"baseline\", \"pair\", \"identity\","})
    EXPECT_NE(r.out.find(text), std::string::npos) << text << "\n" << r.out;
  const CliResult help = RunCli({"calibrate", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("--print-cc"), std::string::npos);
}

TEST(Calibrate, SyntheticLandsAreDeterministicAcrossThreadCounts) {
  const std::vector<std::string> args = {"calibrate", "--comparator",  "land", "--firearms",
                                         "3",         "--per-firearm", "2",    "--difficulty",
                                         "realistic", "--seed",        "5",    "--json"};
  std::vector<std::string> one = args, two = args;
  one.insert(one.end(), {"--threads", "1"});
  two.insert(two.end(), {"--threads", "2"});
  const CliResult a = RunCli(one), b = RunCli(two);
  ASSERT_EQ(a.status, 0) << a.err;
  ASSERT_EQ(b.status, 0) << b.err;
  const json ca = json::parse(a.out)["calibration"], cb = json::parse(b.out)["calibration"];
  EXPECT_EQ(ca["parameters"], cb["parameters"]);
  EXPECT_EQ(ca["max_log10_lr"], cb["max_log10_lr"]);
  EXPECT_EQ(ca["transform"], "logit");
  EXPECT_EQ(ca["provenance"]["set"], "synthetic bullet realistic 3x2 seed 5");
  EXPECT_EQ(ca["provenance"]["km"], 18);  // 3 barrels × 6 lands, each on two bullets
  EXPECT_EQ(ca["provenance"]["command"],
            "toolmark calibrate --comparator land --level pair --firearms 3 --per-firearm 2 --seed 5 "
            "--difficulty realistic --max-pairs 200000");
  EXPECT_GT(ca["parameters"][1].get<double>(), 0);
}

TEST(Calibrate, BadInputIsAOneLineError) {
  TempDir dir;
  WriteFile(dir / "few.csv", "score,known_match\n1,1\n2,1\n0,0\n0.5,0\n0.2,0\n0.1,0\n0.3,0\n");
  ExpectOneLineError(RunCli({"calibrate", "--scores", dir / "few.csv"}), "calibration needs at least 5");
  WriteFile(dir / "nocol.csv", "score,match\n1,1\n");
  ExpectOneLineError(RunCli({"calibrate", "--scores", dir / "nocol.csv"}), dir / "nocol.csv",
                     "no 'known_match' column");
  WriteFile(dir / "bad.csv", "score,known_match\n1,1\nabc,0\n");
  ExpectOneLineError(RunCli({"calibrate", "--scores", dir / "bad.csv"}), dir / "bad.csv:3");
  ExpectOneLineError(RunCli({"calibrate", "--scores", dir / "missing.csv"}), dir / "missing.csv");
  ExpectOneLineError(RunCli({"calibrate", "--comparator", "nope"}), "unknown comparator");
  ExpectOneLineError(RunCli({"calibrate", "--comparator", "cmc", "--level", "bullet"}), "--level bullet");
}

/// A valid calibration file for `comparator` (from Gaussian scores), as JSON.
json FitFile(const TempDir& dir, const std::string& comparator, const std::string& path) {
  const CliResult r = RunCli({"calibrate", "--scores", WriteScoresCsv(dir, "fit.csv", 100, 4), "--comparator",
                              comparator, "--out", path, "--json"});
  EXPECT_EQ(r.status, 0) << r.err;
  return json::parse(ReadFile(path));
}

/// Cartridge-case-like dataset: two firearms, two scans each (WaveField-free:
/// the scans only need to be readable; scores do not matter here).
std::string TinyDataset(const TempDir& dir) {
  const CliResult r =
      RunCli({"synth", dir / "cc", "--firearms", "2", "--per-firearm", "2", "--size", "96", "--seed", "5"});
  EXPECT_EQ(r.status, 0) << r.err;
  return dir / "cc";
}

TEST(Calibrate, CorruptedOrWrongVersionFilesAreOneLineErrors) {
  TempDir dir;
  const std::string good = dir / "good.json";
  const json base = FitFile(dir, "cmc", good);
  const std::string data = TinyDataset(dir);
  // The good file is used by eval and compare.
  CliResult r = RunCli({"eval", "--json", "--calibration", good, data});
  ASSERT_EQ(r.status, 0) << r.err;
  const json ev = json::parse(r.out);
  EXPECT_EQ(ev["calibration"]["source"], good);
  EXPECT_EQ(ev["calibration"]["set"], base["provenance"]["set"]);
  EXPECT_TRUE(ev["cllr"].is_number());
  r = RunCli(
      {"compare", "--json", "--calibration", good, data + "/cc-f0000-s1.x3p", data + "/cc-f0000-s2.x3p"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["calibration"]["source"], good);

  const auto broken = [&](const std::string& name, const std::function<void(json&)>& edit) {
    json j = base;
    edit(j);
    WriteFile(dir / name, j.dump(2));
    return dir / name;
  };
  WriteFile(dir / "truncated.json", ReadFile(good).substr(0, 100));
  WriteFile(dir / "empty.json", "");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir / "truncated.json", "not valid JSON"},
      {dir / "empty.json", "not valid JSON"},
      {dir / "absent.json", ""},
      {broken("v2.json", [](json& j) { j["format_version"] = 2; }), "format version 2 is not supported"},
      {broken("format.json", [](json& j) { j["format"] = "something-else"; }), "not a toolmark calibration"},
      {broken("array.json",
              [](json& j) {
                j = json::array({1, 2});
              }),
       "not a toolmark calibration"},
      {broken("slope.json", [](json& j) { j["parameters"][1] = -0.5; }), "negative slope"},
      {broken("nan.json", [](json& j) { j["parameters"][0] = nullptr; }), "'parameters' has the wrong type"},
      {broken("params.json", [](json& j) { j["parameters"] = {1.0}; }), "needs 2 parameters"},
      {broken("bound.json", [](json& j) { j["max_log10_lr"] = 40; }), "bounds"},
      {broken("nolevel.json", [](json& j) { j.erase("level"); }), "has no 'level'"},
      {broken("count.json", [](json& j) { j["provenance"]["km"] = -3; }), "'km' is not a count"},
      {broken("noset.json", [](json& j) { j["provenance"]["set"] = ""; }), "no calibration set"},
      // The features a model reads: only kofn (k and n) and combined name them.
      {broken("features.json", [](json& j) { j["features"] = {"surface_ccf"}; }), "a logistic one none"},
      {broken("featuretype.json",
              [](json& j) {
                j["features"] = {1, 2};
              }),
       "'features' has the wrong type"},
      {broken("combined.json",
              [](json& j) {
                j["method"] = "combined";
                j["features"] = {"a", "b", "c"};
              }),
       "needs 4 parameters"},
  };
  for (const auto& [path, reason] : cases) {
    ExpectOneLineError(RunCli({"eval", "--calibration", path, data}), path + ": ", reason);
    ExpectOneLineError(
        RunCli({"compare", "--calibration", path, data + "/cc-f0000-s1.x3p", data + "/cc-f0000-s2.x3p"}),
        path + ": ", reason);
  }
  // A calibration for another comparator: refused by compare, and by eval
  // when no level of the dataset uses it.
  const std::string land = dir / "land.json";
  FitFile(dir, "land", land);
  ExpectOneLineError(
      RunCli({"compare", "--calibration", land, data + "/cc-f0000-s1.x3p", data + "/cc-f0000-s2.x3p"}),
      land + ": calibration is for comparator land");
  ExpectOneLineError(RunCli({"eval", "--calibration", land, data}),
                     land + ": calibration is for comparator land");
}

}  // namespace
}  // namespace toolmark::testing

namespace toolmark::testing {
namespace {

// The Netherlands Forensic Institute's real scores (../shared/datasets/nfi-scores):
// fitted on a weapon-level split's t rows, measured on its v rows.
TEST(Calibrate, ALaboratorysScoreTableIsFittedAndTestedOnItsSplit) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string file = DatasetsDir() + "/nfi-scores/breech_face_impression.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " is absent";
  const CliResult r = RunCli({"calibrate", "--scores", file, "--score-column", "cmc", "--same-source-column",
                              "hypothesis", "--trials-column", "n", "--split-column", "split1", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* field : {"cllr", "cllr_min", "misleading_ss", "misleading_ds", "bounds"})
    EXPECT_TRUE(j.contains(field)) << field;
  EXPECT_EQ(j["model"], "kofn");
  EXPECT_GT(j["km"].get<int>(), 20);
  EXPECT_LT(j["cllr"].get<double>(), 0.6);  // NFI's own kind of system: about 0.28 on this mark
  EXPECT_LE(j["cllr_min"].get<double>(), j["cllr"].get<double>() + 1e-9);
  EXPECT_LT(j["bounds"][0].get<double>(), 0);
  EXPECT_GT(j["bounds"][1].get<double>(), 0);
  // The same table and flags give the same figures.
  const json again = json::parse(RunCli({"calibrate", "--scores", file, "--score-column", "cmc",
                                         "--trials-column", "n", "--split-column", "split1", "--json"})
                                     .out);
  EXPECT_EQ(again["cllr"], j["cllr"]);
  // A column that is not there: one line naming it.
  const CliResult bad = RunCli({"calibrate", "--scores", file, "--score-column", "cells"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("no 'cells' column (--score-column)"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace toolmark::testing

namespace toolmark::testing {
namespace {

/// A count table as eval --report writes it (cmc_count of cells_compared, the firearms).
std::string WriteCountPairsCsv(const TempDir& dir) {
  std::mt19937_64 rng(9);
  std::string csv = "score,known_match,firearm_a,firearm_b,cmc_count,cells_compared\n";
  for (int f = 0; f < 20; ++f)
    for (int g = f; g < 20; ++g)
      for (int shot = 0; shot < (f == g ? 3 : 1); ++shot) {
        const int n = 20 + static_cast<int>(rng() % 20);
        std::binomial_distribution<int> k(n, f == g ? 0.6 : 0.05);
        const int count = k(rng);
        csv += std::to_string(count) + "," + (f == g ? "1" : "0") + ",F" + std::to_string(f) + ",F" +
               std::to_string(g) + "," + std::to_string(count) + "," + std::to_string(n) + "\n";
      }
  const std::string path = dir / "counts.csv";
  WriteFile(path, csv);
  return path;
}

/// eval --calibration FILE on dfsc-k004 reads k of n or the features from
/// every pair's details: a Cllr, an LR per pair in the pairs CSV, the file named.
void ExpectEvalApplies(const std::string& file, const std::string& method) {
  TempDir dir;
  const CliResult r = RunCli({"eval", DatasetsDir() + "/dfsc-k004", "--calibration", file, "--json",
                              "--report", dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_TRUE(j["cllr"].is_number()) << r.out;
  EXPECT_EQ(j["calibration"]["method"], method);
  EXPECT_EQ(j["calibration"]["source"], file);
  const std::string csv = ReadFile(dir / "pair-pairs.csv");
  EXPECT_EQ(csv.find(",,dfsc-"), std::string::npos) << "a pair without an LR";
}

TEST(Calibrate, AKOfNCalibrationFileIsHashedAndGivesCompareAnInterval) {
  TempDir dir;
  const std::string out = dir / "kofn.json";
  const CliResult r =
      RunCli({"calibrate", "--scores", WriteCountPairsCsv(dir), "--same-source-column", "known_match",
              "--score-column", "cmc_count", "--trials-column", "cells_compared", "--group-columns",
              "firearm_a,firearm_b", "--folds", "4", "--out", out, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["folds"], 4);
  EXPECT_EQ(j["fold_bounds"].size(), 4u);
  EXPECT_LT(j["cllr"].get<double>(), 0.3);
  const json file = json::parse(ReadFile(out));
  EXPECT_EQ(file["method"], "kofn");
  EXPECT_EQ(file["comparator"], "cmc");
  EXPECT_EQ(file["replicates"].size(), 200u);
  EXPECT_EQ(file["sha256"], j["out"]["sha256"]);
  // Cross-validation flags that do not fit together: one line each.
  const std::string counts = dir / "counts.csv";
  ExpectEachOneLineError(
      {"calibrate", "--scores", counts, "--same-source-column", "known_match", "--score-column", "cmc_count",
       "--trials-column", "cells_compared"},
      {{{"--folds", "4"}, "--folds and --group-columns go together"},
       {{"--group-columns", "firearm_a", "--folds", "4"}, "--group-columns takes two columns"},
       {{"--group-columns", "firearm_a,nowhere", "--folds", "4"}, "no 'nowhere' column (--group-columns)"}});
  EXPECT_EQ(file["features"], json({"cmc_count", "cells_compared"}));  // what k and n are read from
  // An edited file is refused everywhere.
  json edited = file;
  edited["parameters"][0] = file["parameters"][0].get<double>() * 2;
  WriteFile(dir / "edited.json", edited.dump(2));
  const CliResult tampered = RunCli({"compare", "a.x3p", "b.x3p", "--calibration", dir / "edited.json"});
  EXPECT_NE(tampered.status, 0);
  EXPECT_NE(tampered.err.find("does not match its sha256"), std::string::npos) << tampered.err;
  // On two real scans compare gives the LR of k of n with its 5–95% interval and the file's hash.
  TOOLMARK_REQUIRE_DATASETS();
  const std::string fadul = DatasetsDir() + "/fadul/";
  const CliResult c =
      RunCli({"compare", fadul + "fadul-1-1.x3p", fadul + "fadul-2-1.x3p", "--calibration", out, "--json"});
  ASSERT_EQ(c.status, 0) << c.err;
  const json cj = json::parse(c.out);
  ASSERT_TRUE(cj["log10_lr"].is_number()) << c.out;
  ASSERT_EQ(cj["log10_lr_interval"].size(), 2u);
  EXPECT_LE(cj["log10_lr_interval"][0].get<double>(), cj["log10_lr_interval"][1].get<double>());
  EXPECT_EQ(cj["calibration"]["sha256"], file["sha256"]);
  EXPECT_EQ(cj["calibration"]["method"], "kofn");
  ExpectEvalApplies(out, "kofn");
}

/// A table of two features per pair (as eval --report's pairs CSV has them):
/// surface_ccf and cmc_log_odds, higher for same-source pairs, with a set column.
std::string WriteFeaturePairsCsv(const TempDir& dir) {
  std::mt19937_64 rng(17);
  std::normal_distribution<double> noise(0, 1);
  std::string csv = "known_match,firearm_a,firearm_b,surface_ccf,cmc_log_odds,set\n";
  for (int f = 0; f < 16; ++f)
    for (int g = f; g < 16; ++g)
      for (int shot = 0; shot < (f == g ? 3 : 1); ++shot) {
        const bool same = f == g;
        const double ccf = (same ? 0.45 : 0.08) + 0.08 * noise(rng);
        const double odds = (same ? 0.5 : -2.0) + 0.8 * noise(rng);
        csv += std::string(same ? "1" : "0") + ",F" + std::to_string(f) + ",F" + std::to_string(g) + "," +
               std::to_string(ccf) + "," + std::to_string(odds) + "," + (f < 8 ? "one" : "two") + "\n";
      }
  const std::string path = dir / "features.csv";
  WriteFile(path, csv);
  return path;
}

TEST(Calibrate, ACombinedModelOfSeveralScoreColumnsIsCrossValidatedAndGivesCompareAnLr) {
  TempDir dir;
  const std::string table = WriteFeaturePairsCsv(dir), out = dir / "combined.json",
                    predictions = dir / "predictions.csv";
  const CliResult r =
      RunCli({"calibrate", "--scores", table, "--same-source-column", "known_match", "--score-column",
              "surface_ccf,cmc_log_odds", "--group-columns", "firearm_a,firearm_b", "--folds", "4",
              "--figures-by", "set", "--predictions", predictions, "--out", out, "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["model"], "combined");
  EXPECT_EQ(j["features"], json({"surface_ccf", "cmc_log_odds"}));
  ASSERT_EQ(j["parameters"].size(), 3u);
  EXPECT_GT(j["parameters"][1].get<double>(), 0);
  EXPECT_GT(j["parameters"][2].get<double>(), 0);
  EXPECT_LT(j["cllr"].get<double>(), 0.3);
  EXPECT_GT(j["auc"].get<double>(), 0.97);
  EXPECT_TRUE(j["margin"].is_number());
  // Per set: both sets' figures, whose counts add up to the whole.
  ASSERT_TRUE(j["by"].contains("one") && j["by"].contains("two")) << j["by"].dump();
  EXPECT_EQ(j["by"]["one"]["km"].get<int>() + j["by"]["two"]["km"].get<int>(), j["km"].get<int>());
  // Every row once in the predictions, cross-validated LRs within the fold bounds' hull.
  const std::string p = ReadFile(predictions);
  EXPECT_EQ(p.substr(0, p.find('\n')), "line,same_source,by,log10_lr,rank");
  EXPECT_EQ(LineCount(p), 1 + j["km"].get<int>() + j["knm"].get<int>());
  const json file = json::parse(ReadFile(out));
  EXPECT_EQ(file["method"], "combined");
  EXPECT_EQ(file["features"], json({"surface_ccf", "cmc_log_odds"}));
  EXPECT_EQ(file["replicates"].size(), 200u);
  EXPECT_EQ(file["sha256"], j["out"]["sha256"]);
  // Flags that do not fit a combined model: one line each.
  ExpectEachOneLineError(
      {"calibrate", "--scores", table, "--same-source-column", "known_match"},
      {{{"--score-column", "surface_ccf,", "--model", "combined"}, "--score-column: an empty column name"},
       {{"--score-column", "surface_ccf,cmc_log_odds", "--model", "kofn"}, "make a combined model"},
       {{"--score-column", "surface_ccf", "--model", "combined"}, "needs several score columns"},
       {{"--score-column", "surface_ccf,nowhere"}, "no 'nowhere' column (--score-column)"},
       {{"--score-column", "surface_ccf", "--figures-by", "nowhere"}, "no 'nowhere' column (--figures-by)"},
       {{"--score-column", "surface_ccf", "--predictions", dir / "no-such-folder/p.csv"}, "p.csv"}});
  // compare reads the features from the comparison, by name, and shows them.
  TOOLMARK_REQUIRE_DATASETS();
  const std::string fadul = DatasetsDir() + "/fadul/";
  const CliResult c =
      RunCli({"compare", fadul + "fadul-1-1.x3p", fadul + "fadul-1-2.x3p", "--calibration", out, "--json"});
  ASSERT_EQ(c.status, 0) << c.err;
  const json cj = json::parse(c.out);
  ASSERT_TRUE(cj["log10_lr"].is_number()) << c.out;
  ASSERT_EQ(cj["log10_lr_interval"].size(), 2u);
  EXPECT_GT(cj["log10_lr"].get<double>(), 0);  // a known match
  EXPECT_EQ(cj["calibration"]["method"], "combined");
  EXPECT_GT(cj["features"]["surface_ccf"].get<double>(), 0.3);
  EXPECT_TRUE(cj["features"]["cmc_log_odds"].is_number());
  const CliResult text = RunCli({"compare", fadul + "fadul-1-1.x3p", fadul + "fadul-1-2.x3p"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("behind the score: "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("surface correlation"), std::string::npos) << text.out;
  ExpectEvalApplies(out, "combined");
}

}  // namespace
}  // namespace toolmark::testing
