#include "toolmark/engine/surface.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

Surface Grid(int sx, int sy) {
  Surface s;
  s.values = cv::Mat(sy, sx, CV_64FC1, cv::Scalar(1.0));
  s.spacing_x_um = s.spacing_y_um = 1.0;
  return s;
}

TEST(Surface, ValidFractionAndRangeIgnoreMissingPoints) {
  Surface s = Grid(4, 2);
  s.values.at<double>(0, 0) = NAN;
  s.values.at<double>(1, 3) = -5.0;
  s.values.at<double>(1, 2) = std::numeric_limits<double>::infinity();
  EXPECT_DOUBLE_EQ(s.ValidFraction(), 6.0 / 8.0);
  double lo = 0, hi = 0;
  s.Range(&lo, &hi);
  EXPECT_DOUBLE_EQ(lo, -5.0);
  EXPECT_DOUBLE_EQ(hi, 1.0);
  Surface empty;
  EXPECT_DOUBLE_EQ(empty.ValidFraction(), 0.0);
  Surface none = Grid(2, 2);
  none.values.setTo(NAN);
  none.Range(&lo, &hi);
  EXPECT_TRUE(std::isnan(lo) && std::isnan(hi));
}

TEST(Surface, IdenticalComparesBitsAndGeometry) {
  Surface a = Grid(3, 3), b = Grid(3, 3);
  a.values.at<double>(1, 1) = b.values.at<double>(1, 1) = NAN;
  EXPECT_TRUE(IdenticalSurfaces(a, b));
  b.values.at<double>(0, 0) = std::nextafter(1.0, 2.0);
  EXPECT_FALSE(IdenticalSurfaces(a, b));
  b = Grid(3, 3);
  b.values.at<double>(1, 1) = NAN;
  b.spacing_y_um = 2.0;
  EXPECT_FALSE(IdenticalSurfaces(a, b));
  b.spacing_y_um = 1.0;
  b.kind = SurfaceKind::kIntensity;
  EXPECT_FALSE(IdenticalSurfaces(a, b));
  EXPECT_FALSE(IdenticalSurfaces(a, Grid(3, 4)));
}

TEST(Check, CheckedArithmeticAndOneLineMessages) {
  EXPECT_EQ(CheckedMul(1000, 1000, "x"), 1000000u);
  EXPECT_THROW(CheckedMul(std::size_t{1} << 40, std::size_t{1} << 40, "x"), Error);
  EXPECT_THROW(CheckedAdd(~std::size_t{0}, 1, "x"), Error);
  EXPECT_EQ(std::string(Error("a\nb\r\tc\n").what()), "a b  c");
  EXPECT_THROW(Check(false, "why"), Error);
  EXPECT_NO_THROW(Check(true, "why"));
}

TEST(ScanMetadata, InstrumentJoinsMakeAndModel) {
  ScanMetadata m;
  EXPECT_EQ(m.Instrument(), "");
  m.instrument_model = "usurf";
  EXPECT_EQ(m.Instrument(), "usurf");
  m.instrument_manufacturer = "NanoFocus";
  EXPECT_EQ(m.Instrument(), "NanoFocus usurf");
}

}  // namespace
}  // namespace toolmark
