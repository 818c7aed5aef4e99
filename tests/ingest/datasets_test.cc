// Every file of every shared dataset is listed in its truth.csv, reads, and
// has the geometry MANIFEST.md states. Skips when ../shared/datasets is absent.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::ingest {
namespace {
namespace fs = std::filesystem;

TEST(SharedDatasets, EveryListedFileReadsWithItsStatedSpacing) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string root = testing::DatasetsDir();
  struct Set {
    const char* name;
    double spacing_um;
    std::size_t count;
  };
  for (const Set& set : {Set{"fadul", 6.25, 40}, Set{"hamby44", 1.5625, 27}, Set{"images2d", 0, 4}}) {
    const Manifest m = ReadManifest(root + "/" + set.name + "/truth.csv");
    EXPECT_EQ(m.rows.size(), set.count) << set.name;
    for (const char* column : {"file", "firearm", "kind", "mark"}) {
      EXPECT_NE(std::find(m.columns.begin(), m.columns.end(), column), m.columns.end()) << set.name;
    }
    ReadOptions options;
    if (set.spacing_um == 0) options.spacing_um = 4.0;  // 2D: spacing is not in the file
    for (const auto& row : m.rows) {
      const Scan scan = ReadScan(root + "/" + set.name + "/" + row.at("file"), options);
      const double expected = set.spacing_um ? set.spacing_um : 4.0;
      EXPECT_DOUBLE_EQ(scan.surface.spacing_x_um, expected) << row.at("file");
      EXPECT_EQ(scan.surface.kind, set.spacing_um ? SurfaceKind::kHeight : SurfaceKind::kIntensity);
      EXPECT_EQ(scan.sha256.size(), 64u);
    }
  }
}

TEST(Manifest, ParsesQuotingAndRejectsBadTables) {
  const Manifest m = ParseManifest(
      "\xEF\xBB\xBF"
      "file,note\r\n\"a,b.x3p\",\"said \"\"hi\"\"\nthere\"\r\nc.x3p\n");
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.rows[0].at("file"), "a,b.x3p");
  EXPECT_EQ(m.rows[0].at("note"), "said \"hi\"\nthere");
  EXPECT_EQ(m.rows[1].at("note"), "");
  EXPECT_NE(m.Find("c.x3p"), nullptr);
  EXPECT_EQ(m.Find("d.x3p"), nullptr);
  for (const char* bad : {"", "name\nx\n", "file,file\na,b\n", "file\na\na\n", "file\n\"open\n",
                          "file,x\na,b,c\n", "file,x\n,b\n"}) {
    EXPECT_THROW(ParseManifest(bad), Error) << bad;
  }
  EXPECT_THROW(ParseManifest(std::string("file\na\0b\n", 9)), Error);
  EXPECT_THROW(ParseManifest("file\na\nb\nc\n", 2), Error);
}

}  // namespace
}  // namespace toolmark::ingest
