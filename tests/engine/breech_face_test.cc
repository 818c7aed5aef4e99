// Tests of breech-face preprocessing (toolmark/engine/breech_face.h):
// leveling, spike removal, the ISO Gaussian band-pass, region-of-interest
// detection and resampling, on synthetic scans whose truth is known, and
// (where ../shared/datasets exists) on the 40 real Fadul scans.
#include "toolmark/engine/breech_face.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/synth.h"

// The real-scan tests need the ingest library's reader.
#if __has_include("toolmark/ingest/scan.h")
#include <filesystem>

#include "toolmark/ingest/scan.h"
#define TOOLMARK_HAVE_INGEST 1
#endif

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ------------------------------------------------------------------ fixtures

/// Isotropic random roughness of 1 µm rms: white noise smoothed at 8, 20 and
/// 50 µm, each scaled to unit rms, summed and scaled again.
cv::Mat Roughness(int rows, int cols, double spacing_um, std::uint64_t seed) {
  cv::RNG rng(seed);
  cv::Mat total = cv::Mat::zeros(rows, cols, CV_64F);
  for (double sigma_um : {8.0, 20.0, 50.0}) {
    cv::Mat noise(rows, cols, CV_64F), smooth;
    rng.fill(noise, cv::RNG::NORMAL, 0.0, 1.0);
    cv::GaussianBlur(noise, smooth, cv::Size(0, 0), sigma_um / spacing_um, 0, cv::BORDER_REFLECT);
    cv::Scalar mean, sd;
    cv::meanStdDev(smooth, mean, sd);
    total += (smooth - mean[0]) / sd[0];
  }
  cv::Scalar mean, sd;
  cv::meanStdDev(total, mean, sd);
  return (total - mean[0]) / sd[0];
}

Surface MakeSurface(cv::Mat values, double spacing_um) {
  Surface s;
  s.values = std::move(values);
  s.spacing_x_um = s.spacing_y_um = spacing_um;
  return s;
}

/// A synthetic primer: a disc of rough surface (NaN outside) with a
/// firing-pin hole, either missing (NaN) or a flat-bottomed depression.
struct PrimerSpec {
  double spacing_um = 6.25;
  double spacing_y_um = 0;                        // 0: spacing_um
  double field_um = 4500;                         // square scan
  double centre_x_um = 2200, centre_y_um = 2300;  // primer centre (from point (0, 0))
  double radius_um = 2000;
  double pin_x_um = 2550, pin_y_um = 2050;  // off-centre firing pin
  double pin_radius_um = 400;
  double pin_depth_um = 0;  // 0: the hole is NaN; else depressed this much
  double pin_lip_um = 0;    // raised rim of this height and 50 µm width around the hole
  double roll_off_um = 0;   // the outer 120 µm of the primer falls by this much
  std::uint64_t seed = 7;
};

Surface Primer(const PrimerSpec& p) {
  const double sy = p.spacing_y_um > 0 ? p.spacing_y_um : p.spacing_um;
  const int cols = static_cast<int>(std::lround(p.field_um / p.spacing_um));
  const int rows = static_cast<int>(std::lround(p.field_um / sy));
  cv::Mat z = Roughness(rows, cols, p.spacing_um, p.seed);  // a little anisotropic when sy differs
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double x = c * p.spacing_um, y = r * sy;
      const double d = std::hypot(x - p.centre_x_um, y - p.centre_y_um);
      const double dp = std::hypot(x - p.pin_x_um, y - p.pin_y_um);
      double& v = z.at<double>(r, c);
      if (d > p.radius_um) v = kNaN;
      if (d > p.radius_um - 120) v -= p.roll_off_um * (d - (p.radius_um - 120)) / 120;
      if (dp >= p.pin_radius_um && dp < p.pin_radius_um + 50) v += p.pin_lip_um;
      if (dp < p.pin_radius_um) v = p.pin_depth_um > 0 ? v - p.pin_depth_um : kNaN;
    }
  }
  Surface s = MakeSurface(z, p.spacing_um);
  s.spacing_y_um = sy;
  return s;
}

int CountFinite(const cv::Mat& v) { return cv::countNonZero(v == v); }

/// Pearson correlation over the cells finite in both.
double Correlation(const cv::Mat& a, const cv::Mat& b) {
  double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int r = 0; r < std::min(a.rows, b.rows); ++r) {
    for (int c = 0; c < std::min(a.cols, b.cols); ++c) {
      const double x = a.at<double>(r, c), y = b.at<double>(r, c);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      n += 1, sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
    }
  }
  return (sab - sa * sb / n) / std::sqrt((saa - sa * sa / n) * (sbb - sb * sb / n));
}

/// RMS of the finite cells at least `inset` cells from the grid's border.
double InteriorRms(const cv::Mat& v, int inset) {
  double sum = 0;
  int n = 0;
  for (int r = inset; r < v.rows - inset; ++r)
    for (int c = inset; c < v.cols - inset; ++c)
      if (std::isfinite(v.at<double>(r, c))) sum += v.at<double>(r, c) * v.at<double>(r, c), ++n;
  return std::sqrt(sum / n);
}

bool HasNote(const BreechFace& b, const std::string& text) {
  return std::any_of(b.notes.begin(), b.notes.end(),
                     [&](const std::string& note) { return note.find(text) != std::string::npos; });
}

/// A sine of the given wavelength along x (amplitude 1), on a rows × cols grid.
Surface Sine(int rows, int cols, double spacing_um, double wavelength_um, double amplitude) {
  cv::Mat z(rows, cols, CV_64F);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      z.at<double>(r, c) = amplitude * std::sin(2 * M_PI * c * spacing_um / wavelength_um + 0.3);
  return MakeSurface(z, spacing_um);
}

// ------------------------------------------------------------------ leveling

TEST(BreechFace, LevelingRemovesAKnownTiltDespiteOutliers) {
  // 3 × 3 mm of 1 µm rms roughness tilted by (0.03, −0.02) µm/µm (2.07°),
  // offset 100 µm, with a 40 µm high block over 10% of the area.
  const double spacing = 6.25, sx = 0.03, sy = -0.02;
  const cv::Mat rough = Roughness(480, 480, spacing, 3);
  cv::Mat tilted = rough.clone();
  for (int r = 0; r < tilted.rows; ++r)
    for (int c = 0; c < tilted.cols; ++c)
      tilted.at<double>(r, c) += 100 + sx * c * spacing + sy * r * spacing + (r < 48 ? 40.0 : 0.0);
  cv::Mat flat = rough.clone();
  flat(cv::Rect(0, 0, 480, 48)) += 40.0;
  const BreechFace a = PreprocessBreechFace(MakeSurface(tilted, spacing));
  const BreechFace b = PreprocessBreechFace(MakeSurface(flat, spacing));
  // The fitted plane is the true one within 1e-4 µm/µm (0.006°).
  EXPECT_NEAR(a.plane_slope_x, sx, 1e-4);
  EXPECT_NEAR(a.plane_slope_y, sy, 1e-4);
  EXPECT_NEAR(a.plane_tilt_deg, std::atan(std::hypot(sx, sy)) * 180 / M_PI, 0.006);
  EXPECT_NEAR(b.plane_tilt_deg, 0.0, 0.006);
  // What remains is the untilted scan's result.
  EXPECT_GT(Correlation(a.surface.values, b.surface.values), 0.9999);
  EXPECT_EQ(CountFinite(a.surface.values), CountFinite(b.surface.values));
}

// -------------------------------------------------------------------- spikes

TEST(BreechFace, SpikesAreRemovedAndNothingElse) {
  // A smooth surface (300 and 520 µm waves, 2 µm, plus 0.02 µm noise).
  const double spacing = 6.25;
  const int n = 400;
  cv::Mat z(n, n, CV_64F);
  cv::RNG rng(11);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c)
      z.at<double>(r, c) = 2 * std::sin(2 * M_PI * c * spacing / 300) +
                           2 * std::cos(2 * M_PI * (0.6 * c + 0.8 * r) * spacing / 520) + rng.gaussian(0.02);
  const BreechFace clean = PreprocessBreechFace(MakeSurface(z, spacing));
  EXPECT_EQ(clean.spikes_removed, 0);
  // 40 single spikes of ±3..40 µm and 5 pairs of adjacent ones, anywhere
  // (the grid's edges included).
  cv::Mat spiky = z.clone();
  int inserted = 0;
  for (int k = 0; k < 45; ++k) {
    const int r = k < 3 ? 0 : rng.uniform(0, n), c = k == 1 ? n - 1 : rng.uniform(0, n - 1);
    const double height = (k % 2 ? 1 : -1) * rng.uniform(3.0, 40.0);
    if (std::abs(spiky.at<double>(r, c) - z.at<double>(r, c)) > 0) continue;  // already a spike
    spiky.at<double>(r, c) += height, ++inserted;
    if (k >= 40 && spiky.at<double>(r, c + 1) == z.at<double>(r, c + 1))
      spiky.at<double>(r, c + 1) += 0.8 * height, ++inserted;
  }
  const BreechFace b = PreprocessBreechFace(MakeSurface(spiky, spacing));
  EXPECT_EQ(b.spikes_removed, inserted);
  // Removing the spikes left the result as without them: the same cells, no
  // trace of a 3..40 µm spike (a removed point moves its cell's mean by at
  // most about slope × spacing / 3 ≈ 0.07 µm here).
  EXPECT_EQ(CountFinite(b.surface.values), CountFinite(clean.surface.values));
  cv::Mat diff = cv::abs(b.surface.values - clean.surface.values);
  diff.setTo(0, diff != diff);
  double max_diff = 0;
  cv::minMaxLoc(diff, nullptr, &max_diff);
  EXPECT_LT(max_diff, 0.15);
}

// ----------------------------------------------------------------- band-pass

TEST(BreechFace, BandPassRemovesLongWavesKeepsTheBand) {
  // 2 mm, 5 µm and 60 µm sines (amplitude 5 µm) on scans fine enough for
  // each; the output rms in the interior (4σ of λc = 15 cells from the grid's
  // edges) over the input rms. Expected from ISO 16610: 2 mm → 0.011, 5 µm →
  // 0.0008, 60 µm → 0.95 (λs) × 0.93 (12.5 µm area average) ≈ 0.89.
  const double amplitude = 5, input_rms = amplitude / std::sqrt(2.0);
  const BreechFace long_wave = PreprocessBreechFace(Sine(160, 720, 6.25, 2000, amplitude));
  const BreechFace short_wave = PreprocessBreechFace(Sine(800, 800, 1.0, 5, amplitude));
  const BreechFace band = PreprocessBreechFace(Sine(500, 500, 2.0, 60, amplitude));
  const double t_long = InteriorRms(long_wave.surface.values, 15) / input_rms;
  const double t_short = InteriorRms(short_wave.surface.values, 15) / input_rms;
  const double t_band = InteriorRms(band.surface.values, 15) / input_rms;
  EXPECT_LT(t_long, 0.05);
  EXPECT_LT(t_short, 0.05);
  EXPECT_GT(t_band, 0.8);
  EXPECT_LT(t_band, 1.0);
  for (const BreechFace* b : {&long_wave, &short_wave, &band}) {
    EXPECT_EQ(b->spikes_removed, 0);
    EXPECT_FALSE(b->outer_found);
    EXPECT_FALSE(b->firing_pin_found);
    EXPECT_TRUE(HasNote(*b, "no firing-pin hole found: none removed"));
    EXPECT_EQ(CountFinite(b->surface.values), static_cast<int>(b->surface.values.total()));  // all kept
  }
  EXPECT_EQ(band.surface.values.cols, 80);  // 500 × 2 µm / 12.5 µm
  EXPECT_DOUBLE_EQ(band.surface.spacing_x_um, 12.5);
  EXPECT_DOUBLE_EQ(band.surface.origin_x_um, 0.5 * (12.5 - 2.0));  // centre of the first cell
}

TEST(BreechFace, InfiniteLambdaCTurnsTheHighPassOff) {
  BreechFaceOptions o;
  o.lambda_c_um = std::numeric_limits<double>::infinity();
  const BreechFace b = PreprocessBreechFace(Sine(160, 720, 6.25, 2000, 5.0), o);
  // Only leveling acted: most of the 2 mm wave is left.
  EXPECT_GT(InteriorRms(b.surface.values, 15), 0.5 * 5 / std::sqrt(2.0));
}

// ------------------------------------------------------ region of interest

void ExpectPrimerFound(const BreechFace& b, const PrimerSpec& p, double tolerance_um) {
  ASSERT_TRUE(b.outer_found);
  ASSERT_TRUE(b.firing_pin_found);
  // Output-grid µm: cell c's centre lies at origin + c·spacing.
  const double ox = b.surface.origin_x_um, oy = b.surface.origin_y_um;
  EXPECT_NEAR(b.centre_um.x + ox, p.centre_x_um, tolerance_um);
  EXPECT_NEAR(b.centre_um.y + oy, p.centre_y_um, tolerance_um);
  EXPECT_NEAR(b.outer_radius_um, p.radius_um, tolerance_um);
  EXPECT_NEAR(b.firing_pin_centre_x_um + ox, p.pin_x_um, tolerance_um);
  EXPECT_NEAR(b.firing_pin_centre_y_um + oy, p.pin_y_um, tolerance_um);
  EXPECT_NEAR(b.firing_pin_radius_um, p.pin_radius_um, tolerance_um);
}

/// ROI value at the output cell nearest to scan point (x, y) µm.
int RoiAt(const BreechFace& b, double x_um, double y_um) {
  const int c = static_cast<int>(std::lround((x_um - b.surface.origin_x_um) / b.surface.spacing_x_um));
  const int r = static_cast<int>(std::lround((y_um - b.surface.origin_y_um) / b.surface.spacing_y_um));
  return b.roi.at<std::uint8_t>(r, c);
}

TEST(BreechFace, FindsPrimerAndFiringPinHoleAtAnySpacing) {
  // Tolerance: ±2 working cells (25 µm) for centres and radii.
  // The last scan has different x and y spacings.
  for (const auto& [spacing, spacing_y] : {std::pair{6.25, 0.0}, {4.0, 0.0}, {10.0, 0.0}, {6.25, 5.0}}) {
    SCOPED_TRACE("spacing " + std::to_string(spacing) + " / " + std::to_string(spacing_y));
    PrimerSpec p;
    p.spacing_um = spacing;
    p.spacing_y_um = spacing_y;
    const BreechFace b = PreprocessBreechFace(Primer(p));
    ExpectPrimerFound(b, p, 25.0);
    EXPECT_FALSE(b.firing_pin_from_depth);
    // Clean (already cropped) edges: no margin dropped.
    EXPECT_FALSE(b.outer_margin_applied);
    EXPECT_FALSE(b.firing_pin_margin_applied);
    ASSERT_EQ(b.roi.type(), CV_8UC1);
    ASSERT_EQ(b.roi.size(), b.surface.values.size());
    EXPECT_EQ(RoiAt(b, p.pin_x_um, p.pin_y_um), 0);
    EXPECT_EQ(RoiAt(b, p.centre_x_um - 1500, p.centre_y_um), 255);
    EXPECT_EQ(RoiAt(b, 100, 100), 0);  // outside the primer
    // The kept area is the annulus's (within 3%).
    const double annulus = M_PI * (p.radius_um * p.radius_um - p.pin_radius_um * p.pin_radius_um);
    EXPECT_NEAR(CountFinite(b.surface.values) * 12.5 * 12.5 / annulus, 1.0, 0.03);
  }
}

TEST(BreechFace, FindsADepressedFiringPinAndDropsItsMargin) {
  PrimerSpec p;
  p.pin_depth_um = 50;
  const BreechFace b = PreprocessBreechFace(Primer(p));
  ExpectPrimerFound(b, p, 25.0);
  EXPECT_TRUE(b.firing_pin_from_depth);
  // The wall is an edge artefact: the margin goes, the impression with it.
  EXPECT_TRUE(b.firing_pin_margin_applied);
  EXPECT_GT(b.firing_pin_edge_ratio, 3.5);
  EXPECT_EQ(RoiAt(b, p.pin_x_um, p.pin_y_um), 0);
  EXPECT_EQ(RoiAt(b, p.pin_x_um + p.pin_radius_um + 40, p.pin_y_um), 0);
  EXPECT_EQ(RoiAt(b, p.pin_x_um + p.pin_radius_um + 100, p.pin_y_um), 255);
  // No deep value is left.
  double lo = 0, hi = 0;
  b.surface.Range(&lo, &hi);
  EXPECT_GT(lo, -10.0);
}

TEST(BreechFace, RawEdgesLoseTheirMargins) {
  // A 20 µm lip around the hole and a 30 µm roll-off at the primer's edge.
  PrimerSpec p;
  p.pin_lip_um = 20;
  p.roll_off_um = 30;
  const BreechFace b = PreprocessBreechFace(Primer(p));
  ExpectPrimerFound(b, p, 25.0);
  EXPECT_TRUE(b.outer_margin_applied);
  EXPECT_TRUE(b.firing_pin_margin_applied);
  EXPECT_GT(b.outer_edge_ratio, 3.5);
  EXPECT_GT(b.firing_pin_edge_ratio, 3.5);
  EXPECT_EQ(RoiAt(b, p.centre_x_um - p.radius_um + 40, p.centre_y_um), 0);
  EXPECT_EQ(RoiAt(b, p.centre_x_um - p.radius_um + 100, p.centre_y_um), 255);
  EXPECT_EQ(RoiAt(b, p.pin_x_um + p.pin_radius_um + 40, p.pin_y_um), 0);
  // Clean edges lose them too when the margins are not adaptive.
  BreechFaceOptions fixed;
  fixed.adaptive_margins = false;
  const BreechFace c = PreprocessBreechFace(Primer(PrimerSpec{}), fixed);
  EXPECT_TRUE(c.outer_margin_applied);
  EXPECT_TRUE(c.firing_pin_margin_applied);
  const PrimerSpec q;
  EXPECT_EQ(RoiAt(c, q.centre_x_um - q.radius_um + 40, q.centre_y_um), 0);
}

TEST(BreechFace, FindsTheRegionsOfSynthesizedCartridgeCases) {
  // The project's generator: the primer is the disc of 1.8 mm radius about the
  // scan's centre (spacing 11.25–17.6 µm: some scans are coarser than the
  // working grid), the firing pin a 40 µm deep impression with data in it.
  SynthOptions o;
  o.firearms = 6;
  o.per_firearm = 1;
  for (int i = 0; i < SynthScanCount(o); ++i) {
    const SynthScan scan = GenerateSynthScan(o, i);
    SCOPED_TRACE(scan.file);
    const BreechFace b = PreprocessBreechFace(scan.surface);
    ASSERT_TRUE(b.outer_found);
    ASSERT_TRUE(b.firing_pin_found);
    EXPECT_TRUE(b.firing_pin_from_depth);
    EXPECT_TRUE(b.firing_pin_margin_applied);  // the impression's wall
    const double centre_x = (scan.surface.SizeX() - 1) / 2.0 * scan.surface.spacing_x_um;
    const double centre_y = (scan.surface.SizeY() - 1) / 2.0 * scan.surface.spacing_y_um;
    EXPECT_NEAR(b.centre_um.x + b.surface.origin_x_um, centre_x, 25.0);
    EXPECT_NEAR(b.centre_um.y + b.surface.origin_y_um, centre_y, 25.0);
    EXPECT_NEAR(b.outer_radius_um, 1800.0, 25.0);
    EXPECT_GT(b.firing_pin_radius_um, 300.0);
    EXPECT_LT(b.firing_pin_radius_um, 550.0);
  }
}

TEST(BreechFace, NothingCircularKeepsAllValidData) {
  // A rough rectangle with ragged dropouts: no circle.
  cv::Mat z = Roughness(400, 300, 6.25, 5);
  z(cv::Rect(0, 0, 300, 40)).setTo(kNaN);
  z(cv::Rect(120, 200, 30, 30)).setTo(kNaN);
  const BreechFace b = PreprocessBreechFace(MakeSurface(z, 6.25));
  EXPECT_FALSE(b.outer_found);
  EXPECT_FALSE(b.firing_pin_found);
  EXPECT_TRUE(HasNote(b, "no outer primer edge found"));
  EXPECT_TRUE(HasNote(b, "no firing-pin hole found: none removed"));
  EXPECT_EQ(cv::countNonZero(b.roi), static_cast<int>(b.roi.total()));
  // Every cell with at least half its area valid is kept.
  EXPECT_NEAR(CountFinite(b.surface.values), 150 * 200 - 20 * 150 - 15 * 15, 40);
}

TEST(BreechFace, UserMaskWins) {
  const PrimerSpec p;
  const Surface s = Primer(p);
  // Keep a 1 × 0.5 mm rectangle inside the annulus, at x ∈ [700, 1700), y ∈ [2000, 2500).
  cv::Mat mask = cv::Mat::zeros(s.values.size(), CV_8UC1);
  mask(cv::Rect(112, 320, 160, 80)).setTo(1);
  const BreechFace b = PreprocessBreechFace(s, {}, &mask);
  EXPECT_FALSE(b.outer_found);
  EXPECT_FALSE(b.firing_pin_found);
  EXPECT_TRUE(HasNote(b, "user mask"));
  EXPECT_EQ(cv::countNonZero(b.roi), 80 * 40);
  EXPECT_EQ(CountFinite(b.surface.values), 80 * 40);
  EXPECT_EQ(RoiAt(b, 1200, 2250), 255);
  // Also where detection would have kept data, the mask rules.
  EXPECT_EQ(RoiAt(b, 1200, 3000), 0);
  // A mask that keeps nothing, or of the wrong size, is refused.
  cv::Mat none = cv::Mat::zeros(s.values.size(), CV_8UC1);
  EXPECT_THROW(PreprocessBreechFace(s, {}, &none), Error);
  cv::Mat small = cv::Mat::ones(10, 10, CV_8UC1);
  EXPECT_THROW(PreprocessBreechFace(s, {}, &small), Error);
}

// ----------------------------------------------------------------- 2D images

TEST(BreechFace, IntensityImagesLoseTheirIlluminationGradient) {
  // Grey levels: 128 + 10 × roughness + a gradient of 0.04 grey levels per µm
  // (100 across the image).
  cv::Mat z = 128 + 10 * Roughness(400, 400, 6.25, 9);
  for (int r = 0; r < z.rows; ++r)
    for (int c = 0; c < z.cols; ++c) z.at<double>(r, c) += 0.04 * c * 6.25;
  Surface s = MakeSurface(z, 6.25);
  s.kind = SurfaceKind::kIntensity;
  const BreechFace b = PreprocessBreechFace(s);
  EXPECT_NEAR(b.plane_slope_x, 0.04, 1e-3);
  EXPECT_NEAR(b.plane_slope_y, 0.0, 1e-3);
  EXPECT_EQ(b.plane_tilt_deg, 0.0);
  EXPECT_TRUE(HasNote(b, "illumination gradient"));
  EXPECT_EQ(b.surface.kind, SurfaceKind::kIntensity);
  EXPECT_EQ(CountFinite(b.surface.values), static_cast<int>(b.surface.values.total()));
}

/// A ring-light image of a cartridge head, 6 × 4.5 mm at `spacing` µm: a
/// bright textured primer (radius 1800 µm) in a dark gap (400 µm wide), a
/// mid-grey head with dark headstamp strokes around it, and inside the
/// primer a dark firing-pin impression (radius 600 µm, off the primer's
/// centre) with a bright glint at its centre; 1% of the points saturated.
struct RingLight {
  double spacing = 10, cx = 3100, cy = 2200, radius = 1800, pin_x = 3220, pin_y = 2120, pin_radius = 600;
};

Surface RingLightImage(const RingLight& g, std::uint64_t seed) {
  const int cols = static_cast<int>(6000 / g.spacing), rows = static_cast<int>(4500 / g.spacing);
  const cv::Mat texture = Roughness(rows, cols, g.spacing, seed);
  cv::RNG rng(seed + 1);
  cv::Mat z(rows, cols, CV_64F);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double x = c * g.spacing, y = r * g.spacing, t = texture.at<double>(r, c);
      const double d = std::hypot(x - g.cx, y - g.cy), dp = std::hypot(x - g.pin_x, y - g.pin_y);
      double v = 110 + 20 * t;                                                               // head
      if (std::fmod(std::abs(x - 500), 900) < 120 && (y < 600 || y > 3900)) v = 40 + 8 * t;  // headstamp
      if (d < g.radius + 400) v = 30 + 8 * t;                                                // gap
      if (d < g.radius) v = 165 + 30 * t;                                                    // primer
      if (dp < g.pin_radius) v = 60 + 12 * t;     // firing-pin impression
      if (dp < 100) v = 230;                      // glint
      if (rng.uniform(0.0, 1.0) < 0.01) v = 255;  // saturated
      z.at<double>(r, c) = std::clamp(std::round(v), 0.0, 255.0);
    }
  }
  Surface s = MakeSurface(z, g.spacing);
  s.kind = SurfaceKind::kIntensity;
  return s;
}

TEST(BreechFace, FindsPrimerAndFiringPinInRingLightImages) {
  // Tolerance: 2 working cells (25 µm at 12.5 µm) for centres and radii.
  for (const RingLight& g : {RingLight{}, RingLight{5, 2900, 2300, 2000, 2800, 2400, 450},
                             RingLight{12.5, 3000, 2250, 1600, 3000, 2250, 700}}) {
    SCOPED_TRACE("spacing " + std::to_string(g.spacing));
    const BreechFace b = PreprocessBreechFace(RingLightImage(g, 4));
    ASSERT_TRUE(b.outer_found);
    EXPECT_NEAR(b.centre_um.x, g.cx, 25);
    EXPECT_NEAR(b.centre_um.y, g.cy, 25);
    EXPECT_NEAR(b.outer_radius_um, g.radius, 25);
    ASSERT_TRUE(b.firing_pin_found);
    EXPECT_NEAR(b.firing_pin_centre_x_um, g.pin_x, 25);
    EXPECT_NEAR(b.firing_pin_centre_y_um, g.pin_y, 25);
    EXPECT_NEAR(b.firing_pin_radius_um, g.pin_radius, 25);
    EXPECT_GT(b.outer_edge_strength, 1.0);
    EXPECT_GT(b.firing_pin_edge_strength, 1.0);
    // The ROI is the annulus between them: not the pin, the gap or the head.
    const auto roi_at = [&](double x, double y) {
      return b.roi.at<std::uint8_t>(static_cast<int>(y / 12.5), static_cast<int>(x / 12.5));
    };
    EXPECT_EQ(roi_at(g.pin_x, g.pin_y), 0);
    EXPECT_EQ(roi_at(g.cx - (g.radius + g.pin_radius) / 2 - 150, g.cy), 255);
    EXPECT_EQ(roi_at(g.cx, g.cy + g.radius + 200), 0);
    EXPECT_EQ(roi_at(300, 300), 0);
    // Saturated points are missing, not grey levels.
    EXPECT_GT(b.clipped_points, 0);
    EXPECT_TRUE(HasNote(b, "full-scale grey level"));
  }
}

TEST(BreechFace, RingLightPrimerEdgeIsBrighterInside) {
  // The same image in negative: the primer is dark in a bright gap, so the
  // primer's edge is not of the ring-light polarity and is not taken (the
  // bright-inside edge found is another circle); random texture has no circle.
  const RingLight g;
  Surface s = RingLightImage(g, 5);
  s.values = 255 - s.values;
  const BreechFace b = PreprocessBreechFace(s);
  EXPECT_TRUE(!b.outer_found || std::abs(b.outer_radius_um - g.radius) > 100) << b.outer_radius_um;
  Surface texture = MakeSurface(128 + 20 * Roughness(360, 480, 12.5, 6), 12.5);
  texture.kind = SurfaceKind::kIntensity;
  const BreechFace t = PreprocessBreechFace(texture);
  EXPECT_FALSE(t.outer_found);
  EXPECT_TRUE(HasNote(t, "no primer edge in the grey levels"));
  EXPECT_LT(t.outer_edge_strength, 1.0);
}

// ---------------------------------------------------------- bad input, determinism

void ExpectOneLineError(const Surface& s, const BreechFaceOptions& o = {}) {
  try {
    PreprocessBreechFace(s, o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.rfind("breech face: ", 0), 0u) << what;
  }
}

TEST(BreechFace, CorruptedInputThrowsOneLineErrors) {
  ExpectOneLineError(Surface{});
  Surface zero = MakeSurface(Roughness(100, 100, 6.25, 1), 0.0);
  ExpectOneLineError(zero);
  Surface nan_spacing = MakeSurface(Roughness(100, 100, 6.25, 1), kNaN);
  ExpectOneLineError(nan_spacing);
  ExpectOneLineError(MakeSurface(cv::Mat(100, 100, CV_64F, cv::Scalar(kNaN)), 6.25));
  ExpectOneLineError(MakeSurface(cv::Mat(3, 3, CV_64F, cv::Scalar(1.0)), 6.25));
  ExpectOneLineError(MakeSurface(cv::Mat(100, 100, CV_32F, cv::Scalar(1.0)), 6.25));
  cv::Mat sparse(100, 100, CV_64F, cv::Scalar(kNaN));
  sparse.at<double>(50, 50) = 1;
  ExpectOneLineError(MakeSurface(sparse, 6.25));
  const Surface fine = MakeSurface(Roughness(100, 100, 6.25, 1), 6.25);
  BreechFaceOptions swapped;
  swapped.lambda_s_um = 300;
  ExpectOneLineError(fine, swapped);
  BreechFaceOptions no_spacing;
  no_spacing.spacing_um = 0;
  ExpectOneLineError(fine, no_spacing);
  // Infinite values count as missing.
  cv::Mat inf = Roughness(100, 100, 6.25, 1);
  inf.at<double>(10, 10) = std::numeric_limits<double>::infinity();
  EXPECT_NO_THROW(PreprocessBreechFace(MakeSurface(inf, 6.25)));
}

TEST(BreechFace, DeterministicWithAnyThreadCount) {
  PrimerSpec p;
  p.pin_depth_um = 50;
  const Surface s = Primer(p);
  BreechFace one, two;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = PreprocessBreechFace(s);
  }
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 2);
    two = PreprocessBreechFace(s);
  }
  EXPECT_TRUE(IdenticalSurfaces(one.surface, two.surface));
  EXPECT_EQ(cv::countNonZero(one.roi != two.roi), 0);
  EXPECT_EQ(one.outer_radius_um, two.outer_radius_um);
  EXPECT_EQ(one.firing_pin_radius_um, two.firing_pin_radius_um);
  EXPECT_EQ(one.spikes_removed, two.spikes_removed);
  EXPECT_EQ(one.notes, two.notes);
}

// ------------------------------------------------------------ real scans

#ifdef TOOLMARK_HAVE_INGEST
TEST(BreechFace, FadulScansAllPreprocessAndAreIdempotent) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string dir = testing::DatasetsDir() + "/fadul";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".x3p") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 40u);
  BreechFaceOptions no_high_pass;
  no_high_pass.lambda_c_um = std::numeric_limits<double>::infinity();
  double min_corr = 1, min_corr_all = 1, min_keep = 1;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const Surface s = ingest::ReadScan(file, ingest::ReadOptions{}).surface;
    const BreechFace a = PreprocessBreechFace(s);
    // The breech-face crescent is found: primer edge ~1.7 mm, the (already
    // removed) firing-pin area ~1.35 mm in radius.
    EXPECT_TRUE(a.outer_found);
    EXPECT_TRUE(a.firing_pin_found);
    EXPECT_GT(a.outer_radius_um, 1500);
    EXPECT_LT(a.outer_radius_um, 1900);
    EXPECT_GT(a.firing_pin_radius_um, 1200);
    EXPECT_LT(a.firing_pin_radius_um, 1450);
    // Sensible valid area: these scans are already cropped, so nearly all of
    // it stays (a few spikes and half-empty edge cells go).
    const double input_area = s.ValidFraction() * static_cast<double>(s.values.total()) * 6.25 * 6.25;
    const double output_area = CountFinite(a.surface.values) * 12.5 * 12.5;
    EXPECT_GT(output_area / input_area, 0.9);
    EXPECT_LT(output_area / input_area, 1.05);
    // Idempotence: the second pass keeps ≥ 95% of the cells, and apart from
    // the λc Gaussian itself (not a projection: it attenuates 100–500 µm
    // content again, measured corr 0.963–0.980) changes nothing (≥ 0.99).
    const BreechFace b = PreprocessBreechFace(a.surface);
    const BreechFace c = PreprocessBreechFace(a.surface, no_high_pass);
    const double keep = static_cast<double>(CountFinite(b.surface.values)) / CountFinite(a.surface.values);
    EXPECT_GE(keep, 0.95);
    EXPECT_GE(Correlation(a.surface.values, c.surface.values), 0.99);
    EXPECT_GE(Correlation(a.surface.values, b.surface.values), 0.95);
    EXPECT_NEAR(b.outer_radius_um, a.outer_radius_um, 25.0);
    EXPECT_NEAR(b.firing_pin_radius_um, a.firing_pin_radius_um, 25.0);
    min_corr = std::min(min_corr, Correlation(a.surface.values, c.surface.values));
    min_corr_all = std::min(min_corr_all, Correlation(a.surface.values, b.surface.values));
    min_keep = std::min(min_keep, keep);
  }
  std::printf("Fadul second pass: min corr %.4f without λc, %.4f with; min kept %.3f\n", min_corr,
              min_corr_all, min_keep);
}
#endif  // TOOLMARK_HAVE_INGEST

}  // namespace
}  // namespace toolmark
