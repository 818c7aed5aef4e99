// Scan orientation (toolmark/engine/orientation.h) and scan intake
// (toolmark/ingest/quality.h): the eight stored orientations, the striae
// direction in µm terms at any spacing, the land orientation decision, and
// intake on synthetic scans and (where ../shared/datasets exists) on every
// real scan: lands upright as stored, cartridge cases untouched.
#include "toolmark/engine/orientation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A cols × rows grid whose point (c, r) holds r * 1000 + c: every transform
/// can be checked point by point.
Surface Numbered(int cols, int rows) {
  Surface s;
  s.values.create(rows, cols, CV_64FC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) s.values.at<double>(r, c) = r * 1000 + c;
  s.spacing_x_um = 1.5;
  s.spacing_y_um = 2.5;
  s.origin_x_um = 10;
  s.origin_y_um = 20;
  return s;
}

/// Smoothed white noise, rms about 1.
std::vector<double> Profile(int n, double smooth, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> white(static_cast<std::size_t>(n)), out(static_cast<std::size_t>(n), 0);
  for (double& w : white) w = g(rng);
  const int half = static_cast<int>(3 * smooth);
  for (int i = 0; i < n; ++i) {
    double sum = 0, weight = 0;
    for (int k = -half; k <= half; ++k) {
      if (i + k < 0 || i + k >= n) continue;
      const double w = std::exp(-0.5 * k * k / (smooth * smooth));
      sum += w * white[static_cast<std::size_t>(i + k)], weight += w;
    }
    out[static_cast<std::size_t>(i)] = sum / weight * std::sqrt(smooth);
  }
  return out;
}

/// Parallel striae at `angle_deg` from +y towards +x over a width_um ×
/// height_um field at the given spacings, with a little isotropic noise.
Surface Striae(double width_um, double height_um, double sx, double sy, double angle_deg, unsigned seed) {
  const int cols = static_cast<int>(width_um / sx), rows = static_cast<int>(height_um / sy);
  const double step = 0.5;  // µm grid of the striation profile
  const double extent = width_um + height_um;
  const std::vector<double> p = Profile(static_cast<int>(2 * extent / step), 6.0 / step, seed);
  std::mt19937 rng(seed + 1);
  std::normal_distribution<double> noise(0, 0.05);
  const double t = std::tan(angle_deg * M_PI / 180), cosine = std::cos(angle_deg * M_PI / 180);
  Surface s;
  s.values.create(rows, cols, CV_64FC1);
  s.spacing_x_um = sx;
  s.spacing_y_um = sy;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      // distance across the striae of (x, y)
      const double u = (c * sx - r * sy * t) * cosine + extent;
      const auto i = static_cast<std::size_t>(std::clamp(u / step, 0.0, static_cast<double>(p.size() - 1)));
      s.values.at<double>(r, c) = p[i] + noise(rng);
    }
  return s;
}

/// Isotropic smoothed noise.
Surface Isotropic(int cols, int rows, double spacing, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, 1);
  cv::Mat v(rows, cols, CV_64FC1);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) v.at<double>(r, c) = g(rng);
  Surface s;
  cv::GaussianBlur(v, s.values, cv::Size(0, 0), 3.0);
  s.spacing_x_um = s.spacing_y_um = spacing;
  return s;
}

TEST(Orientation, NamesRoundTrip) {
  for (const std::string& name : OrientationNames()) {
    const auto o = ParseOrientation(name);
    ASSERT_TRUE(o.has_value()) << name;
    EXPECT_EQ(OrientationName(*o), name);
  }
  EXPECT_EQ(ParseOrientation("transpose"), Orientation::kTransposed);
  EXPECT_EQ(ParseOrientation("rot-90"), Orientation::kRot270);
  EXPECT_FALSE(ParseOrientation("sideways").has_value());
  EXPECT_FALSE(ParseOrientation("").has_value());
}

TEST(Orientation, EveryTransformIsUndoneExactly) {
  const Surface u = Numbered(7, 4);
  for (const std::string& name : OrientationNames()) {
    const Orientation o = *ParseOrientation(name);
    const Surface stored = FromUpright(u, o);
    EXPECT_EQ(stored.values.cols, SwapsAxes(o) ? 4 : 7) << name;
    EXPECT_DOUBLE_EQ(stored.spacing_x_um, SwapsAxes(o) ? 2.5 : 1.5) << name;
    EXPECT_TRUE(IdenticalSurfaces(ToUpright(stored, o), u)) << name;
  }
}

TEST(Orientation, TransformsMovePointsAsNamed) {
  const Surface u = Numbered(7, 4);  // u(r, c) = r * 1000 + c, W = 7, H = 4
  const auto at = [](const Surface& s, int r, int c) { return s.values.at<double>(r, c); };
  const Surface t = FromUpright(u, Orientation::kTransposed);
  EXPECT_EQ(at(t, 5, 2), at(u, 2, 5));
  // A quarter turn counter-clockwise (rows downwards): the upright's last
  // column becomes the first row.
  const Surface ccw = FromUpright(u, Orientation::kRot90);
  EXPECT_EQ(at(ccw, 0, 0), at(u, 0, 6));
  EXPECT_EQ(at(ccw, 6, 3), at(u, 3, 0));
  const Surface cw = FromUpright(u, Orientation::kRot270);
  EXPECT_EQ(at(cw, 0, 0), at(u, 3, 0));
  const Surface half = FromUpright(u, Orientation::kRot180);
  EXPECT_EQ(at(half, 0, 0), at(u, 3, 6));
  EXPECT_EQ(at(FromUpright(u, Orientation::kFlipX), 1, 0), at(u, 1, 6));
  EXPECT_EQ(at(FromUpright(u, Orientation::kFlipY), 0, 2), at(u, 3, 2));
  const Surface anti = FromUpright(u, Orientation::kAntiTransposed);
  EXPECT_EQ(at(anti, 0, 0), at(u, 3, 6));
  EXPECT_EQ(at(anti, 6, 3), at(u, 0, 0));
  // Undoing a transpose on a file that was really turned a quarter either
  // way leaves a mirror across the land (rot90) or a reversal along it
  // (rot270): the ambiguity ResolveLandOrientation reports.
  EXPECT_TRUE(
      IdenticalSurfaces(ToUpright(ccw, Orientation::kTransposed), FromUpright(u, Orientation::kFlipX)));
  EXPECT_TRUE(
      IdenticalSurfaces(ToUpright(cw, Orientation::kTransposed), FromUpright(u, Orientation::kFlipY)));
}

TEST(StriaeDirection, AlongYAndXAtAnySpacing) {
  for (const auto& [sx, sy] :
       {std::pair{2.0, 2.0}, std::pair{0.8, 0.8}, std::pair{1.0, 2.5}, std::pair{4.0, 3.0}}) {
    const Surface s = Striae(1600, 500, sx, sy, 2.0, 7);
    const StriaeDirection d = MeasureStriaeDirection(s);
    EXPECT_EQ(d.axis, StriaeDirection::Axis::kAlongY) << sx << " " << sy << ": " << d.reason;
    EXPECT_NEAR(d.angle_deg, 2.0, 1.5) << sx << " " << sy;
    EXPECT_GT(d.support, 0.8);
    const StriaeDirection t = MeasureStriaeDirection(FromUpright(s, Orientation::kTransposed));
    EXPECT_EQ(t.axis, StriaeDirection::Axis::kAlongX) << t.reason;
    EXPECT_NEAR(std::abs(t.angle_deg), 88.0, 1.5);
  }
}

TEST(StriaeDirection, ObliqueIsotropicAndEmpty) {
  EXPECT_EQ(MeasureStriaeDirection(Striae(1200, 1200, 2, 2, 45, 3)).axis, StriaeDirection::Axis::kOblique);
  const StriaeDirection iso = MeasureStriaeDirection(Isotropic(400, 400, 5.0, 9));
  EXPECT_EQ(iso.axis, StriaeDirection::Axis::kUndetermined) << iso.reason;
  EXPECT_TRUE(std::isnan(iso.angle_deg));
  Surface empty = Numbered(50, 50);
  empty.values.setTo(kNaN);
  const StriaeDirection none = MeasureStriaeDirection(empty);
  EXPECT_EQ(none.axis, StriaeDirection::Axis::kUndetermined);
  EXPECT_FALSE(none.reason.empty());
  EXPECT_EQ(MeasureStriaeDirection(Surface{}).axis, StriaeDirection::Axis::kUndetermined);
}

TEST(StriaeDirection, DeterministicAndSymmetricUnderTranspose) {
  const Surface s = Striae(1500, 600, 1.5625, 1.5625, -3.0, 11);
  const StriaeDirection a = MeasureStriaeDirection(s), b = MeasureStriaeDirection(s);
  EXPECT_EQ(a.angle_deg, b.angle_deg);
  EXPECT_EQ(a.support, b.support);
  const StriaeDirection t = MeasureStriaeDirection(FromUpright(s, Orientation::kTransposed));
  EXPECT_NEAR(t.support, a.support, 1e-9);
  EXPECT_NEAR(t.coherence, a.coherence, 1e-9);
}

TEST(LandOrientation, Decisions) {
  const Surface up = Striae(1600, 500, 2, 2, 1.0, 5);
  const LandOrientation u = ResolveLandOrientation(up, std::nullopt);
  EXPECT_EQ(u.stored_as, Orientation::kUpright);
  EXPECT_TRUE(u.settled);
  EXPECT_EQ(u.source, "data");
  const Surface side = FromUpright(up, Orientation::kRot90);
  const LandOrientation s = ResolveLandOrientation(side, std::nullopt);
  EXPECT_EQ(s.stored_as, Orientation::kTransposed);
  EXPECT_FALSE(s.settled);
  EXPECT_NE(s.note.find("--orientation"), std::string::npos);
  const LandOrientation stated = ResolveLandOrientation(side, Orientation::kRot90);
  EXPECT_EQ(stated.stored_as, Orientation::kRot90);
  EXPECT_TRUE(stated.settled);
  EXPECT_TRUE(IdenticalSurfaces(ToUpright(side, stated.stored_as), up));
  EXPECT_THROW(ResolveLandOrientation(up, Orientation::kTransposed), Error);
  EXPECT_THROW(ResolveLandOrientation(side, Orientation::kUpright), Error);
  // No direction measured: taken as stored, not settled.
  const LandOrientation none = ResolveLandOrientation(Isotropic(600, 150, 2.0, 4), std::nullopt);
  EXPECT_EQ(none.stored_as, Orientation::kUpright);
  EXPECT_FALSE(none.settled);
}

TEST(LandOrientation, LooksLikeALandInAnyOrientation) {
  const Surface up = Striae(1600, 500, 2, 2, 0.0, 5);
  EXPECT_TRUE(LooksLikeLandScan(up, MeasureStriaeDirection(up)));
  const Surface side = FromUpright(up, Orientation::kTransposed);
  EXPECT_TRUE(LooksLikeLandScan(side, MeasureStriaeDirection(side)));
  const Surface square = Isotropic(300, 300, 6.25, 2);
  EXPECT_FALSE(LooksLikeLandScan(square, MeasureStriaeDirection(square)));
}

TEST(Intake, UprightLandIsBitIdenticalAndSideOneIsTurned) {
  const Surface up = Striae(1600, 500, 2, 2, 1.0, 8);
  ingest::IntakeOptions o;
  o.kind = Kind::kBullet;
  const ingest::Intake a = ingest::TakeIn(up, o);
  EXPECT_TRUE(IdenticalSurfaces(a.surface, up));
  EXPECT_EQ(a.quality.orientation, "upright");
  EXPECT_TRUE(a.quality.orientation_settled);
  const ingest::Intake b = ingest::TakeIn(FromUpright(up, Orientation::kTransposed), o);
  EXPECT_TRUE(IdenticalSurfaces(b.surface, up));
  EXPECT_EQ(b.quality.orientation, "transposed");
  EXPECT_FALSE(b.quality.orientation_settled);
  EXPECT_GE(b.quality.Warnings(), 1);
  EXPECT_EQ(b.quality.Grade(), "weak");
  // Detected as a land from its shape and striae when the kind is not given.
  EXPECT_EQ(ingest::TakeIn(FromUpright(up, Orientation::kRot270), {}).quality.kind, Kind::kBullet);
}

TEST(Intake, RefusesScansWithNoUsableData) {
  Surface empty = Striae(800, 300, 2, 2, 0, 1);
  empty.values.setTo(kNaN);
  try {
    ingest::TakeIn(empty, {});
    FAIL() << "an all-missing scan was taken in";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no valid data"), std::string::npos) << e.what();
  }
  Surface flat = Striae(800, 300, 2, 2, 0, 1);
  flat.values.setTo(3.0);
  EXPECT_THROW(ingest::TakeIn(flat, {}), Error);
  Surface few = Striae(800, 300, 2, 2, 0, 1);
  few.values.setTo(kNaN);
  for (int c = 0; c < 50; ++c) few.values.at<double>(5, c) = c;
  EXPECT_THROW(ingest::TakeIn(few, {}), Error);
  // A narrow sliver of a land: no signature, refused with the land's reason.
  ingest::IntakeOptions land;
  land.kind = Kind::kBullet;
  try {
    ingest::TakeIn(Striae(200, 300, 2, 2, 0, 1), land);
    FAIL() << "a 200 um sliver was taken in as a land";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("land signature"), std::string::npos) << e.what();
  }
  // Without preprocessing the quality is judged on the data alone.
  const ingest::Intake quick = ingest::AssessScan(empty, {});
  EXPECT_TRUE(quick.quality.Refused());
  EXPECT_EQ(quick.quality.Grade(), "refused");
}

TEST(Intake, QualityJsonRoundTripsAndRejectsGarbage) {
  ingest::IntakeOptions o;
  o.kind = Kind::kBullet;
  const ingest::Intake in =
      ingest::TakeIn(FromUpright(Striae(1600, 500, 2, 2, 1.0, 8), Orientation::kRot90), o);
  const nlohmann::json j = ingest::QualityJson(in.quality);
  const ingest::ScanQuality back = ingest::QualityFromJson(j);
  EXPECT_EQ(ingest::QualityJson(back), j);
  EXPECT_EQ(back.orientation, "transposed");
  EXPECT_THROW(ingest::QualityFromJson(nlohmann::json::parse("{\"kind\": 3}")), Error);
  EXPECT_THROW(ingest::QualityFromJson(nlohmann::json::array()), Error);
  nlohmann::json bad = j;
  bad["findings"][0]["severity"] = "catastrophic";
  EXPECT_THROW(ingest::QualityFromJson(bad), Error);
}

TEST(IntakeRealScans, LandsUprightCartridgeCasesUntouched) {
  TOOLMARK_REQUIRE_DATASETS();
  namespace fs = std::filesystem;
  const fs::path root = testing::DatasetsDir();
  int lands = 0, cases = 0;
  for (const char* set : {"hamby44", "fadul", "dfsc-k004"}) {
    for (const auto& e : fs::directory_iterator(root / set)) {
      if (e.path().extension() != ".x3p") continue;
      const ingest::Scan scan = ingest::ReadScan(e.path().string(), {});
      const bool land = std::string(set) == "hamby44";
      ingest::IntakeOptions o;
      o.preprocess = false;
      const ingest::Intake in = ingest::TakeIn(scan.surface, o);  // kind detected, not stated
      EXPECT_EQ(in.quality.kind, land ? Kind::kBullet : Kind::kCartridgeCase) << e.path();
      EXPECT_TRUE(IdenticalSurfaces(in.surface, scan.surface)) << e.path();
      if (land) {
        EXPECT_EQ(in.quality.orientation, "upright") << e.path();
        EXPECT_TRUE(in.quality.orientation_settled) << e.path();
        // The same land stored on its side is found so.
        const StriaeDirection d = MeasureStriaeDirection(FromUpright(scan.surface, Orientation::kRot270));
        EXPECT_EQ(d.axis, StriaeDirection::Axis::kAlongX) << e.path();
        ++lands;
      } else {
        EXPECT_TRUE(in.quality.orientation.empty()) << e.path();
        ++cases;
      }
    }
  }
  EXPECT_EQ(lands, 27);
  EXPECT_EQ(cases, 48);
}

}  // namespace
}  // namespace toolmark
