// Tests of ingest/src/pointcloud.cc: PLY and PCD clouds gridded into height
// maps, unit and spacing inference, and hostile files.
#include "toolmark/ingest/pointcloud.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

using testing::TempDir;
using testing::WriteFile;

struct P {
  double x, y, z;
};

/// Known surface height (µm) at grid column `col`, row `row`.
double HeightUm(int col, int row) {
  return 0.8 * std::sin(0.37 * col) + 0.05 * row - 0.3 * std::cos(0.21 * row);
}

/// cols x rows points, `step` apart, from (x0, y0); heights HeightUm scaled
/// by `z_per_um` (file units per µm). Row-major, x fastest.
std::vector<P> Grid(int cols, int rows, double step, double x0, double y0, double z_per_um) {
  std::vector<P> points;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      points.push_back({x0 + c * step, y0 + r * step, HeightUm(c, r) * z_per_um});
    }
  }
  return points;
}

enum class Encoding { kAscii, kLittle, kBig, kCompressed };

template <typename T>
std::string Bytes(double v, bool big_endian) {
  const T t = static_cast<T>(v);
  std::string b(sizeof t, '\0');
  std::memcpy(b.data(), &t, sizeof t);
  if (big_endian) std::reverse(b.begin(), b.end());
  return b;
}

std::string ValueBytes(double v, bool doubles, bool big_endian) {
  return doubles ? Bytes<double>(v, big_endian) : Bytes<float>(v, big_endian);
}

std::string AsciiRows(const std::vector<P>& points) {
  std::string rows;
  for (const P& p : points) {
    char line[96];
    std::snprintf(line, sizeof line, "%.17g %.17g %.17g\n", p.x, p.y, p.z);
    rows += line;
  }
  return rows;
}

/// Point-interleaved binary rows (x y z per point).
std::string BinaryRows(const std::vector<P>& points, bool doubles, bool big_endian) {
  std::string out;
  for (const P& p : points) {
    for (double v : {p.x, p.y, p.z}) out += ValueBytes(v, doubles, big_endian);
  }
  return out;
}

std::string PlyBytes(const std::vector<P>& points, Encoding enc, bool doubles) {
  const char* format = enc == Encoding::kAscii ? "ascii"
                       : enc == Encoding::kBig ? "binary_big_endian"
                                               : "binary_little_endian";
  const std::string type = doubles ? "double" : "float";
  std::string out = std::string("ply\nformat ") + format + " 1.0\ncomment test grid\n" + "element vertex " +
                    std::to_string(points.size()) + "\n";
  for (const char* axis : {"x", "y", "z"}) out += "property " + type + " " + axis + "\n";
  out += "end_header\n";
  return out +
         (enc == Encoding::kAscii ? AsciiRows(points) : BinaryRows(points, doubles, enc == Encoding::kBig));
}

std::string Uint32(std::uint32_t v) { return Bytes<std::uint32_t>(v, false); }

/// PCD binary_compressed body: planar fields in an LZF stream of literal runs.
std::string CompressedBody(const std::vector<P>& points, bool doubles) {
  std::string planar;
  for (int axis = 0; axis < 3; ++axis) {
    for (const P& p : points) planar += ValueBytes(axis == 0 ? p.x : axis == 1 ? p.y : p.z, doubles, false);
  }
  std::string lzf;
  for (std::size_t at = 0; at < planar.size(); at += 32) {
    const std::string run = planar.substr(at, 32);
    lzf += static_cast<char>(run.size() - 1);
    lzf += run;
  }
  return Uint32(static_cast<std::uint32_t>(lzf.size())) + Uint32(static_cast<std::uint32_t>(planar.size())) +
         lzf;
}

std::string PcdBytes(const std::vector<P>& points, Encoding enc, bool doubles) {
  const std::string n = std::to_string(points.size());
  const char* data = enc == Encoding::kAscii        ? "ascii"
                     : enc == Encoding::kCompressed ? "binary_compressed"
                                                    : "binary";
  std::string out = std::string("# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\n") +
                    "FIELDS x y z\nSIZE " + (doubles ? "8 8 8" : "4 4 4") +
                    "\nTYPE F F F\nCOUNT 1 1 1\nWIDTH " + n + "\nHEIGHT 1\n" +
                    "VIEWPOINT 0 0 0 1 0 0 0\nPOINTS " + n + "\nDATA " + data + "\n";
  if (enc == Encoding::kAscii) return out + AsciiRows(points);
  if (enc == Encoding::kCompressed) return out + CompressedBody(points, doubles);
  return out + BinaryRows(points, doubles, false);
}

Scan ReadCloud(const std::string& path, const std::string& bytes, const ReadOptions& options = {}) {
  WriteFile(path, bytes);
  return ReadPointCloudFile(path, options);
}

/// Expects the 40 x 30 grid of HeightUm at `spacing_um`, origin (x0, y0) µm.
void ExpectGrid(const Scan& scan, double spacing_um, double x0_um, double y0_um, double tol) {
  const Surface& s = scan.surface;
  ASSERT_EQ(s.SizeX(), 40);
  ASSERT_EQ(s.SizeY(), 30);
  EXPECT_EQ(s.kind, SurfaceKind::kHeight);
  EXPECT_NEAR(s.spacing_x_um, spacing_um, std::max(tol, 1e-6 * spacing_um));
  EXPECT_EQ(s.spacing_x_um, s.spacing_y_um);
  EXPECT_NEAR(s.origin_x_um, x0_um, 1e-3);
  EXPECT_NEAR(s.origin_y_um, y0_um, 1e-3);
  EXPECT_FALSE(scan.checksum_ok.has_value());
  for (int r = 0; r < 30; ++r) {
    for (int c = 0; c < 40; ++c) ASSERT_NEAR(s.values.at<double>(r, c), HeightUm(c, r), tol);
  }
}

bool HasNote(const Scan& scan, const std::string& text) {
  for (const std::string& note : scan.notes) {
    if (note.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string ErrorText(const std::string& path, const ReadOptions& options = {}) {
  try {
    ReadPointCloudFile(path, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PointCloud, AsciiPlyInMillimetresInfersUnitAndSpacing) {
  TempDir dir;
  // 40 x 30 points at 50 µm, lateral extent 1.95 mm.
  const Scan scan =
      ReadCloud(dir / "a.ply", PlyBytes(Grid(40, 30, 0.05, 1.0, 2.0, 1e-3), Encoding::kAscii, true));
  EXPECT_EQ(scan.format, "ply");
  ExpectGrid(scan, 50.0, 1000.0, 2000.0, 1e-9);
  EXPECT_TRUE(HasNote(scan, "coordinates taken as mm from a lateral extent of 1.95"));
  EXPECT_TRUE(HasNote(scan, "nearest-neighbour"));
}

TEST(PointCloud, BinaryPlyInMetres) {
  TempDir dir;
  const std::vector<P> grid = Grid(40, 30, 50e-6, 0.01, -0.02, 1e-6);
  ExpectGrid(ReadCloud(dir / "le.ply", PlyBytes(grid, Encoding::kLittle, true)), 50.0, 1e4, -2e4, 1e-6);
  const Scan big = ReadCloud(dir / "be.PLY", PlyBytes(grid, Encoding::kBig, false));
  ExpectGrid(big, 50.0, 1e4, -2e4, 2e-3);  // float metres: ~1e-9 m resolution
  EXPECT_TRUE(HasNote(big, "coordinates taken as m"));
}

TEST(PointCloud, PcdEncodingsInMicrometres) {
  TempDir dir;
  const std::vector<P> grid = Grid(40, 30, 50.0, 300.0, 400.0, 1.0);  // extent 1950 µm
  for (Encoding enc : {Encoding::kAscii, Encoding::kLittle, Encoding::kCompressed}) {
    for (bool doubles : {false, true}) {
      SCOPED_TRACE(static_cast<int>(enc) * 2 + doubles);
      const Scan scan = ReadCloud(dir / "c.pcd", PcdBytes(grid, enc, doubles));
      EXPECT_EQ(scan.format, "pcd");
      ExpectGrid(scan, 50.0, 300.0, 400.0, 1e-5);
      EXPECT_TRUE(HasNote(scan, "coordinates taken as um"));
    }
  }
}

TEST(PointCloud, OldPcdWithoutWidth) {
  TempDir dir;
  const std::vector<P> grid = Grid(40, 30, 50.0, 0, 0, 1.0);
  const std::string header = "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 1200\nDATA ascii\n";
  ExpectGrid(ReadCloud(dir / "old.pcd", header + AsciiRows(grid)), 50.0, 0, 0, 1e-5);
}

TEST(PointCloud, ExplicitUnitsForAFineGrid) {
  TempDir dir;
  // 40 x 30 at 2 µm: the extent (0.078 mm) is too small to infer mm reliably.
  ReadOptions mm;
  mm.xy_unit = LengthUnit::kMillimetre;
  mm.z_unit = LengthUnit::kMicrometre;
  ExpectGrid(ReadCloud(dir / "mm.ply", PlyBytes(Grid(40, 30, 2e-3, 0, 0, 1.0), Encoding::kLittle, true), mm),
             2.0, 0, 0, 1e-9);
  ReadOptions m;
  m.xy_unit = LengthUnit::kMetre;  // z defaults to metres too
  ExpectGrid(ReadCloud(dir / "m.pcd", PcdBytes(Grid(40, 30, 2e-6, 0, 0, 1e-6), Encoding::kLittle, true), m),
             2.0, 0, 0, 1e-9);
  EXPECT_NE(ErrorText(dir / "m.pcd").find("--xy-unit"), std::string::npos);
}

TEST(PointCloud, ExplicitSpacingLeavesEmptyCellsNaN) {
  TempDir dir;
  ReadOptions options;
  options.spacing_um = 25.0;  // half the point spacing: every other cell empty
  const Scan scan =
      ReadCloud(dir / "s.ply", PlyBytes(Grid(40, 30, 0.05, 0, 0, 1e-3), Encoding::kAscii, true), options);
  const Surface& s = scan.surface;
  ASSERT_EQ(s.SizeX(), 79);
  ASSERT_EQ(s.SizeY(), 59);
  EXPECT_EQ(s.spacing_x_um, 25.0);
  EXPECT_NEAR(s.ValidFraction(), 1200.0 / (79 * 59), 1e-12);
  EXPECT_NEAR(s.values.at<double>(4, 6), HeightUm(3, 2), 1e-9);
  EXPECT_TRUE(std::isnan(s.values.at<double>(4, 5)));
}

TEST(PointCloud, DuplicatesAveragedAndNonFiniteDropped) {
  TempDir dir;
  std::vector<P> grid = Grid(40, 30, 50.0, 0, 0, 1.0);
  const std::size_t n = grid.size();
  for (std::size_t i = 0; i < n; ++i) grid.push_back({grid[i].x, grid[i].y, grid[i].z + 2.0});
  grid[0].z = std::numeric_limits<double>::quiet_NaN();
  grid[n].z = std::numeric_limits<double>::infinity();  // both points of cell (0, 0)
  const Scan scan = ReadCloud(dir / "d.pcd", PcdBytes(grid, Encoding::kLittle, true));
  const Surface& s = scan.surface;
  ASSERT_EQ(s.SizeX(), 40);
  EXPECT_EQ(s.spacing_x_um, 50.0);  // duplicates do not make the spacing 0
  EXPECT_TRUE(std::isnan(s.values.at<double>(0, 0)));
  EXPECT_NEAR(s.values.at<double>(3, 7), HeightUm(7, 3) + 1.0, 1e-9);
  EXPECT_TRUE(HasNote(scan, "dropped 2 non-finite points"));
  EXPECT_TRUE(HasNote(scan, "mean of several points"));
}

TEST(PointCloud, RefusesImplausibleSpacingAndOversizedGrids) {
  TempDir dir;
  const std::string path = dir / "g.ply";
  WriteFile(path, PlyBytes(Grid(40, 30, 0.5, 0, 0, 1e-3), Encoding::kAscii, true));  // 500 µm
  EXPECT_NE(ErrorText(path).find("not plausible"), std::string::npos);
  ReadOptions options;
  for (double bad : {0.0, -1.0, 1000.0, std::nan("")}) {
    options.spacing_um = bad;
    EXPECT_NE(ErrorText(path, options).find("not plausible"), std::string::npos) << bad;
  }
  options.spacing_um = 50.0;
  options.limits.max_side = 300;  // 391 x 291 cells needed
  EXPECT_NE(ErrorText(path, options).find("limit of 300 per side"), std::string::npos);
  options.limits.max_side = 100;  // not even at 100 µm
  EXPECT_NE(ErrorText(path, options).find("--xy-unit"), std::string::npos);
  options.limits.max_side = 1000;
  options.limits.max_points = 1000;
  EXPECT_NE(ErrorText(path, options).find("limit of 1000 points"), std::string::npos);
}

TEST(PointCloud, RefusesTooFewPointsAndBadNames) {
  TempDir dir;
  WriteFile(dir / "two.ply", PlyBytes({{0, 0, 0}, {1, 1, 0}}, Encoding::kAscii, false));
  EXPECT_NE(ErrorText(dir / "two.ply").find("too few"), std::string::npos);
  WriteFile(dir / "cloud.xyz", "0 0 0\n1 1 1\n2 2 2\n");
  EXPECT_NE(ErrorText(dir / "cloud.xyz").find(".ply or .pcd"), std::string::npos);
  EXPECT_THROW(ReadPointCloudFile(dir / "missing.ply", {}), Error);
  ReadOptions small;
  small.limits.max_file_bytes = 100;
  WriteFile(dir / "big.pcd", PcdBytes(Grid(40, 30, 50.0, 0, 0, 1.0), Encoding::kLittle, false));
  EXPECT_NE(ErrorText(dir / "big.pcd", small).find("over the limit"), std::string::npos);
}

TEST(PointCloud, HeaderClaimingTeraPointsRefusedBeforeAllocation) {
  TempDir dir;
  const std::string rows = BinaryRows(Grid(4, 3, 50.0, 0, 0, 1.0), false, false);
  const std::string tera = "1000000000000";
  WriteFile(dir / "t.ply", "ply\nformat binary_little_endian 1.0\nelement vertex " + tera +
                               "\nproperty float x\nproperty float y\nproperty float z\n"
                               "end_header\n" +
                               rows);
  EXPECT_NE(ErrorText(dir / "t.ply").find("over the limit"), std::string::npos);
  WriteFile(dir / "t.pcd", "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH " + tera + "\nHEIGHT 1\nPOINTS " +
                               tera + "\nDATA binary\n" + rows);
  EXPECT_NE(ErrorText(dir / "t.pcd").find("over the limit"), std::string::npos);
  // Under the count limit but beyond what the file holds: still refused.
  ReadOptions huge;
  huge.limits.max_cloud_points = std::numeric_limits<std::size_t>::max();
  EXPECT_NE(ErrorText(dir / "t.ply", huge).find("more data than the file holds"), std::string::npos);
  EXPECT_NE(ErrorText(dir / "t.pcd", huge).find("more data than the file holds"), std::string::npos);
  // A compressed body that claims to inflate to 4 GB.
  WriteFile(dir / "z.pcd",
            "FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH 12\nPOINTS 12\n"
            "DATA binary_compressed\n" +
                Uint32(16) + Uint32(0xFFFFFFF0u) + std::string(16, '\0'));
  EXPECT_NE(ErrorText(dir / "z.pcd").find("inconsistent size"), std::string::npos);
}

/// A corrupted file must give toolmark::Error or a valid scan, nothing else.
void ExpectErrorOrScan(const std::string& path, const std::string& bytes, bool must_fail) {
  WriteFile(path, bytes);
  try {
    const Scan scan = ReadPointCloudFile(path, {});
    EXPECT_FALSE(must_fail) << "accepted a corrupted file of " << bytes.size() << " bytes";
    EXPECT_GT(scan.surface.SizeX(), 0);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  } catch (...) {
    ADD_FAILURE() << "an exception other than toolmark::Error";
  }
}

TEST(PointCloud, CorruptedFilesGiveErrors) {
  TempDir dir;
  const std::vector<P> grid = Grid(40, 30, 50.0, 0, 0, 1.0);
  struct Case {
    std::string name, bytes;
  };
  const std::vector<Case> valid = {{"a.ply", PlyBytes(grid, Encoding::kAscii, false)},
                                   {"b.ply", PlyBytes(grid, Encoding::kLittle, false)},
                                   {"a.pcd", PcdBytes(grid, Encoding::kAscii, false)},
                                   {"b.pcd", PcdBytes(grid, Encoding::kLittle, true)},
                                   {"c.pcd", PcdBytes(grid, Encoding::kCompressed, false)}};
  std::mt19937 rng(7);
  for (const Case& c : valid) {
    SCOPED_TRACE(c.name);
    const std::string path = dir / c.name;
    for (std::size_t len : {std::size_t{0}, std::size_t{3}, std::size_t{20}, std::size_t{60},
                            c.bytes.size() / 2, c.bytes.size() - 20}) {
      // Cutting into the last line of an ASCII file can leave a shorter but
      // valid number there: undetectable, so only binary must fail at the end.
      const bool ascii = c.name[0] == 'a' && len == c.bytes.size() - 20;
      ExpectErrorOrScan(path, c.bytes.substr(0, len), !ascii);  // truncated
    }
    for (int i = 0; i < 120; ++i) {  // flipped bytes, anywhere
      std::string bytes = c.bytes;
      bytes[rng() % bytes.size()] ^= static_cast<char>(1 << (rng() % 8));
      ExpectErrorOrScan(path, bytes, false);
    }
    std::string noise(c.bytes.size(), '\0');
    for (char& ch : noise) ch = static_cast<char>(rng());
    ExpectErrorOrScan(path, noise, true);
  }
  ExpectErrorOrScan(dir / "h.ply",
                    "ply\nformat ascii 1.0\nelement vertex 5\nproperty float x\n"
                    "property float y\nend_header\n1 2\n3 4\n5 6\n7 8\n9 0\n",
                    true);
  ExpectErrorOrScan(dir / "h.pcd",
                    "FIELDS x y z\nSIZE 4 4\nTYPE F F F\nWIDTH 1\nPOINTS 1\n"
                    "DATA ascii\n1 2 3\n",
                    true);
  // PCL 1.13 ends a PCD header at a line of only blanks and then dereferences
  // null in PCDReader::read: such headers must never reach PCL.
  const std::string pcd = PcdBytes(grid, Encoding::kLittle, false);
  for (const std::string blank : {" \n", "\r\n", "\v\n", "\t \n"}) {
    ExpectErrorOrScan(dir / "blank.pcd", blank + pcd, true);
    ExpectErrorOrScan(dir / "blank.pcd", "FIELDS x y z\n" + blank + pcd.substr(pcd.find("SIZE")), true);
  }
  // PCL 1.13 goes on parsing header lines after DATA: point data that begins
  // like a header line ("COLUMNS", "POINTS", …, possibly after comment-like
  // lines) rewrites the header and PCL reads out of bounds (found by libFuzzer).
  const std::size_t body = pcd.find("DATA binary\n") + 12;
  for (const std::string fake : {"COLUMNS\xff,", "POINTS 9", "\n\nDATA ascii", "# x\nSIZE 8", "FIELDSx"}) {
    std::string bytes = pcd;
    bytes.replace(body, fake.size(), fake);
    ExpectErrorOrScan(dir / "after.pcd", bytes, true);
  }
  std::string comment_like = pcd;
  comment_like.replace(body, 3, "#\x01\x02");  // harmless for PCL: the file still reads
  ExpectErrorOrScan(dir / "after.pcd", comment_like, false);

  ExpectErrorOrScan(dir / "ctl.ply",
                    "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\v\n"
                    "property float y\nproperty float z\nend_header\n0 0 0\n1 0 0\n0 1 0\n",
                    true);
}

}  // namespace
}  // namespace toolmark::ingest
