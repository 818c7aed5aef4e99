// The toolmark command line, run as a user would: contract fields, one-line
// errors, exit codes, and bad input that leaves the database unchanged.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "run_cli.h"
#include "test_util.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/scan.h"
#include "toolmark/ingest/x3p.h"
#include "x3p_builder.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

/// A small scan that intake accepts as a cartridge case (160 × 120 points
/// at 3.125 µm of a smooth, direction-free texture) or, with `land`, as an
/// upright bullet land (striae along y, 640 × 120 points).
std::string WriteSampleX3p(const TempDir& dir, const std::string& name, int seed, bool land = false) {
  Surface s;
  const int cols = land ? 640 : 160, rows = 120;
  s.values.create(rows, cols, CV_64FC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      s.values.at<double>(r, c) =
          land
              ? std::sin(0.37 * c * seed) + 0.5 * std::sin(0.113 * c + seed) + 0.02 * std::sin(0.5 * r)
              : std::sin(0.21 * c + 0.05 * seed) * std::cos(0.17 * r * seed) + 0.3 * std::sin(0.07 * (r + c));
  s.spacing_x_um = s.spacing_y_um = 3.125;
  const std::string path = dir / name;
  ingest::WriteX3pFile(s, path);
  return path;
}

/// Everything that makes a database's state: the catalog listing and every array file.
std::string Snapshot(const std::string& db) {
  std::string state = RunCli({"list", "--json", "--db", db}).out;
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(db) / "arrays")) {
    if (e.is_regular_file()) files[e.path().string()] = base::Sha256Hex(ReadFile(e.path().string()));
  }
  for (const auto& [k, v] : files) state += k + " " + v + "\n";
  return state;
}

void ExpectOneLineError(const CliResult& r, const std::string& starts_with) {
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("toolmark: " + starts_with, 0), 0u) << r.err;
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const char* sub : {"info", "ingest", "list", "verify", "export-scan", "demo", "synth", "eval",
                          "compare", "train-land", "search", "correlate", "bench"}) {
    const CliResult r = RunCli({sub, "--help"});
    EXPECT_EQ(r.status, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
  EXPECT_EQ(RunCli({"--version"}).status, 0);
}

TEST(Cli, UsageErrorsAreOneLine) {
  ExpectOneLineError(RunCli({}), "");
  ExpectOneLineError(RunCli({"frobnicate"}), "");
  ExpectOneLineError(RunCli({"ingest", "--kind", "rifle", "x.x3p"}), "");
  ExpectOneLineError(RunCli({"ingest", "--mark", "Breech Face", "x.x3p"}), "");
  ExpectOneLineError(RunCli({"list", "--db", "/nonexistent/db"}), "/nonexistent/db: no Toolmark database");
}

TEST(Cli, InfoJsonHasTheContractFields) {
  TempDir dir;
  const std::string file = WriteSampleX3p(dir, "a.x3p", 1);
  const CliResult r = RunCli({"info", "--json", file});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  for (const char* field : {"file", "format", "size_x", "size_y", "spacing_x_um", "spacing_y_um",
                            "valid_fraction", "checksum_ok"}) {
    EXPECT_TRUE(j[0].contains(field)) << field;
  }
  EXPECT_EQ(j[0]["size_x"], 160);
  EXPECT_EQ(j[0]["size_y"], 120);
  EXPECT_EQ(j[0]["kind"], "cartridge_case");
  EXPECT_TRUE(j[0]["orientation"].is_null());
  EXPECT_TRUE(j[0]["quality"]["findings"].is_array());
  EXPECT_DOUBLE_EQ(j[0]["spacing_x_um"].get<double>(), 3.125);
  EXPECT_EQ(j[0]["checksum_ok"], true);
}

TEST(Cli, InfoOnSharedFadulScans) {
  TOOLMARK_REQUIRE_DATASETS();
  std::vector<std::string> args = {"info", "--json"};
  for (const auto& e : fs::directory_iterator(DatasetsDir() + "/fadul")) {
    if (e.path().extension() == ".x3p") args.push_back(e.path().string());
  }
  const CliResult r = RunCli(args);
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 40u);
  for (const auto& f : j) {
    EXPECT_DOUBLE_EQ(f["spacing_x_um"].get<double>(), 6.25) << f["file"];
    EXPECT_DOUBLE_EQ(f["spacing_y_um"].get<double>(), 6.25) << f["file"];
    EXPECT_EQ(f["checksum_ok"], true) << f["file"];
    if (f["file"].get<std::string>().find("fadul-1-1.x3p") != std::string::npos) {
      EXPECT_EQ(f["size_x"], 545);
      EXPECT_EQ(f["size_y"], 545);
    }
  }
}

TEST(Cli, IngestAllSharedDatasetsThenListShowsEveryItem) {
  TOOLMARK_REQUIRE_DATASETS();
  TempDir dir;
  const std::string db = dir / "db", root = DatasetsDir();
  for (const char* set : {"fadul", "hamby44"}) {
    const CliResult r = RunCli({"ingest", "--db", db, "--manifest", root + "/" + set + "/truth.csv", "--case",
                                std::string("study-") + set, "--jurisdiction", "US"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  CliResult r = RunCli({"ingest", "--db", db, "--manifest", root + "/images2d/truth.csv", "--case", "nist-2d",
                        "--spacing-um", "3.5", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["accepted"].size(), 4u);

  const json items = json::parse(RunCli({"list", "--json", "--db", db}).out);
  ASSERT_EQ(items.size(), 71u);
  std::map<std::string, json> by_file;
  for (const auto& it : items) {
    for (const char* field :
         {"id", "file", "sha256", "case", "item", "jurisdiction", "kind", "role", "marks"}) {
      EXPECT_TRUE(it.contains(field)) << field;
    }
    by_file[it["file"].get<std::string>()] = it;
  }
  const json& land = by_file.at("hamby44-barrel1-bullet2-land3.x3p");
  EXPECT_EQ(land["kind"], "bullet");
  EXPECT_EQ(land["item"], "B1-2");
  EXPECT_EQ(land["marks"], json::array({"land3"}));
  EXPECT_EQ(land["firearm"]["truth"], "barrel1");
  EXPECT_EQ(land["case"], "study-hamby44");
  EXPECT_EQ(land["jurisdiction"], "US");
  EXPECT_EQ(land["size_x"], 1515);
  const json& fadul = by_file.at("fadul-1-1.x3p");
  EXPECT_EQ(fadul["kind"], "cartridge_case");
  EXPECT_EQ(fadul["marks"], json::array({"breech_face"}));
  EXPECT_EQ(fadul["instrument"], "NanoFocus usurf");
  EXPECT_EQ(fadul["sha256"], base::Sha256Hex(ReadFile(root + "/fadul/fadul-1-1.x3p")));
  const json& image = by_file.at("nbide-R-BF-118.png");
  EXPECT_EQ(image["surface"], "intensity");
  EXPECT_DOUBLE_EQ(image["spacing_x_um"].get<double>(), 3.5);

  // Ingesting the same files again duplicates nothing.
  r = RunCli({"ingest", "--db", db, "--manifest", root + "/fadul/truth.csv", "--case", "again"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("0 accepted, 40 duplicate, 0 rejected"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(RunCli({"list", "--json", "--db", db}).out).size(), 71u);
  EXPECT_EQ(RunCli({"verify", "--db", db}).status, 0);
}

TEST(Cli, ImagesWithoutSpacingAreRejectedWithTheFlagNamed) {
  TempDir dir;
  cv::Mat img(20, 30, CV_8UC1, cv::Scalar(128));
  cv::imwrite(dir / "ring.png", img);
  const CliResult r =
      RunCli({"ingest", "--db", dir / "db", "--case", "c", "--kind", "cartridge_case", dir / "ring.png"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--spacing-um"), std::string::npos) << r.err;
  EXPECT_EQ(LineCount(r.err), 1);
}

TEST(Cli, CorruptInputsGetOneLineErrorsAndLeaveTheDatabaseUnchanged) {
  TempDir dir;
  const std::string db = dir / "db";
  const std::string good = WriteSampleX3p(dir, "good.x3p", 2);
  ASSERT_EQ(RunCli({"ingest", "--db", db, "--case", "c", "--kind", "cartridge_case", good}).status, 0);
  const std::string before = Snapshot(db);
  int tried = 0;
  for (const auto& [name, bytes] : CorruptX3pCorpus()) {
    const std::string path = dir / (name + ".x3p");
    WriteFile(path, bytes);
    try {
      ingest::ReadScan(path, {});
      continue;  // a flipped byte that left a readable file is not a corrupt input
    } catch (const Error&) {
    }
    const CliResult r = RunCli({"ingest", "--db", db, "--case", "c", "--kind", "cartridge_case", path});
    ExpectOneLineError(r, path + ": ");
    ++tried;
  }
  for (const char* name : {"bad.png", "bad.ply", "bad.pcd", "bad.tif"}) {
    WriteFile(dir / name, "\x89PNG\r\n\x1a\n truncated garbage");
    ExpectOneLineError(
        RunCli({"ingest", "--db", db, "--case", "c", "--kind", "bullet", "--spacing-um", "2", dir / name}),
        dir / name + ": ");
    ++tried;
  }
  // Real images, damaged the ways files get damaged: libpng and libjpeg must
  // not add their own lines to the one-line error.
  cv::Mat gradient(64, 80, CV_8UC1);
  for (int i = 0; i < gradient.rows * gradient.cols; ++i)
    gradient.data[i] = static_cast<unsigned char>(i * 7);
  for (const char* ext : {".png", ".jpg", ".tif"}) {
    std::vector<unsigned char> encoded;
    cv::imencode(ext, gradient, encoded);
    const std::string bytes(encoded.begin(), encoded.end());
    std::string flipped = bytes;
    for (std::size_t i = 60; i < flipped.size(); i += 13) flipped[i] = static_cast<char>(flipped[i] ^ 0x55);
    for (const auto& [name, content] :
         {std::pair{"trunc", bytes.substr(0, bytes.size() / 2)}, std::pair{"flip", flipped}}) {
      const std::string path = dir / (std::string(name) + ext);
      WriteFile(path, content);
      const CliResult r = RunCli(
          {"ingest", "--db", db, "--case", "c", "--kind", "cartridge_case", "--spacing-um", "2", path});
      if (r.status == 0) continue;  // a flip that still decodes is no corrupt input
      ExpectOneLineError(r, path + ": ");
      ++tried;
    }
  }
  EXPECT_GT(tried, 44);
  EXPECT_EQ(Snapshot(db), before);
  // Nothing accepted into a database that did not exist: no database is created.
  ExpectOneLineError(
      RunCli({"ingest", "--db", dir / "new-db", "--case", "c", "--kind", "bullet", dir / "bad.png"}),
      dir / "bad.png: ");
  EXPECT_FALSE(fs::exists(dir.path() / "new-db"));
  EXPECT_EQ(RunCli({"verify", "--db", db}).status, 0);
}

TEST(Cli, MixedBatchKeepsTheGoodFilesAndExitsNonZero) {
  TempDir dir;
  fs::create_directories(dir.path() / "in");
  WriteSampleX3p(dir, "in/a.x3p", 3);
  WriteSampleX3p(dir, "in/b.x3p", 4);
  WriteFile(dir / "in/c.x3p", "garbage");
  const CliResult r = RunCli({"ingest", "--db", dir / "db", "--case", "K1", "--kind", "cartridge_case",
                              "--role", "reference", "--caliber", "9mm", dir / "in"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("2 accepted, 0 duplicate, 1 rejected"), std::string::npos) << r.out;
  ExpectOneLineError(r, dir / "in/c.x3p: ");
  const json items = json::parse(RunCli({"list", "--json", "--db", dir / "db"}).out);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["role"], "reference");
  EXPECT_EQ(items[0]["class"]["caliber"], "9mm");
  EXPECT_EQ(items[0]["item"], "a");
}

TEST(Cli, RecursiveIngestAndManifestRowsWithSubfolders) {
  TempDir dir;
  fs::create_directories(dir.path() / "in/case1/bullet1");
  WriteSampleX3p(dir, "in/top.x3p", 8);
  WriteSampleX3p(dir, "in/case1/bullet1/land1.x3p", 9, true);
  WriteSampleX3p(dir, "in/case1/land1.x3p", 10, true);  // same name, other folder
  WriteFile(dir / "in/manifest.csv",
            "file,case,kind,item\ntop.x3p,K1,cartridge_case,T\ncase1/bullet1/land1.x3p,K2,bullet,B1\n"
            "case1/land1.x3p,K3,bullet,B0\n");
  CliResult r =
      RunCli({"ingest", "--db", dir / "flat", "--case", "c", "--kind", "cartridge_case", dir / "in"});
  EXPECT_NE(r.out.find("1 accepted"), std::string::npos) << r.out;
  r = RunCli({"ingest", "--db", dir / "deep", "-r", "--manifest", dir / "in/manifest.csv", dir / "in"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::map<std::string, std::string> case_of_item;
  for (const auto& it : json::parse(RunCli({"list", "--json", "--db", dir / "deep"}).out)) {
    case_of_item[it["item"].get<std::string>()] = it["case"].get<std::string>();
  }
  EXPECT_EQ(case_of_item, (std::map<std::string, std::string>{{"T", "K1"}, {"B1", "K2"}, {"B0", "K3"}}));
}

TEST(Cli, MissingMetadataAndManifestProblemsAreReported) {
  TempDir dir;
  const std::string file = WriteSampleX3p(dir, "a.x3p", 5);
  ExpectOneLineError(RunCli({"ingest", "--db", dir / "db", "--kind", "bullet", file}), file + ": no case id");
  ExpectOneLineError(RunCli({"ingest", "--db", dir / "db", "--case", "c", file}), file + ": kind unknown");
  WriteFile(dir / "m.csv", "name,kind\na.x3p,bullet\n");
  ExpectOneLineError(RunCli({"ingest", "--db", dir / "db", "--manifest", dir / "m.csv", "--case", "c"}),
                     dir / "m.csv: manifest has no 'file' column");
  WriteFile(dir / "m2.csv", "file,kind\nother.x3p,bullet\n");
  ExpectOneLineError(
      RunCli({"ingest", "--db", dir / "db", "--manifest", dir / "m2.csv", "--case", "c", file}),
      file + ": not listed in the manifest");
  // Marks are parsed where they come in: a mark of no known type refuses the file, naming it.
  WriteFile(dir / "m3.csv", "file,kind,mark\na.x3p,cartridge_case,BreechFace\n");
  ExpectOneLineError(RunCli({"ingest", "--db", dir / "db", "--manifest", dir / "m3.csv", "--case", "c"}),
                     file + ": mark 'BreechFace' is not one of breech_face");
}

TEST(Cli, UnitOverrideFlagIsNamedAndWorks) {
  TempDir dir;
  X3pSpec spec = ValidSpec();
  spec.inc_x = spec.inc_y = "7.37";
  WriteFile(dir / "um.x3p", BuildX3p(spec));
  CliResult r = RunCli({"info", dir / "um.x3p"});
  ExpectOneLineError(r, dir / "um.x3p: ");
  EXPECT_NE(r.err.find("--xy-unit um"), std::string::npos);
  r = RunCli({"info", "--json", "--xy-unit", "um", "--z-unit", "m", dir / "um.x3p"});
  // Read now; as evidence its handful of points is refused (exit 1, one line).
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("too little data"), std::string::npos) << r.err;
  EXPECT_DOUBLE_EQ(json::parse(r.out)[0]["spacing_x_um"].get<double>(), 7.37);
}

TEST(Cli, ExportScanWritesTheStoredSurface) {
  TempDir dir;
  const std::string file = WriteSampleX3p(dir, "a.x3p", 6, true);
  ASSERT_EQ(RunCli({"ingest", "--db", dir / "db", "--case", "c", "--kind", "bullet", file}).status, 0);
  const CliResult r = RunCli({"export-scan", "--db", dir / "db", "1", dir / "out.x3p"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(
      IdenticalSurfaces(ingest::ReadScan(file, {}).surface, ingest::ReadScan(dir / "out.x3p", {}).surface));
  ExpectOneLineError(RunCli({"export-scan", "--db", dir / "db", "42", dir / "x.x3p"}),
                     "item 42: no such item");
}

TEST(Cli, VerifyFailsOnDamage) {
  TempDir dir;
  const std::string file = WriteSampleX3p(dir, "a.x3p", 7, true);
  ASSERT_EQ(RunCli({"ingest", "--db", dir / "db", "--case", "c", "--kind", "bullet", file}).status, 0);
  EXPECT_EQ(RunCli({"verify", "--db", dir / "db"}).status, 0);
  for (const auto& e : fs::recursive_directory_iterator(dir.path() / "db/arrays")) {
    if (e.is_regular_file()) WriteFile(e.path().string(), "overwritten");
  }
  const CliResult r = RunCli({"verify", "--json", "--db", dir / "db"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(json::parse(r.out)["ok"], false);
  EXPECT_EQ(LineCount(r.err), 1);
}

}  // namespace
}  // namespace toolmark::testing
