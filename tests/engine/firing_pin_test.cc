// Tests of the firing-pin impression (toolmark/engine/firing_pin.h): a
// hand-built impression (a bowl with fine random marks) against rotated,
// translated, noisy, partly masked copies of itself and against independent
// marks; synthetic cartridge cases of one firearm and of two firearms of one
// model, with the rotation checked against CompareCmc's; absent impressions;
// errors; determinism; and (where ../shared/datasets exists) the processed
// Fadul scans, whose firing-pin holes hold no data.
#include "toolmark/engine/firing_pin.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/breech_face.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"
#include "toolmark/engine/synth.h"

#if __has_include("toolmark/ingest/scan.h")
#include "toolmark/ingest/scan.h"
#define TOOLMARK_HAVE_INGEST 1
#endif

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeg = M_PI / 180.0;

double AngleError(double got_deg, double want_deg) { return std::remainder(got_deg - want_deg, 360.0); }

// ------------------------------------------------------------ hand-built pin
//
// A scan of kSide² points at kSpacing µm holds a parabolic bowl kBowlDepthUm
// deep and kBowlRadiusUm wide about a centre c (µm in the scan's grid, x =
// column · spacing, y down the rows), flat outside, plus marks: a fixed rough
// field M over the pin's own frame. A scan "seen at θ" shows at its point p
// the mark M(Rot(θ)(p − c)); two scans A (θ = 0, centre c_A) and B (θ, c_B)
// therefore satisfy p_A − c_A = Rot(θ)(p_B − c_B) for the same mark, which is
// CmcDirection's convention: CompareFiringPins(A, B) must report θ.

constexpr double kSpacing = 6.25;
constexpr int kSide = 256;  // 1.6 mm
constexpr double kBowlRadiusUm = 520, kBowlDepthUm = 30;
constexpr double kFieldCellUm = 2.0;  // the mark field's grid
constexpr double kFieldHalfUm = 700;  // … covering ± this about the pin's axis

/// Marks of about 1 µm rms, white noise smoothed at σ = 5, 12 and 25 µm.
cv::Mat MarkField(std::uint64_t seed) {
  const int n = static_cast<int>(2 * kFieldHalfUm / kFieldCellUm) + 1;
  cv::RNG rng(seed);
  cv::Mat total = cv::Mat::zeros(n, n, CV_64F);
  for (double sigma_um : {5.0, 12.0, 25.0}) {
    cv::Mat noise(n, n, CV_64F), smooth;
    rng.fill(noise, cv::RNG::NORMAL, 0.0, 1.0);
    cv::GaussianBlur(noise, smooth, cv::Size(0, 0), sigma_um / kFieldCellUm, 0, cv::BORDER_REFLECT);
    cv::Scalar mean, sd;
    cv::meanStdDev(smooth, mean, sd);
    total += (smooth - mean[0]) / sd[0];
  }
  cv::Mat out;
  total.convertTo(out, CV_32F, 1.0 / std::sqrt(3.0));
  return out;
}

struct PinView {
  double theta_deg = 0;
  double cx_um = 0.5 * (kSide - 1) * kSpacing, cy_um = 0.5 * (kSide - 1) * kSpacing;  // the bowl's centre
  double noise_um = 0;  // white measurement noise
  std::uint64_t noise_seed = 1;
  double mask_from_deg = 0;  // a wedge of the bowl (angle about c) is missing; 0: none
  double mask_deg = 0;
};

Surface PinScan(const cv::Mat& field, const PinView& v) {
  const double c = std::cos(v.theta_deg * kDeg), s = std::sin(v.theta_deg * kDeg);
  cv::Mat map_x(kSide, kSide, CV_32F), map_y(kSide, kSide, CV_32F);
  for (int r = 0; r < kSide; ++r)
    for (int col = 0; col < kSide; ++col) {
      const double px = col * kSpacing - v.cx_um, py = r * kSpacing - v.cy_um;
      map_x.at<float>(r, col) = static_cast<float>((c * px - s * py + kFieldHalfUm) / kFieldCellUm);
      map_y.at<float>(r, col) = static_cast<float>((s * px + c * py + kFieldHalfUm) / kFieldCellUm);
    }
  cv::Mat sampled, z;
  cv::remap(field, sampled, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REFLECT);
  sampled.convertTo(z, CV_64F);
  cv::RNG rng(v.noise_seed);
  for (int r = 0; r < kSide; ++r)
    for (int col = 0; col < kSide; ++col) {
      const double dx = col * kSpacing - v.cx_um, dy = r * kSpacing - v.cy_um, d = std::hypot(dx, dy);
      double& value = z.at<double>(r, col);
      if (d < kBowlRadiusUm) value -= kBowlDepthUm * (1 - (d / kBowlRadiusUm) * (d / kBowlRadiusUm));
      value += v.noise_um * rng.gaussian(1.0);
      if (v.mask_deg > 0 && d < kBowlRadiusUm) {
        const double angle = std::atan2(dy, dx) / kDeg;
        if (std::abs(std::remainder(angle - v.mask_from_deg - 0.5 * v.mask_deg, 360.0)) <= 0.5 * v.mask_deg)
          value = kNaN;
      }
    }
  Surface out;
  out.values = z;
  out.spacing_x_um = out.spacing_y_um = kSpacing;
  return out;
}

/// A breech face as PreprocessBreechFace (12.5 µm working grid) would report
/// a hole at (x, y) µm of the scan's grid with radius r: cell c of the working
/// grid covers scan points [2c, 2c + 2), so its centre is scan point 2c + ½.
BreechFace FaceWithHole(double x_um, double y_um, double r_um) {
  BreechFace face;
  face.surface.spacing_x_um = face.surface.spacing_y_um = 12.5;
  face.surface.values = cv::Mat(kSide / 2, kSide / 2, CV_64F, cv::Scalar(0));
  face.firing_pin_found = true;
  face.firing_pin_centre_x_um = (x_um / kSpacing - 0.5) / 2 * 12.5;
  face.firing_pin_centre_y_um = (y_um / kSpacing - 0.5) / 2 * 12.5;
  face.firing_pin_radius_um = r_um;
  return face;
}

/// The detected radius of a half-depth cut of the parabola (as breech-face
/// preprocessing finds it), the true centre given with an error of (ex, ey).
FiringPinImpression Extract(const Surface& scan, const PinView& v, double ex = 0, double ey = 0,
                            const FiringPinOptions& o = {}) {
  return ExtractFiringPin(scan, FaceWithHole(v.cx_um + ex, v.cy_um + ey, kBowlRadiusUm / std::sqrt(2.0)), o);
}

class FiringPinHandBuilt : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    field_ = new cv::Mat(MarkField(21));
    other_field_ = new cv::Mat(MarkField(22));
    a_ = new FiringPinImpression(Extract(PinScan(*field_, PinView{}), PinView{}, 9, -7));
  }
  static void TearDownTestSuite() {
    delete field_;
    delete other_field_;
    delete a_;
  }
  /// B: the same marks seen at θ, its centre moved by (40, −25) µm, 0.15 µm
  /// of noise, a 40° wedge missing; the hole's circle is off by (−8, 11) µm.
  static PinView Moved(double theta_deg) {
    PinView v;
    v.theta_deg = theta_deg;
    v.cx_um += 40, v.cy_um -= 25;
    v.noise_um = 0.15;
    v.noise_seed = static_cast<std::uint64_t>(1000 + theta_deg);
    v.mask_from_deg = 100, v.mask_deg = 40;
    return v;
  }
  static cv::Mat* field_;
  static cv::Mat* other_field_;
  static FiringPinImpression* a_;
};
cv::Mat* FiringPinHandBuilt::field_ = nullptr;
cv::Mat* FiringPinHandBuilt::other_field_ = nullptr;
FiringPinImpression* FiringPinHandBuilt::a_ = nullptr;

TEST_F(FiringPinHandBuilt, ExtractionRefinesTheCentreAndFillsThePolarGrid) {
  const FiringPinImpression& a = *a_;
  ASSERT_TRUE(a.present) << a.note;
  const PinView v;
  // Given 11.4 µm off; the marks (1 µm rms) on this gentle bowl limit the
  // refinement to a few µm (the comparison's centre search takes the rest).
  EXPECT_NEAR(a.centre_x_um, v.cx_um, 4.0);
  EXPECT_NEAR(a.centre_y_um, v.cy_um, 4.0);
  EXPECT_LT(std::hypot(a.centre_x_um - v.cx_um, a.centre_y_um - v.cy_um), 0.5 * std::hypot(9, 7));
  EXPECT_NEAR(a.centre_shift_um, std::hypot(9, 7), 4.0);
  EXPECT_NEAR(a.radius_um, kBowlRadiusUm / std::sqrt(2.0), 1e-6);
  EXPECT_NEAR(a.depth_um, 0.5 * kBowlDepthUm, 2.0);  // the bowl within the half-depth radius
  EXPECT_EQ(a.polar.type(), CV_64FC1);
  EXPECT_EQ(a.polar.cols, 360);
  const FiringPinOptions o;
  EXPECT_EQ(a.first_ring, static_cast<int>(std::ceil(o.inner_fraction * a.radius_um / o.spacing_um)));
  EXPECT_EQ(a.first_ring + a.polar.rows - 1,
            static_cast<int>(std::floor(o.outer_fraction * a.radius_um / o.spacing_um)));
  EXPECT_EQ(cv::countNonZero(a.polar == a.polar), a.polar.rows * a.polar.cols);  // no NaN
  // The processed surface: form removed (mean ~0, ~1 µm rms marks, less after λc).
  cv::Scalar mean, sd;
  cv::meanStdDev(a.processed.values, mean, sd, a.processed.values == a.processed.values);
  EXPECT_LT(std::abs(mean[0]), 0.1);
  EXPECT_GT(sd[0], 0.3);
  EXPECT_LT(sd[0], 1.2);
}

TEST_F(FiringPinHandBuilt, RotatedTranslatedNoisyMaskedCopiesAreFoundAtTheirRotation) {
  for (double theta : {0.0, 37.0, 143.5, 200.0, 291.0, -75.0}) {
    SCOPED_TRACE("theta " + std::to_string(theta));
    const PinView v = Moved(theta);
    const FiringPinImpression b = Extract(PinScan(*field_, v), v, -8, 11);
    ASSERT_TRUE(b.present) << b.note;
    for (double reference : {theta, kNaN}) {
      const FiringPinComparison c = CompareFiringPins(*a_, b, reference);
      ASSERT_TRUE(c.compared) << c.note;
      EXPECT_LE(std::abs(AngleError(c.rotation_deg, theta)), 2.0) << c.rotation_deg;
      EXPECT_LE(std::abs(AngleError(c.backward.rotation_deg, -theta)), 2.0) << c.backward.rotation_deg;
      EXPECT_GT(c.ccf, 0.6);
      EXPECT_GE(c.congruent_sectors, 6) << c.note;
      EXPECT_GE(c.sectors_used, 7);  // B's sector [90°, 135°) is mostly missing
    }
  }
}

TEST_F(FiringPinHandBuilt, IndependentMarksAreNotCongruent) {
  for (double theta : {0.0, 200.0}) {
    PinView v = Moved(theta);
    const FiringPinImpression b = Extract(PinScan(*other_field_, v), v, -8, 11);
    ASSERT_TRUE(b.present) << b.note;
    for (double reference : {theta, kNaN}) {
      const FiringPinComparison c = CompareFiringPins(*a_, b, reference);
      ASSERT_TRUE(c.compared) << c.note;
      EXPECT_LE(c.congruent_sectors, 1) << c.note;
      EXPECT_LT(c.ccf, 0.3);
    }
  }
}

TEST_F(FiringPinHandBuilt, AWrongReferenceRotationLeavesNoSectorCongruent) {
  const PinView v = Moved(200);
  const FiringPinImpression b = Extract(PinScan(*field_, v), v, -8, 11);
  const FiringPinComparison c = CompareFiringPins(*a_, b, 230.0);
  ASSERT_TRUE(c.compared);
  EXPECT_EQ(c.congruent_sectors, 0);
  EXPECT_LE(std::abs(AngleError(c.rotation_deg, 200)), 2.0);  // the correlation does not depend on it
}

TEST_F(FiringPinHandBuilt, IntensityImagesWorkAlike) {
  const PinView v = Moved(120);
  Surface a = PinScan(*field_, PinView{}), b = PinScan(*field_, v);
  for (Surface* s : {&a, &b}) {
    s->kind = SurfaceKind::kIntensity;
    s->values = s->values * 20 + 128;  // grey levels
  }
  const FiringPinImpression fa = Extract(a, PinView{}), fb = Extract(b, v);
  ASSERT_TRUE(fa.present && fb.present);
  EXPECT_EQ(fa.processed.kind, SurfaceKind::kIntensity);
  const FiringPinComparison c = CompareFiringPins(fa, fb, kNaN);
  EXPECT_LE(std::abs(AngleError(c.rotation_deg, 120)), 2.0);
  EXPECT_GE(c.congruent_sectors, 6);
}

TEST_F(FiringPinHandBuilt, AHoleWithoutDataOrWithoutAHoleIsAbsent) {
  PinView v;
  Surface scan = PinScan(*field_, v);
  for (int r = 0; r < kSide; ++r)
    for (int col = 0; col < kSide; ++col)
      if (std::hypot(col * kSpacing - v.cx_um, r * kSpacing - v.cy_um) < 0.9 * kBowlRadiusUm)
        scan.values.at<double>(r, col) = kNaN;
  const FiringPinImpression empty = Extract(scan, v);
  EXPECT_FALSE(empty.present);
  EXPECT_NE(empty.note.find("data"), std::string::npos) << empty.note;
  BreechFace no_hole = FaceWithHole(0, 0, 0);
  no_hole.firing_pin_found = false;
  const FiringPinImpression none = ExtractFiringPin(PinScan(*field_, v), no_hole);
  EXPECT_FALSE(none.present);
  EXPECT_FALSE(none.note.empty());
  const FiringPinComparison c = CompareFiringPins(*a_, empty, 0.0);
  EXPECT_FALSE(c.compared);
  EXPECT_NE(c.note.find("absent"), std::string::npos) << c.note;
}

TEST_F(FiringPinHandBuilt, InvalidOptionsAndMismatchedInputThrow) {
  const Surface scan = PinScan(*field_, PinView{});
  const BreechFace face = FaceWithHole(800, 800, 360);
  const auto extract = [&](const FiringPinOptions& o) { ExtractFiringPin(scan, face, o); };
  FiringPinOptions o;
  o.spacing_um = 0;
  EXPECT_THROW(extract(o), Error);
  o = {};
  o.inner_fraction = 0.8;  // ≥ outer
  EXPECT_THROW(extract(o), Error);
  o = {};
  o.angle_step_deg = 7;  // 360 / 7 is not whole
  EXPECT_THROW(extract(o), Error);
  o = {};
  o.sectors = 0;
  EXPECT_THROW(extract(o), Error);
  o = {};
  o.lambda_c_um = -1;
  EXPECT_THROW(extract(o), Error);
  o = {};
  o.centre_search_um = kNaN;
  EXPECT_THROW(extract(o), Error);
  o = {};
  o.ccf_threshold = 2;
  EXPECT_THROW(CompareFiringPins(*a_, *a_, 0.0, o), Error);
  BreechFace other_grid = face;
  other_grid.surface.values = cv::Mat(100, 128, CV_64F, cv::Scalar(0));
  EXPECT_THROW(ExtractFiringPin(scan, other_grid), Error);
  Surface empty;
  EXPECT_THROW(ExtractFiringPin(empty, face), Error);
  o = {};
  o.spacing_um = 8;
  const FiringPinImpression coarse = ExtractFiringPin(scan, face, o);
  ASSERT_TRUE(coarse.present);
  EXPECT_THROW(CompareFiringPins(*a_, coarse, 0.0), Error);
  try {
    CompareFiringPins(*a_, coarse, 0.0);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

bool SameBits(const cv::Mat& x, const cv::Mat& y) {
  return x.size() == y.size() && x.type() == y.type() &&
         std::memcmp(x.data, y.data, x.total() * x.elemSize()) == 0;
}

TEST_F(FiringPinHandBuilt, DeterministicForAnyThreadCount) {
  const PinView v = Moved(200);
  const Surface scan = PinScan(*field_, v);
  const auto run = [&](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    const FiringPinImpression b = Extract(scan, v, -8, 11);
    return std::make_pair(b, CompareFiringPins(*a_, b, kNaN));
  };
  const auto [b1, c1] = run(1);
  const auto [b2, c2] = run(2);
  const auto [b3, c3] = run(2);
  for (const auto* other : {&b2, &b3}) {
    EXPECT_TRUE(SameBits(b1.polar, other->polar));
    EXPECT_TRUE(SameBits(b1.processed.values, other->processed.values));
    EXPECT_EQ(b1.centre_x_um, other->centre_x_um);
  }
  for (const auto* other : {&c2, &c3}) {
    EXPECT_EQ(c1.ccf, other->ccf);
    EXPECT_EQ(c1.rotation_deg, other->rotation_deg);
    EXPECT_EQ(c1.congruent_sectors, other->congruent_sectors);
    ASSERT_EQ(c1.forward.sectors.size(), other->forward.sectors.size());
    for (std::size_t k = 0; k < c1.forward.sectors.size(); ++k) {
      EXPECT_EQ(c1.forward.sectors[k].ccf, other->forward.sectors[k].ccf);
      EXPECT_EQ(c1.backward.sectors[k].rotation_deg, other->backward.sectors[k].rotation_deg);
    }
  }
}

// ---------------------------------------------------------------- synthetic

struct SynthCase {
  Surface scan;
  BreechFace face;  // at the CMC spacing
  FiringPinImpression pin;
};

SynthCase Synth(int firearm, int shot) {
  SynthOptions so;
  so.seed = 7;
  so.firearms = 2;
  so.per_firearm = 2;
  SynthCase s;
  s.scan = GenerateSynthScan(so, firearm * so.per_firearm + shot).surface;
  BreechFaceOptions bo;
  bo.spacing_um = CmcOptions{}.spacing_um;
  s.face = PreprocessBreechFace(s.scan, bo);
  s.pin = ExtractFiringPin(s.scan, s.face);
  return s;
}

TEST(FiringPinSynthetic, ShotsOfOneFirearmAgreeWithTheBreechFacesRotation) {
  const SynthCase a = Synth(0, 0), b = Synth(0, 1), c = Synth(1, 0);
  ASSERT_TRUE(a.pin.present) << a.pin.note;
  ASSERT_TRUE(b.pin.present) << b.pin.note;
  ASSERT_TRUE(c.pin.present) << c.pin.note;
  const CmcResult cmc = CompareCmc(a.face, b.face);
  ASSERT_GE(cmc.count, 6);  // a registration to trust
  for (double reference : {cmc.forward.rotation_deg, kNaN}) {
    const FiringPinComparison km = CompareFiringPins(a.pin, b.pin, reference);
    ASSERT_TRUE(km.compared) << km.note;
    std::printf("same firearm: ccf %.3f, rotation %.2f (CMC %.2f), %d of %d sectors congruent\n", km.ccf,
                km.rotation_deg, cmc.forward.rotation_deg, km.congruent_sectors, km.sectors_used);
    EXPECT_LE(std::abs(AngleError(km.rotation_deg, cmc.forward.rotation_deg)), 3.0);
    EXPECT_GE(km.congruent_sectors, 6);
    EXPECT_GT(km.ccf, 0.5);
  }
  // Firearms 0 and 1: one model (shared class marks), different firing pins.
  const CmcResult cmc_knm = CompareCmc(a.face, c.face);
  for (double reference : {cmc_knm.forward.rotation_deg, kNaN}) {
    const FiringPinComparison knm = CompareFiringPins(a.pin, c.pin, reference);
    ASSERT_TRUE(knm.compared) << knm.note;
    std::printf("different firearms: ccf %.3f, %d of %d sectors congruent\n", knm.ccf, knm.congruent_sectors,
                knm.sectors_used);
    EXPECT_LE(knm.congruent_sectors, 1);
    EXPECT_LT(knm.ccf, 0.4);
  }
}

TEST(FiringPinSynthetic, AnEmptiedHoleIsAbsent) {
  SynthCase a = Synth(0, 0);
  ASSERT_TRUE(a.pin.present);
  Surface emptied = a.scan;
  const double sx = emptied.spacing_x_um, sy = emptied.spacing_y_um;
  for (int r = 0; r < emptied.values.rows; ++r)
    for (int c = 0; c < emptied.values.cols; ++c)
      if (std::hypot(c * sx - a.pin.centre_x_um, r * sy - a.pin.centre_y_um) < 1.05 * a.pin.radius_um)
        emptied.values.at<double>(r, c) = kNaN;
  BreechFaceOptions bo;
  bo.spacing_um = CmcOptions{}.spacing_um;
  const BreechFace face = PreprocessBreechFace(emptied, bo);
  ASSERT_TRUE(face.firing_pin_found);  // now as a hole without data
  EXPECT_FALSE(face.firing_pin_from_depth);
  const FiringPinImpression pin = ExtractFiringPin(emptied, face);
  EXPECT_FALSE(pin.present);
  EXPECT_NE(pin.note.find("data"), std::string::npos) << pin.note;
}

// ---------------------------------------------------------------- real scans

#ifdef TOOLMARK_HAVE_INGEST
TEST(FiringPinFadul, ProcessedScansHaveNoImpression) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string dir = testing::DatasetsDir() + "/fadul/";
  std::vector<std::string> files;
  for (int k = 1; k <= 10; ++k)
    for (int shot = 1; shot <= 2; ++shot)
      files.push_back("fadul-" + std::to_string(k) + "-" + std::to_string(shot) + ".x3p");
  std::vector<FiringPinImpression> pins(files.size());
  std::vector<char> found(files.size());
  tbb::parallel_for(std::size_t{0}, files.size(), [&](std::size_t i) {
    const Surface scan = ingest::ReadScan(dir + files[i], ingest::ReadOptions{}).surface;
    const BreechFace face = PreprocessBreechFace(scan);
    found[i] = face.firing_pin_found;
    pins[i] = ExtractFiringPin(scan, face);
  });
  int holes = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    holes += found[i];
    EXPECT_FALSE(pins[i].present) << files[i];
    EXPECT_FALSE(pins[i].note.empty()) << files[i];
  }
  std::printf("Fadul: %d of %zu scans with a firing-pin hole, none with an impression; e.g. %s\n", holes,
              files.size(), pins[0].note.c_str());
  EXPECT_GE(holes, 15);  // the holes are found (as missing data), the impressions are absent
}
#endif  // TOOLMARK_HAVE_INGEST

}  // namespace
}  // namespace toolmark
