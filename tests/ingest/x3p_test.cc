// X3P reader and writer: round trips, data types, axes, masks, checksums,
// units, and the real scans of ../shared/datasets.
#include "toolmark/ingest/x3p.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "test_util.h"
#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/scan.h"
#include "x3p_builder.h"

namespace toolmark::ingest {
namespace {

using testing::BuildX3p;
using testing::RawValues;
using testing::X3pSpec;

Surface RandomSurface(int sx, int sy, double spacing, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-50.0, 50.0);
  Surface s;
  s.values.create(sy, sx, CV_64FC1);
  for (int y = 0; y < sy; ++y)
    for (int x = 0; x < sx; ++x) s.values.at<double>(y, x) = (rng() % 17 == 0) ? NAN : u(rng) * 1e-6 * 1e6;
  // Like every surface read from an X3P file: numbers in metres times 1e6.
  s.spacing_x_um = spacing * 1e-6 * 1e6;
  s.spacing_y_um = spacing * 1.5e-6 * 1e6;
  s.origin_x_um = 12.345e-6 * 1e6;
  s.origin_y_um = -7.1e-6 * 1e6;
  s.meta.creator = "Examiner Ünïcode & <xml>";
  s.meta.instrument_manufacturer = "Sensofar";
  s.meta.instrument_model = "S neox";
  s.meta.comment = "line one";
  s.meta.date = "2026-11-29T10:00:00";
  return s;
}

TEST(X3p, WriteReadRoundTripIsExact) {
  const std::vector<std::pair<int, int>> sizes = {{1, 1}, {7, 5}, {64, 3}, {257, 129}};
  const std::vector<double> spacings = {0.7, 1.5625, 3.1, 6.25, 0.123456789};
  unsigned seed = 1;
  for (auto [sx, sy] : sizes) {
    for (double spacing : spacings) {
      const Surface original = RandomSurface(sx, sy, spacing, seed++);
      const Scan back = ReadX3pBytes(WriteX3pBytes(original), {});
      EXPECT_TRUE(IdenticalSurfaces(original, back.surface)) << sx << "x" << sy << " at " << spacing;
      EXPECT_EQ(original.meta, back.surface.meta);
      EXPECT_EQ(back.checksum_ok, std::optional<bool>(true));
      EXPECT_EQ(back.format, "x3p");
    }
  }
}

TEST(X3p, ArbitraryMicrometreValuesComeBackWithinOneUlp) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-100.0, 100.0);
  Surface s;
  s.values.create(50, 50, CV_64FC1);
  for (int i = 0; i < 2500; ++i) s.values.ptr<double>(0)[i] = u(rng);
  s.spacing_x_um = s.spacing_y_um = 1.0;
  const Surface back = ReadX3pBytes(WriteX3pBytes(s), {}).surface;
  for (int i = 0; i < 2500; ++i) {
    const double a = s.values.ptr<double>(0)[i], b = back.values.ptr<double>(0)[i];
    EXPECT_LE(std::abs(a - b), std::abs(std::nextafter(a, 2 * a) - a)) << i;
  }
  // A second round trip is exact: the values are now metre-representable.
  EXPECT_TRUE(IdenticalSurfaces(back, ReadX3pBytes(WriteX3pBytes(back), {}).surface));
}

TEST(X3p, WrittenFileIsOrdinaryX3p) {
  const std::string bytes = WriteX3pBytes(RandomSurface(5, 4, 2.0, 3));
  testing::TempDir dir;
  testing::WriteFile(dir / "a.x3p", bytes);
  // Standard layout that x3ptools and other readers expect.
  ASSERT_EQ(std::system(("cd " + dir.path().string() + " && unzip -qq a.x3p").c_str()), 0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "main.xml"));
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "bindata/data.bin"), 5u * 4u * 8u);
  const std::string xml = testing::ReadFile(dir / "main.xml");
  EXPECT_NE(xml.find("<p:ISO5436_2 xmlns:p=\"http://www.opengps.eu/2008/ISO5436_2\""), std::string::npos);
  EXPECT_NE(xml.find("<Increment>2e-06</Increment>"), std::string::npos) << xml;
  const std::string md5 = testing::ReadFile(dir / "md5checksum.hex");
  EXPECT_EQ(md5, base::Md5Hex(xml) + " *main.xml\n");
}

TEST(X3p, WriteFileIsAtomicAndRefusesIntensity) {
  testing::TempDir dir;
  Surface s = RandomSurface(4, 4, 1.0, 9);
  WriteX3pFile(s, dir / "s.x3p");
  EXPECT_TRUE(IdenticalSurfaces(s, ReadScan(dir / "s.x3p", {}).surface));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);  // no temp left
  s.kind = SurfaceKind::kIntensity;
  EXPECT_THROW(WriteX3pBytes(s), Error);
}

struct TypeCase {
  const char* type;
  std::string data;
  std::string z_inc, z_off;
  std::vector<double> expected_um;
};

TEST(X3p, ReadsEveryDataTypeWithScaleAndOffset) {
  const std::vector<double> ints = {-3, 0, 1, 32767, -32768, 7, 8, 9, 10, 11, 12, 13};
  std::vector<double> scaled;
  for (double v : ints) scaled.push_back((v * 1e-9 + 2e-6) * 1e6);
  const std::vector<double> floats = {1e-6, -2.5e-6, 0, 3e-7, 1e-5, 2e-6, 0, 0, 0, 0, 0, -1e-6};
  std::vector<double> floats_um;
  for (double v : floats) floats_um.push_back((v + 1e-6) * 1e6);
  std::vector<double> f32_um;
  for (double v : floats) f32_um.push_back((static_cast<double>(static_cast<float>(v)) + 1e-6) * 1e6);
  const std::vector<TypeCase> cases = {
      {"I", RawValues<std::int16_t>(ints), "1e-9", "2e-6", scaled},
      {"L", RawValues<std::int32_t>(ints), "1e-9", "2e-6", scaled},
      {"F", RawValues<float>(floats), "1", "1e-6", f32_um},
      {"D", RawValues<double>(floats), "1", "1e-6", floats_um},
  };
  for (const auto& c : cases) {
    X3pSpec spec;
    spec.data_type = c.type;
    spec.data = c.data;
    spec.z_inc = c.z_inc;
    spec.z_off = c.z_off;
    const Scan scan = ReadX3pBytes(BuildX3p(spec), {});
    ASSERT_EQ(scan.surface.SizeX(), 4);
    ASSERT_EQ(scan.surface.SizeY(), 3);
    for (int i = 0; i < 12; ++i) {
      EXPECT_NEAR(scan.surface.values.at<double>(i / 4, i % 4), c.expected_um[i], 1e-9) << c.type << " " << i;
    }
  }
}

TEST(X3p, PointOrderIsXFastest) {
  X3pSpec spec;
  spec.data =
      RawValues<double>({0, 1e-6, 2e-6, 3e-6, 10e-6, 11e-6, 12e-6, 13e-6, 20e-6, 21e-6, 22e-6, 23e-6});
  const Surface s = ReadX3pBytes(BuildX3p(spec), {}).surface;
  EXPECT_DOUBLE_EQ(s.values.at<double>(0, 3), 3.0);   // row y=0, column x=3
  EXPECT_DOUBLE_EQ(s.values.at<double>(2, 1), 21.0);  // row y=2, column x=1
}

TEST(X3p, AxesSpacingAndOffsetsInMicrometres) {
  X3pSpec spec;
  spec.data = RawValues<double>(std::vector<double>(12, 0.0));
  spec.inc_x = "6.25e-06";
  spec.inc_y = "3.125e-06";
  spec.off_x = "1e-3";
  spec.off_y = "-2e-4";
  const Surface s = ReadX3pBytes(BuildX3p(spec), {}).surface;
  EXPECT_DOUBLE_EQ(s.spacing_x_um, 6.25);
  EXPECT_DOUBLE_EQ(s.spacing_y_um, 3.125);
  EXPECT_DOUBLE_EQ(s.origin_x_um, 1000.0);
  EXPECT_DOUBLE_EQ(s.origin_y_um, -200.0);
  EXPECT_EQ(s.meta.Instrument(), "Acme Scope");
  EXPECT_EQ(s.meta.probing_id, "20X");
}

TEST(X3p, NanAndValidityMaskMarkMissingPoints) {
  X3pSpec spec;
  spec.data = RawValues<double>({1e-6, NAN, 3e-6, 4e-6, 5e-6, 6e-6, 7e-6, 8e-6, 9e-6, 1e-6, 2e-6, 3e-6});
  // Bit i of byte i/8, least significant first: points 1 and 8 are invalid.
  spec.valid_bits = std::string("\xFD\x0E", 2);
  const Surface s = ReadX3pBytes(BuildX3p(spec), {}).surface;
  const double* v = s.values.ptr<double>(0);
  EXPECT_TRUE(std::isnan(v[1]));
  EXPECT_TRUE(std::isnan(v[8]));
  EXPECT_FALSE(std::isnan(v[11]));
  EXPECT_FALSE(std::isnan(v[9]));
  EXPECT_NEAR(s.ValidFraction(), 10.0 / 12.0, 1e-12);
}

TEST(X3p, InlineDataListIsRead) {
  X3pSpec spec;
  spec.size_x = "2";
  spec.size_y = "2";
  spec.data_list = "<Datum>1e-6</Datum><Datum>2e-6</Datum><Datum></Datum><Datum>4e-6</Datum>";
  const Surface s = ReadX3pBytes(BuildX3p(spec), {}).surface;
  EXPECT_DOUBLE_EQ(s.values.at<double>(0, 1), 2.0);
  EXPECT_TRUE(std::isnan(s.values.at<double>(1, 0)));
}

TEST(X3p, EntriesInAnyOrderWithOrWithoutDirectories) {
  X3pSpec spec;
  spec.data = RawValues<double>(std::vector<double>(12, 1e-6));
  for (bool dirs : {true, false}) {
    spec.directory_entries = dirs;
    spec.order = {"md5checksum.hex", "bindata/data.bin", "main.xml"};
    EXPECT_EQ(ReadX3pBytes(BuildX3p(spec), {}).checksum_ok, std::optional<bool>(true));
    spec.order = {"bindata/data.bin", "main.xml", "md5checksum.hex"};
    EXPECT_EQ(ReadX3pBytes(BuildX3p(spec), {}).checksum_ok, std::optional<bool>(true));
  }
}

TEST(X3p, ChecksumMismatchIsAnErrorUnlessOverridden) {
  X3pSpec spec;
  spec.data = RawValues<double>(std::vector<double>(12, 1e-6));
  spec.point_md5 = std::string(32, 'a');
  try {
    ReadX3pBytes(BuildX3p(spec), {});
    FAIL() << "mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--ignore-checksum"), std::string::npos) << e.what();
  }
  ReadOptions o;
  o.ignore_checksum = true;
  const Scan scan = ReadX3pBytes(BuildX3p(spec), o);
  EXPECT_EQ(scan.checksum_ok, std::optional<bool>(false));
  ASSERT_FALSE(scan.notes.empty());

  X3pSpec xml_bad;
  xml_bad.data = spec.data;
  xml_bad.xml_md5 = std::string(32, 'b');
  EXPECT_THROW(ReadX3pBytes(BuildX3p(xml_bad), {}), Error);

  X3pSpec none;
  none.data = spec.data;
  none.with_point_md5 = false;
  none.with_xml_md5 = false;
  EXPECT_EQ(ReadX3pBytes(BuildX3p(none), {}).checksum_ok, std::optional<bool>(false));
}

std::string ErrorOf(const std::string& bytes, const ReadOptions& o = {}) {
  try {
    ReadX3pBytes(bytes, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(X3p, IncrementInMicrometresIsDetectedAndOverridable) {
  X3pSpec spec;
  spec.data = RawValues<double>(std::vector<double>(12, 1e-6));
  spec.inc_x = spec.inc_y = "7.37";
  const std::string err = ErrorOf(BuildX3p(spec));
  EXPECT_NE(err.find("likely states it in um"), std::string::npos) << err;
  EXPECT_NE(err.find("--xy-unit um"), std::string::npos) << err;
  ReadOptions o;
  o.xy_unit = LengthUnit::kMicrometre;
  EXPECT_DOUBLE_EQ(ReadX3pBytes(BuildX3p(spec), o).surface.spacing_x_um, 7.37);
  ReadOptions given;
  given.spacing_um = 7.37;
  EXPECT_DOUBLE_EQ(ReadX3pBytes(BuildX3p(spec), given).surface.spacing_y_um, 7.37);

  spec.inc_x = spec.inc_y = "0.00156";  // mm stated where metres are meant
  EXPECT_NE(ErrorOf(BuildX3p(spec)).find("--xy-unit mm"), std::string::npos);
  spec.inc_x = spec.inc_y = "5e-12";
  EXPECT_NE(ErrorOf(BuildX3p(spec)).find("--spacing-um"), std::string::npos);
  spec.inc_x = spec.inc_y = "-1.5e-6";
  EXPECT_FALSE(ErrorOf(BuildX3p(spec)).empty());
}

TEST(X3p, HeightsInMicrometresAreDetected) {
  X3pSpec spec;
  spec.data = RawValues<double>({0, 1e5, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3});  // µm stored as metres
  EXPECT_NE(ErrorOf(BuildX3p(spec)).find("--z-unit um"), std::string::npos);
  spec.data = RawValues<double>({0, 12, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3});
  ReadOptions o;
  o.z_unit = LengthUnit::kMicrometre;
  EXPECT_DOUBLE_EQ(ReadX3pBytes(BuildX3p(spec), o).surface.values.at<double>(0, 1), 12.0);
}

TEST(X3p, ReadScanNamesTheFileInErrors) {
  testing::TempDir dir;
  testing::WriteFile(dir / "broken.x3p", "PK\x03\x04 not really");
  try {
    ReadScan(dir / "broken.x3p", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir / "broken.x3p: ", 0), 0u) << e.what();
  }
}

// The Fadul files are 6.25 µm scans of 498..579 points a side (MANIFEST.md
// says 545×545, which is only the most common size); sizes come from the
// header and must match the data.
TEST(X3pRealScans, FadulAndHambyReadWithTheirStatedGeometry) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string root = testing::DatasetsDir();
  int fadul = 0;
  for (const auto& e : std::filesystem::directory_iterator(root + "/fadul")) {
    if (e.path().extension() != ".x3p") continue;
    const Scan scan = ReadScan(e.path().string(), {});
    EXPECT_GE(scan.surface.SizeX(), 490) << e.path();
    EXPECT_LE(scan.surface.SizeX(), 590) << e.path();
    EXPECT_NEAR(scan.surface.SizeY(), scan.surface.SizeX(), 1) << e.path();
    if (e.path().filename() == "fadul-1-1.x3p") {
      EXPECT_EQ(scan.surface.SizeX(), 545);
    }
    EXPECT_DOUBLE_EQ(scan.surface.spacing_x_um, 6.25);
    EXPECT_DOUBLE_EQ(scan.surface.spacing_y_um, 6.25);
    EXPECT_EQ(scan.checksum_ok, std::optional<bool>(true));
    EXPECT_GT(scan.surface.ValidFraction(), 0.1);
    ++fadul;
  }
  EXPECT_EQ(fadul, 40);
  const Scan land = ReadScan(root + "/hamby44/hamby44-barrel1-bullet1-land1.x3p", {});
  EXPECT_EQ(land.surface.SizeX(), 1515);
  EXPECT_EQ(land.surface.SizeY(), 422);
  EXPECT_DOUBLE_EQ(land.surface.spacing_x_um, 1.5625);
  double lo = 0, hi = 0;
  land.surface.Range(&lo, &hi);
  EXPECT_GT(hi - lo, 10.0);  // heights in µm, not metres
  EXPECT_LT(hi - lo, 1000.0);
}

TEST(X3pRealScans, RealScanRoundTripsExactly) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string root = testing::DatasetsDir();
  for (const char* f : {"/fadul/fadul-1-1.x3p", "/hamby44/hamby44-unknown-T-land1.x3p"}) {
    const Scan a = ReadScan(root + f, {});
    const Scan b = ReadX3pBytes(WriteX3pBytes(a.surface), {});
    EXPECT_TRUE(IdenticalSurfaces(a.surface, b.surface)) << f;
    EXPECT_EQ(a.surface.meta, b.surface.meta) << f;
  }
}

}  // namespace
}  // namespace toolmark::ingest
