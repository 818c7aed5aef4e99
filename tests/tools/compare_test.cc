// toolmark compare end to end: two bullets as folders or file lists (land
// score matrix, phase, bullet score, --png), single lands and cartridge cases,
// and the one-line errors. Data: `toolmark synth` output (ground truth from
// its truth.csv is used only to check the answers).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_cli.h"
#include "test_util.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

/// Synthetic bullets: 2 barrels × 2 bullets × 6 lands, generated once.
class CompareTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const CliResult r = RunCli({"synth", "--kind", "bullet", "--firearms", "2", "--per-firearm", "2",
                                "--seed", "9", (dir_->path() / "set").string()});
    ASSERT_EQ(r.status, 0) << r.err;
    // truth.csv: file,firearm,kind,mark,bullet,land,land_id
    std::istringstream truth(ReadFile(dir_->path() / "set/truth.csv"));
    std::string line;
    std::getline(truth, line);
    while (std::getline(truth, line)) {
      std::vector<std::string> cells;
      std::stringstream row(line);
      for (std::string cell; std::getline(row, cell, ',');) cells.push_back(cell);
      land_id_[cells[0]] = cells[6];
      bullets_[cells[4]].push_back(cells[0]);
    }
    for (auto& [bullet, files] : bullets_) {
      std::sort(files.begin(), files.end());
      fs::create_directories(dir_->path() / bullet);
      for (const std::string& f : files) fs::copy_file(dir_->path() / "set" / f, dir_->path() / bullet / f);
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path Folder(const std::string& bullet) { return dir_->path() / bullet; }
  static std::vector<std::string> Files(const std::string& bullet) {
    std::vector<std::string> out;
    for (const std::string& f : bullets_.at(bullet)) out.push_back((Folder(bullet) / f).string());
    return out;
  }
  static std::string Joined(const std::vector<std::string>& files) {
    std::string out;
    for (const std::string& f : files) out += (out.empty() ? "" : ",") + f;
    return out;
  }

  static TempDir* dir_;
  static std::map<std::string, std::string> land_id_;               // file → land_id
  static std::map<std::string, std::vector<std::string>> bullets_;  // bullet → files
};
TempDir* CompareTest::dir_ = nullptr;
std::map<std::string, std::string> CompareTest::land_id_;
std::map<std::string, std::vector<std::string>> CompareTest::bullets_;

TEST_F(CompareTest, SameBarrelBulletsAlignAtTheTruePhase) {
  const CliResult r = RunCli({"compare", "--json", Folder("f0000-b1"), Folder("f0000-b2")});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["comparator"], "land");
  EXPECT_EQ(j["kind"], "bullet");
  ASSERT_EQ(j["land_scores"].size(), 6u);
  ASSERT_EQ(j["land_scores"][0].size(), 6u);
  EXPECT_DOUBLE_EQ(j["score"].get<double>(), j["bullet_score"].get<double>());
  EXPECT_GT(j["bullet_score"].get<double>(), 0.8);
  // phase: the land of B matched to land 1 of A; the truth says which it is.
  const std::string a1 = land_id_.at(bullets_.at("f0000-b1")[0]);
  const int phase = j["phase"].get<int>();
  ASSERT_GE(phase, 1);
  ASSERT_LE(phase, 6);
  EXPECT_EQ(land_id_.at(bullets_.at("f0000-b2")[static_cast<std::size_t>(phase - 1)]), a1);
  EXPECT_EQ(j["matched"].size(), 6u);
  EXPECT_GT(j["phase_gap"].get<double>(), 0.3);

  const CliResult other = RunCli({"compare", "--json", Folder("f0000-b1"), Folder("f0001-b1")});
  ASSERT_EQ(other.status, 0) << other.err;
  EXPECT_LT(json::parse(other.out)["bullet_score"].get<double>(), j["bullet_score"].get<double>() - 0.3);
}

/// A finite log10 LR within its calibration's bounds, the calibration named.
void ExpectLr(const json& j, const std::string& level) {
  ASSERT_TRUE(j["log10_lr"].is_number()) << j.dump();
  const double lr = j["log10_lr"].get<double>();
  EXPECT_TRUE(std::isfinite(lr));
  ASSERT_TRUE(j["calibration"].is_object()) << j.dump();
  EXPECT_EQ(j["calibration"]["level"], level);
  EXPECT_EQ(j["calibration"]["comparator"], j["comparator"]);
  EXPECT_GE(lr, j["calibration"]["min_log10_lr"].get<double>());
  EXPECT_LE(lr, j["calibration"]["max_log10_lr"].get<double>());
  EXPECT_NE(j["calibration"]["set"].get<std::string>().find("synthetic"), std::string::npos);
}

TEST_F(CompareTest, LikelihoodRatiosFromTheShippedCalibrations) {
  // Bullets: the bullet calibration; the same barrel supports "same source".
  const CliResult km = RunCli({"compare", "--json", Folder("f0000-b1"), Folder("f0000-b2")});
  const CliResult knm = RunCli({"compare", "--json", Folder("f0000-b1"), Folder("f0001-b1")});
  ASSERT_EQ(km.status, 0) << km.err;
  ASSERT_EQ(knm.status, 0) << knm.err;
  const json a = json::parse(km.out), b = json::parse(knm.out);
  ExpectLr(a, "bullet");
  ExpectLr(b, "bullet");
  EXPECT_GT(a["log10_lr"].get<double>(), 0);
  EXPECT_LT(b["log10_lr"].get<double>(), a["log10_lr"].get<double>());
  // Two single lands: the land-pair calibration.
  const CliResult land = RunCli({"compare", "--json", Files("f0000-b1")[0], Files("f0000-b2")[0]});
  ASSERT_EQ(land.status, 0) << land.err;
  ExpectLr(json::parse(land.out), "pair");
  // A bullet with a land missing: the bullet calibration (complete bullets) does not apply.
  const fs::path partial = dir_->path() / "partial-lr";
  fs::create_directories(partial);
  const std::vector<std::string> files = Files("f0000-b1");
  for (std::size_t i = 1; i < files.size(); ++i)
    fs::copy_file(files[i], partial / fs::path(files[i]).filename());
  const CliResult part = RunCli({"compare", "--json", partial.string(), Folder("f0000-b2")});
  ASSERT_EQ(part.status, 0) << part.err;
  const json p = json::parse(part.out);
  EXPECT_TRUE(p["log10_lr"].is_null());
  EXPECT_NE(p["log10_lr_note"].get<std::string>().find("complete bullets"), std::string::npos) << part.out;
  const CliResult text = RunCli({"compare", Folder("f0000-b1"), Folder("f0000-b2")});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("likelihood ratio: 10^"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("calibration: synthetic"), std::string::npos) << text.out;
  const CliResult text_part = RunCli({"compare", partial.string(), Folder("f0000-b2")});
  EXPECT_NE(text_part.out.find("likelihood ratio: not calibrated (the bullet calibration"), std::string::npos)
      << text_part.out;
}

TEST_F(CompareTest, FileListsGiveTheSameAnswerAsFoldersAndDrawAPlot) {
  const fs::path png = dir_->path() / "plot.png";
  const CliResult lists = RunCli({"compare", "--json", "--bullet-a", Joined(Files("f0001-b1")), "--bullet-b",
                                  Joined(Files("f0001-b2")), "--png", png.string()});
  ASSERT_EQ(lists.status, 0) << lists.err;
  const CliResult folders = RunCli({"compare", "--json", Folder("f0001-b1"), Folder("f0001-b2")});
  ASSERT_EQ(folders.status, 0) << folders.err;
  const json a = json::parse(lists.out), b = json::parse(folders.out);
  EXPECT_EQ(a["land_scores"], b["land_scores"]);
  EXPECT_EQ(a["phase"], b["phase"]);
  const std::string bytes = ReadFile(png);
  ASSERT_GT(bytes.size(), 1000u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(CompareTest, AMissingLandKeepsThePhase) {
  const fs::path partial = dir_->path() / "partial";
  fs::create_directories(partial);
  const std::vector<std::string> files = Files("f0000-b1");
  for (std::size_t i = 0; i < files.size(); ++i)
    if (i != 2) fs::copy_file(files[i], partial / fs::path(files[i]).filename());
  const CliResult full = RunCli({"compare", "--json", Folder("f0000-b1"), Folder("f0000-b2")});
  const CliResult r = RunCli({"compare", "--json", partial.string(), Folder("f0000-b2")});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out), f = json::parse(full.out);
  EXPECT_EQ(j["land_scores"].size(), 5u);
  EXPECT_EQ(j["lands"], 6);
  EXPECT_EQ(j["phase"], f["phase"]);
  EXPECT_EQ(j["lands_a"][2]["land"], 4);  // land 3 is the gap
  EXPECT_GT(j["bullet_score"].get<double>(), 0.8);
}

TEST_F(CompareTest, TwoLandsAndTwoCartridgeCases) {
  const std::vector<std::string> a = Files("f0000-b1"), b = Files("f0000-b2");
  const CliResult r = RunCli({"compare", "--json", a[0], b[0]});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["kind"], "land");
  EXPECT_EQ(j["land_scores"].size(), 1u);
  EXPECT_TRUE(j["matched"][0]["features"].contains("ccf"));

  const CliResult cc = RunCli({"synth", (dir_->path() / "cc").string(), "--firearms", "2", "--per-firearm",
                               "2", "--size", "96", "--seed", "3"});
  ASSERT_EQ(cc.status, 0) << cc.err;
  const CliResult c = RunCli({"compare", "--json", (dir_->path() / "cc/cc-f0000-s1.x3p").string(),
                              (dir_->path() / "cc/cc-f0001-s1.x3p").string()});
  ASSERT_EQ(c.status, 0) << c.err;
  const json k = json::parse(c.out);
  EXPECT_EQ(k["kind"], "cartridge_case");
  EXPECT_EQ(k["comparator"], "cmc");
  EXPECT_TRUE(k.contains("rotation_deg"));
  EXPECT_EQ(k["translation_um"].size(), 2u);
  // No cartridge-case calibration is shipped: no LR, and the reason.
  EXPECT_TRUE(k["log10_lr"].is_null()) << c.out;
  EXPECT_FALSE(k["log10_lr_note"].get<std::string>().empty());
  // The item score: the breech face's CMC count plus the firing pin's
  // congruent sectors (synthetic scans have a firing-pin impression).
  ASSERT_TRUE(k["firing_pin"]["compared"].get<bool>()) << c.out;
  EXPECT_EQ(k["score"].get<int>(),
            k["cmc_count"].get<int>() + k["firing_pin"]["congruent_sectors"].get<int>());
  EXPECT_TRUE(k["roi"]["a"]["firing_pin_impression"]["present"].get<bool>());
  EXPECT_GT(k["forward"]["cells"].size(), 0u);
  // The same firearm's two cartridge cases share far more congruent cells.
  const CliResult km = RunCli({"compare", "--json", (dir_->path() / "cc/cc-f0000-s1.x3p").string(),
                               (dir_->path() / "cc/cc-f0000-s2.x3p").string()});
  ASSERT_EQ(km.status, 0) << km.err;
  const json m = json::parse(km.out);
  EXPECT_TRUE(m["identification"].get<bool>()) << km.out;
  EXPECT_GT(m["cmc_count"].get<int>(), k["cmc_count"].get<int>() + 10) << km.out << c.out;
  EXPECT_GT(m["firing_pin"]["congruent_sectors"].get<int>(), k["firing_pin"]["congruent_sectors"].get<int>())
      << km.out << c.out;
  EXPECT_TRUE(m["log10_lr"].is_null());
  // Another comparator without a shipped calibration: null, and the reason.
  const CliResult base =
      RunCli({"compare", "--json", "--comparator", "baseline", (dir_->path() / "cc/cc-f0000-s1.x3p").string(),
              (dir_->path() / "cc/cc-f0000-s2.x3p").string()});
  ASSERT_EQ(base.status, 0) << base.err;
  const json bj = json::parse(base.out);
  EXPECT_TRUE(bj["log10_lr"].is_null());
  EXPECT_TRUE(bj["calibration"].is_null());
  EXPECT_NE(bj["log10_lr_note"].get<std::string>().find("no calibration for comparator baseline"),
            std::string::npos);
  const fs::path png = dir_->path() / "cmc.png";
  const CliResult p = RunCli({"compare", (dir_->path() / "cc/cc-f0000-s1.x3p").string(),
                              (dir_->path() / "cc/cc-f0001-s1.x3p").string(), "--png", png.string()});
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(ReadFile(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(CompareTest, BadInputIsOneLineAndNonZero) {
  const fs::path empty = dir_->path() / "empty";
  fs::create_directories(empty);
  const std::vector<std::vector<std::string>> cases = {
      {"compare", Folder("f0000-b1").string(), Files("f0000-b2")[0]},           // folder vs file
      {"compare", empty.string(), Folder("f0000-b2").string()},                 // no scans
      {"compare", "--bullet-a", Joined(Files("f0000-b1"))},                     // one bullet
      {"compare", (dir_->path() / "nope.x3p").string(), Files("f0000-b2")[0]},  // missing file
      {"compare", Folder("f0000-b1").string(), Folder("f0000-b2").string(), "--lands", "3"},
  };
  for (const auto& args : cases) {
    const CliResult r = RunCli(args);
    EXPECT_NE(r.status, 0) << args[1];
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("toolmark: ", 0), 0u) << r.err;
  }
}

}  // namespace
}  // namespace toolmark::testing
