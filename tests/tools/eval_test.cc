// toolmark eval end to end on tiny synthetic datasets written as X3P files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "run_cli.h"
#include "test_util.h"
#include "toolmark/engine/surface.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

/// A random smooth field: a sum of plane waves, wavelengths 60–250 µm,
/// amplitude in µm. Evaluated at any (x, y) in µm, so shifted copies are exact.
class WaveField {
 public:
  explicit WaveField(unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    for (int k = 0; k < 24; ++k) {
      const double wavelength = 60 + 190 * u(rng), angle = 2 * M_PI * u(rng);
      waves_.push_back({2 * M_PI / wavelength * std::cos(angle), 2 * M_PI / wavelength * std::sin(angle),
                        2 * M_PI * u(rng), 0.5 + u(rng)});
    }
  }
  double operator()(double x, double y) const {
    double z = 0;
    for (const Wave& w : waves_) z += w.amp * std::sin(w.kx * x + w.ky * y + w.phase);
    return z;
  }

 private:
  struct Wave {
    double kx, ky, phase, amp;
  };
  std::vector<Wave> waves_;
};

/// A cols × rows surface at spacing_um of field(x + dx, y + dy) plus Gaussian noise (σ in µm).
Surface Sample(const WaveField& field, int cols, int rows, double spacing_um, double dx, double dy,
               double noise, unsigned noise_seed) {
  std::mt19937 rng(noise_seed);
  std::normal_distribution<double> n(0, 1);
  Surface s;
  s.values.create(rows, cols, CV_64FC1);
  s.spacing_x_um = s.spacing_y_um = spacing_um;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      s.values.at<double>(r, c) = field(c * spacing_um + dx, r * spacing_um + dy) + noise * n(rng);
    }
  }
  return s;
}

/// Cartridge cases: a1/a2 the same firearm (a2 = a1 shifted by 75 µm and
/// noised), b, c, d each their own firearm.
void WriteCartridgeDataset(const TempDir& dir) {
  const WaveField fa(1), fb(2), fc(3), fd(4);
  ingest::WriteX3pFile(Sample(fa, 64, 64, 12.5, 0, 0, 0.05, 11), dir / "a1.x3p");
  ingest::WriteX3pFile(Sample(fa, 64, 64, 12.5, 75, 50, 0.05, 12), dir / "a2.x3p");
  ingest::WriteX3pFile(Sample(fb, 64, 64, 12.5, 0, 0, 0.05, 13), dir / "b.x3p");
  ingest::WriteX3pFile(Sample(fc, 64, 64, 12.5, 0, 0, 0.05, 14), dir / "c.x3p");
  ingest::WriteX3pFile(Sample(fd, 64, 64, 12.5, 0, 0, 0.05, 15), dir / "d.x3p");
  WriteFile(dir / "truth.csv",
            "file,firearm,kind,mark\n"
            "a1.x3p,F1,cartridge_case,breech_face\n"
            "a2.x3p,F1,cartridge_case,breech_face\n"
            "b.x3p,F2,cartridge_case,breech_face\n"
            "c.x3p,F3,cartridge_case,breech_face\n"
            "d.x3p,F4,cartridge_case,breech_face\n");
}

void ExpectContractFields(const json& j) {
  for (const char* f :
       {"comparator", "level", "pairs", "km_pairs", "knm_pairs", "auc", "eer", "fpr_at_tpr95", "fpr_at_tpr99",
        "margin", "rank1", "rank10", "cllr", "queries", "sampled", "min_cllr", "calibration"}) {
    EXPECT_TRUE(j.contains(f)) << f;
  }
}

/// A level scored with a shipped calibration: a finite Cllr, at least the
/// min Cllr, and the calibration's (synthetic) set named.
void ExpectCalibrated(const json& j) {
  ASSERT_TRUE(j["cllr"].is_number()) << j.dump();
  EXPECT_GE(j["cllr"].get<double>(), 0);
  EXPECT_TRUE(std::isfinite(j["cllr"].get<double>()));
  ASSERT_TRUE(j["min_cllr"].is_number()) << j.dump();
  EXPECT_LE(j["min_cllr"].get<double>(), j["cllr"].get<double>() + 1e-12);
  ASSERT_TRUE(j["calibration"].is_object()) << j.dump();
  EXPECT_EQ(j["calibration"]["source"], "default");
  EXPECT_EQ(j["calibration"]["comparator"], j["comparator"]);
  EXPECT_NE(j["calibration"]["set"].get<std::string>().find("synthetic"), std::string::npos);
}

TEST(Eval, CartridgeCasesJsonAndReport) {
  TempDir dir;
  WriteCartridgeDataset(dir);
  const std::string report = dir / "report";
  const CliResult r = RunCli({"eval", "--json", "--report", report, dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_TRUE(j.is_object()) << r.out;
  ExpectContractFields(j);
  EXPECT_EQ(j["comparator"], "cmc");
  EXPECT_EQ(j["level"], "pair");
  EXPECT_EQ(j["pairs"], 10);
  EXPECT_EQ(j["km_pairs"], 1);
  EXPECT_EQ(j["knm_pairs"], 9);
  EXPECT_EQ(j["queries"], 2);
  EXPECT_EQ(j["sampled"], false);
  // The shifted, noised copy must beat every pair of unrelated surfaces.
  EXPECT_DOUBLE_EQ(j["auc"].get<double>(), 1.0) << r.out;
  EXPECT_GT(j["margin"].get<double>(), 0) << r.out;
  EXPECT_DOUBLE_EQ(j["rank1"].get<double>(), 1.0);
  // No calibration is shipped for cartridge cases (docs/calibration.md).
  EXPECT_TRUE(j["cllr"].is_null());
  EXPECT_TRUE(j["calibration"].is_null());
  EXPECT_TRUE(j["min_cllr"].is_number());
  for (const char* f :
       {"pair-pairs.csv", "pair-metrics.json", "pair-report.html", "pair-hist.png", "pair-roc.png"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(report) / f)) << f;
  }
  const std::string html = ReadFile(report + "/pair-report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Cllr (bits)"), std::string::npos);
  EXPECT_NE(html.find("not calibrated"), std::string::npos);
  EXPECT_EQ(html.find("http://www.w3.org/2000/svg\""), html.find("http://"));  // no external resources
  const std::string csv = ReadFile(report + "/pair-pairs.csv");
  EXPECT_EQ(
      csv.rfind(
          "file_a,file_b,score,known_match,rotation_deg,shift_x_um,shift_y_um,log10_lr,firearm_a,firearm_b",
          0),
      0u);
  EXPECT_EQ(LineCount(csv), 11);
  EXPECT_EQ(json::parse(ReadFile(report + "/pair-metrics.json"))["km_pairs"], 1);
  EXPECT_EQ(json::parse(ReadFile(report + "/pair-metrics.json"))["cllr"], j["cllr"]);
  // Without a calibration the log10 LR column stays empty.
  const std::size_t row_start = csv.find('\n') + 1;
  const std::string first_row = csv.substr(row_start, csv.find('\n', row_start) - row_start);
  std::vector<std::string> fields;
  for (std::size_t at = 0; at != std::string::npos;) {
    const std::size_t comma = first_row.find(',', at);
    fields.push_back(first_row.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    at = comma == std::string::npos ? comma : comma + 1;
  }
  ASSERT_GE(fields.size(), 10u) << first_row;
  EXPECT_TRUE(fields[7].empty()) << first_row;
  EXPECT_FALSE(fields[8].empty()) << first_row;  // the firearms (ground truth), for cross-validation
  EXPECT_FALSE(fields[9].empty()) << first_row;
}

TEST(Eval, ADetailOfTheComparisonCanBeRankedInsteadOfTheScore) {
  TempDir dir;
  WriteCartridgeDataset(dir);
  const CliResult r = RunCli({"eval", "--json", "--score-detail", "surface_ccf", dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["score"], "surface_ccf");
  EXPECT_DOUBLE_EQ(j["auc"].get<double>(), 1.0) << r.out;  // the shifted copy correlates, the others do not
  EXPECT_GT(j["margin"].get<double>(), 0.1) << r.out;
  EXPECT_LT(j["margin"].get<double>(), 1.0) << r.out;  // a correlation, not a count
  EXPECT_TRUE(j["calibration"].is_null());
  const CliResult plain = RunCli({"eval", "--json", dir.path().string()});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(json::parse(plain.out)["score"], "score");
  // A detail the comparator does not have, or a calibration with a detail: one line each.
  const CliResult unknown = RunCli({"eval", "--score-detail", "nowhere", dir.path().string()});
  EXPECT_NE(unknown.status, 0);
  EXPECT_EQ(LineCount(unknown.err), 1) << unknown.err;
  EXPECT_NE(unknown.err.find("has no detail 'nowhere'"), std::string::npos) << unknown.err;
  const CliResult calibrated =
      RunCli({"eval", "--score-detail", "surface_ccf", "--calibration", dir / "x.json", dir.path().string()});
  EXPECT_NE(calibrated.status, 0);
  EXPECT_EQ(LineCount(calibrated.err), 1) << calibrated.err;
  EXPECT_NE(calibrated.err.find("no calibration applies"), std::string::npos) << calibrated.err;
}

TEST(Eval, ThreadCountDoesNotChangeResults) {
  TempDir dir;
  WriteCartridgeDataset(dir);
  const CliResult r1 = RunCli({"eval", "--threads", "1", "--report", dir / "r1", dir.path().string()});
  const CliResult r2 = RunCli({"eval", "--threads", "2", "--report", dir / "r2", dir.path().string()});
  ASSERT_EQ(r1.status, 0) << r1.err;
  ASSERT_EQ(r2.status, 0) << r2.err;
  EXPECT_EQ(ReadFile(dir / "r1/pair-pairs.csv"), ReadFile(dir / "r2/pair-pairs.csv"));
  EXPECT_NE(r1.out.find("AUC"), std::string::npos);
}

TEST(Eval, SamplingKeepsKnownMatchesAndIsDeterministic) {
  TempDir dir;
  WriteCartridgeDataset(dir);
  const CliResult r =
      RunCli({"eval", "--json", "--max-pairs", "4", "--report", dir / "s1", dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["sampled"], true);
  EXPECT_EQ(j["pairs"], 4);
  EXPECT_EQ(j["km_pairs"], 1);
  EXPECT_EQ(j["candidate_pairs"], 10);
  const CliResult again = RunCli(
      {"eval", "--json", "--max-pairs", "4", "--threads", "1", "--report", dir / "s2", dir.path().string()});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(ReadFile(dir / "s1/pair-pairs.csv"), ReadFile(dir / "s2/pair-pairs.csv"));
}

TEST(Eval, BulletLandsGiveLandAndBulletLevels) {
  TempDir dir;
  // Striae: profiles along x only. Lands with the same land_id share a profile.
  const WaveField p1(21), p2(22), p3(23), p4(24);
  const auto land = [&](const WaveField& f, double dx, unsigned seed, const std::string& name) {
    Surface s = Sample(f, 400, 12, 1.5625, dx, 0, 0.02, seed);                    // 625 µm across
    for (int r = 1; r < s.SizeY(); ++r) s.values.row(0).copyTo(s.values.row(r));  // constant along y
    ingest::WriteX3pFile(s, dir / name);
  };
  land(p1, 0, 31, "b1l1.x3p");
  land(p2, 0, 32, "b1l2.x3p");
  land(p2, 6, 33, "b2l1.x3p");  // bullet 2 is rotated by one land
  land(p1, 6, 34, "b2l2.x3p");
  land(p3, 0, 35, "b3l1.x3p");
  land(p4, 0, 36, "b3l2.x3p");
  WriteFile(dir / "truth.csv",
            "file,firearm,kind,mark,bullet,land,land_id\n"
            "b1l1.x3p,G1,bullet,land,B1,1,A\n"
            "b1l2.x3p,G1,bullet,land,B1,2,B\n"
            "b2l1.x3p,G1,bullet,land,B2,1,B\n"
            "b2l2.x3p,G1,bullet,land,B2,2,A\n"
            "b3l1.x3p,G2,bullet,land,B3,1,C\n"
            "b3l2.x3p,G2,bullet,land,B3,2,D\n");
  const CliResult r = RunCli({"eval", "--json", dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_TRUE(j.is_array()) << r.out;
  ASSERT_EQ(j.size(), 2u);
  ExpectContractFields(j[0]);
  ExpectContractFields(j[1]);
  EXPECT_EQ(j[0]["level"], "land");
  EXPECT_EQ(j[0]["comparator"], "land");
  EXPECT_EQ(j[0]["pairs"], 15);
  EXPECT_EQ(j[0]["km_pairs"], 2);
  EXPECT_EQ(j[0]["auc"], 1.0) << j[0].dump();
  ASSERT_TRUE(j[0]["embedding_recall10"].is_number()) << j[0].dump();
  EXPECT_EQ(j[0]["embedding_recall10"], 1.0);  // 6 lands: every partner is in the top 10
  EXPECT_EQ(j[1]["level"], "bullet");
  EXPECT_EQ(j[1]["pairs"], 3);
  EXPECT_EQ(j[1]["km_pairs"], 1);
  EXPECT_EQ(j[1]["auc"], 1.0) << j[1].dump();
  ExpectCalibrated(j[0]);
  EXPECT_EQ(j[0]["calibration"]["level"], "pair");  // land pairs: one scan against another
  ExpectCalibrated(j[1]);
  EXPECT_EQ(j[1]["calibration"]["level"], "bullet");
}

// End to end from the CLI: `toolmark synth` then `toolmark eval` on its output.
TEST(Eval, SynthThenEvalEndToEnd) {
  TempDir dir;
  CliResult r =
      RunCli({"synth", dir / "cc", "--firearms", "4", "--per-firearm", "2", "--size", "96", "--seed", "5"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = RunCli({"synth", dir / "cc", "--firearms", "1"});  // never writes into a non-empty folder
  EXPECT_NE(r.status, 0);
  r = RunCli({"eval", "--json", "--report", dir / "rep", dir / "cc"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json cc = json::parse(r.out);
  EXPECT_EQ(cc["level"], "pair");
  EXPECT_EQ(cc["comparator"], "cmc");
  EXPECT_EQ(cc["pairs"], 28);
  EXPECT_EQ(cc["km_pairs"], 4);
  EXPECT_GE(cc["auc"].get<double>(), 0.0);
  EXPECT_LE(cc["auc"].get<double>(), 1.0);
  EXPECT_TRUE(cc["cllr"].is_null());  // no cartridge-case calibration is shipped
  EXPECT_TRUE(fs::exists(dir.path() / "rep/pair-report.html"));

  ASSERT_EQ(RunCli({"synth", dir / "bu", "--kind", "bullet", "--firearms", "2", "--per-firearm", "2",
                    "--size", "200", "--lands", "4"})
                .status,
            0);
  r = RunCli({"eval", "--json", dir / "bu"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json levels = json::parse(r.out);
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels[0]["level"], "land");
  EXPECT_EQ(levels[0]["pairs"], 16 * 15 / 2);
  EXPECT_EQ(levels[0]["km_pairs"], 8);  // 8 barrel lands, each on two bullets
  EXPECT_EQ(levels[1]["level"], "bullet");
  EXPECT_EQ(levels[1]["km_pairs"], 2);
}

TEST(Eval, TextNamesTheCalibrationOrSaysNotCalibrated) {
  TempDir dir;
  WriteCartridgeDataset(dir);
  const CliResult r = RunCli({"eval", dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Cllr: not calibrated"), std::string::npos) << r.out;  // cmc: none shipped
  // The baseline comparator has no calibration: Cllr null, min Cllr still given.
  const CliResult b = RunCli({"eval", "--comparator", "baseline", dir.path().string()});
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_NE(b.out.find("Cllr: not calibrated"), std::string::npos) << b.out;
  const CliResult bj = RunCli({"eval", "--json", "--comparator", "baseline", dir.path().string()});
  ASSERT_EQ(bj.status, 0) << bj.err;
  const json j = json::parse(bj.out);
  EXPECT_TRUE(j["cllr"].is_null());
  EXPECT_TRUE(j["calibration"].is_null());
  EXPECT_TRUE(j["min_cllr"].is_number());
}

TEST(Eval, MissingTruthIsAOneLineError) {
  TempDir dir;
  const CliResult r = RunCli({"eval", dir.path().string()});
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_EQ(r.err, "toolmark: " + dir.path().string() + ": no truth.csv (see datasets/README.md)\n");
}

TEST(Eval, UnreadableScanIsSkippedAndNamed) {
  TempDir dir;
  WriteCartridgeDataset(dir);
  WriteFile(dir / "c.x3p", "not a scan");
  const CliResult r = RunCli({"eval", "--json", dir.path().string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("c.x3p"), std::string::npos) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["items"], 4);
  EXPECT_EQ(j["pairs"], 6);  // the 4 pairs with c.x3p are gone, and counted
  EXPECT_EQ(j["skipped_pairs"], 4);
  EXPECT_EQ(j["skipped_km_pairs"], 0);
  ASSERT_EQ(j["skipped_files"].size(), 1u);
  EXPECT_EQ(j["skipped_files"][0]["file"], "c.x3p");
  EXPECT_FALSE(j["notes"].empty());
  // With fewer than two usable scans there is nothing to evaluate: an error.
  for (const char* f : {"a1.x3p", "a2.x3p", "b.x3p"}) WriteFile(dir / f, "not a scan either");
  const CliResult none = RunCli({"eval", dir.path().string()});
  EXPECT_NE(none.status, 0);
  EXPECT_NE(none.err.find("fewer than two usable scans"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace toolmark::testing
