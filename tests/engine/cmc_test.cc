// Tests of the Congruent Matching Cells comparator (toolmark/engine/cmc.h and
// MakeComparator("cmc")): synthetic breech faces whose registration is known
// exactly (a rotated, translated, noisy, partly masked copy of a rough
// primer), independent faces, agreement of CompareCmc with the comparator,
// determinism, errors, and (where ../shared/datasets exists and the test links
// the ingest library) known-match and known-non-match pairs of the real Fadul
// cartridge cases, with NIST's published CMC counts for comparison.
#include "toolmark/engine/cmc.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/breech_face.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"

// The real-scan test needs the ingest library's reader: it compiles only when
// this target links toolmark::ingest (tests/CMakeLists.txt).
#if __has_include("toolmark/ingest/scan.h")
#include "toolmark/ingest/scan.h"
#define TOOLMARK_HAVE_INGEST 1
#endif

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeg = M_PI / 180.0;

// ------------------------------------------------------------------ fixtures
//
// A synthetic primer lives in the reference scan A's coordinates p (µm, x =
// column · spacing, y = row · spacing, y down the rows). Its height is a fixed
// rough field; the breech face is the disc |p − disc| ≤ kDiscRadiusUm minus
// the firing-pin hole |p − pin| < kPinRadiusUm, NaN elsewhere.
//
// A copy B is a second scan of the same primer, placed differently: B's point
// p_B shows the primer's point
//     p_A = Rot(θ)(p_B − c) + c + t,   Rot(θ) = [[cos θ, −sin θ], [sin θ, cos θ]],
// with c the centre of the (equal-sized) scan grids. That is exactly the
// registration convention of cmc.cc with R = A, O = B, so the comparator's
// Compare(A, B) (cells of A registered in B: forward) must report
// rotation_deg = θ and (shift_x_um, shift_y_um) = t, and the backward
// direction (cells of B in A) rotation −θ.
//
// The convention carries over to the 25 µm working grid unchanged: the scans
// have 576 = 4 · 144 points, so every working cell averages 4 × 4 scan points
// and working-grid µm = scan µm − the same constant for A and B; the grid
// centres (0.5 · (cols − 1) · spacing) map onto each other, 1796.875 µm in
// both grids' scan µm.

constexpr double kSpacing = 6.25;  // scan spacing, µm
constexpr int kSide = 576;         // 3.6 mm square scans
constexpr double kCentre = 0.5 * (kSide - 1) * kSpacing;
constexpr int kMargin = 64;  // the rough field extends this many points past A's grid
constexpr double kDiscX = kCentre + 20, kDiscY = kCentre - 30;  // primer centre in A
constexpr double kDiscRadiusUm = 1700;
constexpr double kPinX = kCentre + 90, kPinY = kCentre + 60;  // firing-pin hole in A
constexpr double kPinRadiusUm = 500;

/// Isotropic roughness of 1 µm rms on (kSide + 2·kMargin)² points: white noise
/// smoothed at σ = 10, 25 and 60 µm (features of ~20–200 µm), each scaled to
/// unit rms, summed and scaled again. Float, for cv::remap.
cv::Mat RoughField(std::uint64_t seed) {
  const int n = kSide + 2 * kMargin;
  cv::RNG rng(seed);
  cv::Mat total = cv::Mat::zeros(n, n, CV_64F);
  for (double sigma_um : {10.0, 25.0, 60.0}) {
    cv::Mat noise(n, n, CV_64F), smooth;
    rng.fill(noise, cv::RNG::NORMAL, 0.0, 1.0);
    cv::GaussianBlur(noise, smooth, cv::Size(0, 0), sigma_um / kSpacing, 0, cv::BORDER_REFLECT);
    cv::Scalar mean, sd;
    cv::meanStdDev(smooth, mean, sd);
    total += (smooth - mean[0]) / sd[0];
  }
  cv::Scalar mean, sd;
  cv::meanStdDev(total, mean, sd);
  cv::Mat out;
  cv::Mat((total - mean[0]) / sd[0]).convertTo(out, CV_32F);
  return out;
}

struct View {
  double theta_deg = 0;          // B's point p shows the primer's Rot(θ)(p − c) + c + t
  double tx_um = 0, ty_um = 0;   // t
  double noise_rms = 0;          // independent measurement noise (of the 1 µm rms roughness)
  std::uint64_t noise_seed = 1;  //
  double sector_from_deg = 0;    // a sector of B's own disc (about the disc's centre in B's
  double sector_deg = 0;         // grid, angle atan2(y, x)) is missing; 0: none
};

Surface MakeSurface(cv::Mat values) {
  Surface s;
  s.values = std::move(values);
  s.spacing_x_um = s.spacing_y_um = kSpacing;
  return s;
}

/// One scan of the primer whose roughness is `field` (RoughField), seen as `v`.
Surface Scan(const cv::Mat& field, const View& v) {
  const double c = std::cos(v.theta_deg * kDeg), s = std::sin(v.theta_deg * kDeg);
  cv::Mat map_x(kSide, kSide, CV_32F), map_y(kSide, kSide, CV_32F);
  cv::Mat inside(kSide, kSide, CV_8UC1);
  for (int r = 0; r < kSide; ++r) {
    for (int col = 0; col < kSide; ++col) {
      const double px = col * kSpacing - kCentre, py = r * kSpacing - kCentre;
      const double qx = c * px - s * py + kCentre + v.tx_um, qy = s * px + c * py + kCentre + v.ty_um;
      map_x.at<float>(r, col) = static_cast<float>(qx / kSpacing + kMargin);
      map_y.at<float>(r, col) = static_cast<float>(qy / kSpacing + kMargin);
      const bool disc = std::hypot(qx - kDiscX, qy - kDiscY) <= kDiscRadiusUm;
      const bool pin = std::hypot(qx - kPinX, qy - kPinY) < kPinRadiusUm;
      inside.at<std::uint8_t>(r, col) = disc && !pin ? 1 : 0;
    }
  }
  cv::Mat sampled;
  cv::remap(field, sampled, map_x, map_y, cv::INTER_CUBIC, cv::BORDER_REFLECT);
  cv::Mat z;
  sampled.convertTo(z, CV_64F);
  if (v.noise_rms > 0) {
    // Noise smoothed at σ = 8 µm (so that λs = 16 µm and the 25 µm grid do
    // not simply remove it), scaled to noise_rms.
    cv::RNG rng(v.noise_seed);
    cv::Mat noise(kSide, kSide, CV_64F), smooth;
    rng.fill(noise, cv::RNG::NORMAL, 0.0, 1.0);
    cv::GaussianBlur(noise, smooth, cv::Size(0, 0), 8.0 / kSpacing, 0, cv::BORDER_REFLECT);
    cv::Scalar mean, sd;
    cv::meanStdDev(smooth, mean, sd);
    z += (smooth - mean[0]) * (v.noise_rms / sd[0]);
  }
  // The disc's centre in B's grid: p_B = Rot(−θ)(disc − c − t) + c.
  const double dx = kDiscX - kCentre - v.tx_um, dy = kDiscY - kCentre - v.ty_um;
  const double bx = c * dx + s * dy + kCentre, by = -s * dx + c * dy + kCentre;
  for (int r = 0; r < kSide; ++r) {
    for (int col = 0; col < kSide; ++col) {
      double& value = z.at<double>(r, col);
      if (!inside.at<std::uint8_t>(r, col)) {
        value = kNaN;
        continue;
      }
      if (v.sector_deg > 0) {
        const double angle = std::atan2(r * kSpacing - by, col * kSpacing - bx) / kDeg;
        const double from_start = std::remainder(angle - v.sector_from_deg - 0.5 * v.sector_deg, 360.0);
        if (std::abs(from_start) <= 0.5 * v.sector_deg) value = kNaN;
      }
    }
  }
  return MakeSurface(z);
}

BreechFace Face(const Surface& s, double spacing_um = 25.0) {
  BreechFaceOptions o;
  o.spacing_um = spacing_um;
  return PreprocessBreechFace(s, o);
}

/// The views of the synthetic tests: rotations of 37° and −120° (the full
/// circle matters), translation (150, −90) µm, 15% noise, a 30° sector missing.
View Moved(double theta_deg, std::uint64_t noise_seed) {
  View v;
  v.theta_deg = theta_deg;
  v.tx_um = 150;
  v.ty_um = -90;
  v.noise_rms = 0.15;
  v.noise_seed = noise_seed;
  v.sector_from_deg = 200;
  v.sector_deg = 30;
  return v;
}

double AngleError(double got_deg, double want_deg) { return std::remainder(got_deg - want_deg, 360.0); }

double Detail(const Comparison& c, const std::string& name) {
  for (const auto& [key, value] : c.details)
    if (name == key) return value;
  ADD_FAILURE() << "no detail " << name;
  return kNaN;
}

/// Scans, comparator marks and 25 µm faces, prepared once for the suite:
/// A (seed 11), its copies moved by +37° and −120°, and an independent
/// primer C (seed 12, same geometry, its own noise).
class CmcSynthetic : public ::testing::Test {
 protected:
  struct Item {
    Surface scan;
    std::shared_ptr<const PreparedMark> mark;
    BreechFace face;
  };
  static void SetUpTestSuite() {
    comparator_ = MakeComparator("cmc").release();
    items_ = new std::map<std::string, Item>();
    const cv::Mat a = RoughField(11), c = RoughField(12);
    View plain, independent;
    independent.noise_rms = 0.15;
    independent.noise_seed = 5;
    (*items_)["A"].scan = Scan(a, plain);
    (*items_)["B37"].scan = Scan(a, Moved(37, 3));
    (*items_)["B-120"].scan = Scan(a, Moved(-120, 4));
    (*items_)["C"].scan = Scan(c, independent);
    for (auto& [name, item] : *items_) {
      item.mark = comparator_->Prepare(item.scan);
      item.face = Face(item.scan);
    }
  }
  static void TearDownTestSuite() {
    delete items_;
    delete comparator_;
    items_ = nullptr;
    comparator_ = nullptr;
  }
  static const Item& Get(const std::string& name) { return items_->at(name); }
  static Comparison Compare(const std::string& a, const std::string& b) {
    return comparator_->Compare(*Get(a).mark, *Get(b).mark);
  }

  static const Comparator* comparator_;
  static std::map<std::string, Item>* items_;
};

const Comparator* CmcSynthetic::comparator_ = nullptr;
std::map<std::string, CmcSynthetic::Item>* CmcSynthetic::items_ = nullptr;

TEST_F(CmcSynthetic, FixturePrimersAreFoundByPreprocessing) {
  // Guards the fixture: the ROI detection sees the disc and the hole, and the
  // moved copies miss their 30° sector (1/12 of the disc) and a sliver cut by
  // the scan's border.
  const double a_valid = Get("A").scan.ValidFraction();
  for (const auto& [name, item] : *items_) {
    SCOPED_TRACE(name);
    const double valid = item.scan.ValidFraction() / a_valid;
    std::printf("%s: outer radius %.1f um, hole radius %.1f um, valid points %.3f of A's\n", name.c_str(),
                item.face.outer_radius_um, item.face.firing_pin_radius_um, valid);
    if (name[0] == 'B') {
      EXPECT_GT(valid, 0.85);
      EXPECT_LT(valid, 0.93);
    }
    EXPECT_TRUE(item.face.outer_found);
    EXPECT_TRUE(item.face.firing_pin_found);
    EXPECT_NEAR(item.face.outer_radius_um, kDiscRadiusUm, 50);
    EXPECT_NEAR(item.face.firing_pin_radius_um, kPinRadiusUm, 50);
  }
}

/// The translation t = p_R − Rot(θ)(p_O − c_O) − c_R (θ: the direction's
/// rotation) implied by each congruent cell's centre p_R in the reference and
/// matched centre p_O in the other (CmcCell::other_x_um, other_y_um): their
/// median, and their largest distance from the median.
cv::Point2d CellsTranslation(const CmcDirection& d, const BreechFace& ref, const BreechFace& other,
                             double* spread) {
  const double c = std::cos(d.rotation_deg * kDeg), s = std::sin(d.rotation_deg * kDeg);
  const auto centre = [](const BreechFace& f) {
    return cv::Point2d(0.5 * (f.surface.values.cols - 1) * f.surface.spacing_x_um,
                       0.5 * (f.surface.values.rows - 1) * f.surface.spacing_y_um);
  };
  const cv::Point2d cr = centre(ref), co = centre(other);
  std::vector<double> xs, ys;
  for (const CmcCell& cell : d.cells) {
    if (!cell.congruent) continue;
    const double px = cell.other_x_um - co.x, py = cell.other_y_um - co.y;
    xs.push_back(cell.x_um - (c * px - s * py) - cr.x);
    ys.push_back(cell.y_um - (s * px + c * py) - cr.y);
  }
  if (xs.empty()) return {kNaN, kNaN};
  std::vector<double> sx = xs, sy = ys;
  std::sort(sx.begin(), sx.end());
  std::sort(sy.begin(), sy.end());
  const cv::Point2d median(sx[sx.size() / 2], sy[sy.size() / 2]);
  *spread = 0;
  for (std::size_t k = 0; k < xs.size(); ++k)
    *spread = std::max(*spread, std::hypot(xs[k] - median.x, ys[k] - median.y));
  return median;
}

TEST_F(CmcSynthetic, RecoversRotationAndTranslationOverTheFullCircle) {
  // Expected (see the fixture's comment): forward (cells of A in B) rotation
  // θ and shift t = (150, −90) µm; backward (cells of B in A) rotation −θ and
  // shift −Rot(−θ) t. Limits: ±1.5° (1° refinement steps), ±50 µm (2 working
  // cells), ≥ 70% of the usable cells congruent in both directions, and the
  // reported shift within 25 µm (1 cell) of the translation its own congruent
  // cells' matches imply (CellsTranslation).
  // Measured (registration_spacing_um 50): rotation 37.5° / −37.5° and
  // −119° / 120°; congruent cells 43/48, 44/44 and 45/48, 44/44 (≥ 90%), count
  // 43 and 44; the cells' translation forward (150, −100) µm for both angles
  // (spread ≤ 50 µm), backward (−68.2, 166.0) for (−65.6, 162.1) and
  // (−2.5, −170.8) for (−2.9, −174.9). The reported shifts, though, were
  // (200, −50) and (100, −50) forward, (−118.2, 166.0) and (−2.5, −120.8)
  // backward: 50 µm off the cells' translation, because cmc.cc adds the
  // congruent cells' median offset to the coarse translation where it must
  // subtract it (a cell found dx further on in the warped other means
  // t = t₀ − dx; CmcCell::other_x_um already uses that sign). With that sign
  // flipped the shifts equal the cells' translations above.
  for (const double theta : {37.0, -120.0}) {
    const std::string name = theta > 0 ? "B37" : "B-120";
    SCOPED_TRACE(name);
    const Comparison c = Compare("A", name);
    std::printf(
        "A vs %s: count %.0f, rotation %.2f (backward %.2f), shift (%.1f, %.1f) um, cells %.0f/%.0f\n",
        name.c_str(), c.score, c.rotation_deg, Detail(c, "rotation_backward_deg"), c.shift_x_um, c.shift_y_um,
        Detail(c, "cells_forward"), Detail(c, "cells_backward"));
    EXPECT_NEAR(AngleError(c.rotation_deg, theta), 0.0, 1.5);
    EXPECT_NEAR(AngleError(Detail(c, "rotation_backward_deg"), -theta), 0.0, 1.5);
    EXPECT_NEAR(c.shift_x_um, 150.0, 50.0);
    EXPECT_NEAR(c.shift_y_um, -90.0, 50.0);

    const CmcResult r = CompareCmc(Get("A").face, Get(name).face);
    EXPECT_TRUE(r.identification);
    EXPECT_GE(r.count, 20);
    const double cs = std::cos(theta * kDeg), sn = std::sin(theta * kDeg);
    struct Want {
      const CmcDirection* d;
      const BreechFace *ref, *other;
      double rotation, tx, ty;
    };
    for (const Want& w : {Want{&r.forward, &Get("A").face, &Get(name).face, theta, 150.0, -90.0},
                          Want{&r.backward, &Get(name).face, &Get("A").face, -theta,
                               -(cs * 150.0 + sn * -90.0), -(-sn * 150.0 + cs * -90.0)}}) {
      const CmcDirection& d = *w.d;
      SCOPED_TRACE(w.d == &r.forward ? "forward" : "backward");
      double spread = 0;
      const cv::Point2d cells = CellsTranslation(d, *w.ref, *w.other, &spread);
      std::printf(
          "  %s: %d of %d cells congruent (%.0f%%), rotation %.2f, shift (%.1f, %.1f) um, cells' "
          "translation (%.1f, %.1f) um (spread %.1f), expected (%.1f, %.1f)\n",
          w.d == &r.forward ? "forward" : "backward", d.count, d.cells_used,
          100.0 * d.count / std::max(1, d.cells_used), d.rotation_deg, d.shift_x_um, d.shift_y_um, cells.x,
          cells.y, spread, w.tx, w.ty);
      EXPECT_GT(d.cells_used, 20);
      EXPECT_GE(d.count, 0.7 * d.cells_used);
      EXPECT_NEAR(AngleError(d.rotation_deg, w.rotation), 0.0, 1.5);
      EXPECT_NEAR(d.shift_x_um, w.tx, 50.0);
      EXPECT_NEAR(d.shift_y_um, w.ty, 50.0);
      EXPECT_NEAR(cells.x, w.tx, 50.0);
      EXPECT_NEAR(cells.y, w.ty, 50.0);
      EXPECT_NEAR(d.shift_x_um, cells.x, 25.0);
      EXPECT_NEAR(d.shift_y_um, cells.y, 25.0);
    }
  }
}

TEST_F(CmcSynthetic, IndependentFacesDoNotMatch) {
  // Measured: count 0 (0 of 48 cells congruent in both directions).
  const Comparison c = Compare("A", "C");
  const CmcResult r = CompareCmc(Get("A").face, Get("C").face);
  std::printf("A vs C (independent): count %.0f (forward %d of %d, backward %d of %d)\n", c.score,
              r.forward.count, r.forward.cells_used, r.backward.count, r.backward.cells_used);
  EXPECT_LE(c.score, 3);
  EXPECT_LE(r.count, 3);
  EXPECT_FALSE(r.identification);
}

TEST_F(CmcSynthetic, QuickScoreFindsTheRotationWithoutTheFullSearch) {
  // The quick score (search re-ranking): cells registered at the polar
  // signature's best rotations with the centres aligned. Measured: 43 (+37°),
  // 44 (−120°) and 0 for the independent primer.
  ASSERT_TRUE(comparator_->HasQuickScore());
  const auto quick = [](const std::string& a, const std::string& b) {
    return comparator_->QuickScore(*Get(a).mark, *Get(b).mark);
  };
  for (const std::string moved : {"B37", "B-120"}) {
    const double q = quick("A", moved), full = Compare("A", moved).score;
    std::printf("quick score A vs %s: %.0f (full count %.0f)\n", moved.c_str(), q, full);
    EXPECT_GE(q, 20) << moved;
    EXPECT_EQ(q, quick("A", moved)) << "deterministic";
  }
  const double independent = quick("A", "C");
  std::printf("quick score A vs C: %.0f\n", independent);
  EXPECT_LE(independent, 3);
  EXPECT_FALSE(MakeComparator("land")->HasQuickScore());
  EXPECT_THROW(MakeComparator("land")->QuickScore(*Get("A").mark, *Get("A").mark), Error);
}

TEST_F(CmcSynthetic, QuickFeaturesRoundTripAndBadOnesAreRefused) {
  // Stored quick features rebuild a mark with the same quick score; damaged
  // ones (a database is not trusted) are one-line errors, never a crash.
  const std::vector<float> f = comparator_->QuickFeatures(*Get("A").mark);
  for (float v : f) ASSERT_TRUE(std::isfinite(v));
  const auto rebuilt = comparator_->QuickMark(f);
  const auto other = comparator_->QuickMark(comparator_->QuickFeatures(*Get("B37").mark));
  EXPECT_EQ(comparator_->QuickScore(*rebuilt, *other),
            comparator_->QuickScore(*comparator_->QuickMark(f), *other));
  EXPECT_GE(comparator_->QuickScore(*rebuilt, *other), 20);
  const auto refused = [](std::vector<float> bad) {
    try {
      comparator_->QuickMark(bad);
      return std::string("accepted");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  };
  std::vector<float> bad = f;
  bad[0] = 7;  // unknown format
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad[1] += 1;  // rows no longer match the values
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad[3] = 10;  // another spacing
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad[2] = 1e9f;  // absurd size
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(refused(bad), "accepted");
  EXPECT_NE(refused({}), "accepted");
  bad.assign(f.begin(), f.begin() + 12);  // a header alone
  EXPECT_NE(refused(bad), "accepted");
  EXPECT_EQ(refused(bad).find('\n'), std::string::npos);
  // Format 2's packed bytes: three to a float, exact integers below 2^24.
  ASSERT_GT(f.size(), 20u);
  for (const float wrong : {16777216.0f, 1.5f, -1.0f}) {
    bad = f;
    bad[18] = wrong;
    EXPECT_NE(refused(bad), "accepted") << wrong;
  }
  bad = f;
  bad[14] += 1;  // the mask's length no longer matches the data
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad[16] = 255 + 256 * 255 + 65536 * 255;  // mask runs beyond the face
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad[13] -= 1;  // one valid cell fewer than the mask holds
  EXPECT_NE(refused(bad), "accepted");
  bad = f;
  bad.push_back(0);  // a float too many
  EXPECT_NE(refused(bad), "accepted");
}

TEST_F(CmcSynthetic, ScreenScoreFindsTheRotatedFaceAndRefusesDamagedCodes) {
  // The screening score (search: the shortlist's second half): the polar
  // signatures' agreement at the best rotation, from codes derived from the
  // quick features. Measured: see the printed line.
  ASSERT_TRUE(comparator_->HasScreen());
  const auto code = [](const std::string& name) {
    return comparator_->ScreenFeatures(comparator_->QuickFeatures(*Get(name).mark));
  };
  const std::vector<float> a = code("A"), b37 = code("B37"), b120 = code("B-120"), c = code("C");
  const auto score = [](const std::vector<float>& x, const std::vector<float>& y) {
    return comparator_->ScreenScore(x, y);
  };
  const double s37 = score(a, b37), s120 = score(a, b120), independent = score(a, c), self = score(a, a);
  std::printf("screen score A vs B37 %.3f, B-120 %.3f, C %.3f, itself %.3f; code %zu bytes\n", s37, s120,
              independent, self, a.size() * sizeof(float));
  // Measured: 0.66 (+37°), 0.53 (−120°), 0.07 (independent), 0.76 (itself: the
  // share of the rings' power below the code's frequency limit).
  EXPECT_GT(s37, independent + 0.3);
  EXPECT_GT(s120, independent + 0.3);
  EXPECT_LE(self, 1.0);
  EXPECT_GE(self, s37);
  EXPECT_EQ(score(a, b37), s37) << "deterministic";
  EXPECT_NEAR(score(b37, a), s37, 1e-9) << "symmetric";
  EXPECT_EQ(score(a, b37), comparator_->ScreenScore(code("A"), code("B37")))
      << "the same numbers from the same face";
  EXPECT_LT(a.size() * sizeof(float), 1500u);
  const auto refused = [&](const std::vector<float>& bad) {
    for (int side = 0; side < 2; ++side) {
      try {
        side == 0 ? score(bad, a) : score(a, bad);
        return std::string("accepted");
      } catch (const Error& e) {
        if (std::string(e.what()).find('\n') != std::string::npos) return std::string("two lines");
        if (side == 1) return std::string(e.what());
      }
    }
    return std::string();
  };
  ASSERT_GT(a.size(), 12u);
  std::vector<float> bad = a;
  for (const auto& [at, value] :
       std::vector<std::pair<std::size_t, float>>{{0, 2},         // format
                                                  {1, 16},        // frequencies
                                                  {2, 3},         // angles
                                                  {3, 1},         // ring step
                                                  {4, 3},         // odd first ring
                                                  {5, 65},        // slots
                                                  {5, a[5] + 1},  // slots vs size
                                                  {6, -1},        // a scale
                                                  {6, std::numeric_limits<float>::quiet_NaN()},
                                                  {a.size() - 1, 16777216.0f},
                                                  {a.size() - 1, 1.5f}}) {
    bad = a;
    bad[at] = value;
    EXPECT_NE(refused(bad), "accepted") << at << " = " << value;
    EXPECT_NE(refused(bad), "two lines");
  }
  bad = a;
  bad.push_back(0);  // one number too many
  EXPECT_NE(refused(bad), "accepted");
  bad.assign(a.begin(), a.end() - 1);  // one too few
  EXPECT_NE(refused(bad), "accepted");
  EXPECT_NE(refused({}), "accepted");
  // A part of −8 (the nibble 0x8) is never written.
  bad = a;
  const std::size_t packed = a.size() - 1;
  bad[packed] = static_cast<float>((static_cast<std::uint32_t>(a[packed]) & ~0xfu) | 0x8u);
  EXPECT_NE(refused(bad), "accepted");
  // After a refused code, a valid one is decoded again (nothing stale is reused).
  EXPECT_EQ(score(a, b37), s37);
  // The load-time check refuses what the score refuses, and accepts the code.
  EXPECT_THROW(comparator_->CheckScreen(bad), Error);
  EXPECT_NO_THROW(comparator_->CheckScreen(a));
  EXPECT_FALSE(MakeComparator("baseline")->HasScreen());
  EXPECT_THROW(MakeComparator("baseline")->ScreenScore(a, a), Error);
}

TEST_F(CmcSynthetic, QuickFeaturesAreCompactAndOlderRecordsStillScore) {
  // Format 2 keeps the face at the quick score's 50 µm, 5 bits a valid cell;
  // format 1 (databases written before it) kept the face at the CMC's 25 µm
  // as float32, 4 bytes a cell: it is still read, and scores alike.
  const BreechFace& face = Get("A").face;
  ASSERT_EQ(face.surface.spacing_x_um, CmcOptions{}.spacing_um);
  std::vector<float> old = {1,
                            static_cast<float>(face.surface.values.rows),
                            static_cast<float>(face.surface.values.cols),
                            static_cast<float>(face.surface.spacing_x_um),
                            face.firing_pin_found ? 1.0f : 0.0f,
                            static_cast<float>(face.firing_pin_centre_x_um),
                            static_cast<float>(face.firing_pin_centre_y_um),
                            static_cast<float>(face.firing_pin_radius_um),
                            face.outer_found ? 1.0f : 0.0f,
                            static_cast<float>(face.centre_um.x),
                            static_cast<float>(face.centre_um.y),
                            static_cast<float>(face.outer_radius_um)};
  std::size_t valid = 0;
  for (int y = 0; y < face.surface.values.rows; ++y)
    for (int x = 0; x < face.surface.values.cols; ++x) {
      const double z = face.surface.values.at<double>(y, x);
      valid += std::isfinite(z);
      old.push_back(std::isfinite(z) ? static_cast<float>(z) : std::numeric_limits<float>::max());
    }
  const std::vector<float> now = comparator_->QuickFeatures(*Get("A").mark);
  std::printf("quick features: %zu bytes (format 1: %zu bytes; %zu valid cells at 25 um)\n",
              now.size() * sizeof(float), old.size() * sizeof(float), valid);
  // 5 bits for each of the ~valid/4 cells at 50 µm, 4/3 for the packing, plus mask and header.
  EXPECT_LT(now.size() * sizeof(float), valid / 4 * 5 / 8 * 4 / 3 + 400);
  EXPECT_LT(now.size() * 8, old.size());
  const auto other = comparator_->QuickMark(comparator_->QuickFeatures(*Get("B37").mark));
  const double from_old = comparator_->QuickScore(*comparator_->QuickMark(old), *other);
  const double from_now = comparator_->QuickScore(*comparator_->QuickMark(now), *other);
  std::printf("quick score A vs B37: %.0f from format 1, %.0f from format 2\n", from_old, from_now);
  EXPECT_GE(from_old, 20);
  EXPECT_GE(from_now, 20);
  const auto independent = comparator_->QuickMark(comparator_->QuickFeatures(*Get("C").mark));
  EXPECT_LE(comparator_->QuickScore(*comparator_->QuickMark(old), *independent), 3);
}

TEST_F(CmcSynthetic, CompareCmcAgreesWithTheComparator) {
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{{"A", "B37"}, {"A", "C"}}) {
    SCOPED_TRACE(a + " vs " + b);
    const Comparison c = Compare(a, b);
    const CmcResult r = CompareCmc(Get(a).face, Get(b).face);
    EXPECT_EQ(c.score, r.count);
    EXPECT_EQ(c.rotation_deg, r.forward.rotation_deg);
    EXPECT_EQ(c.shift_x_um, r.forward.shift_x_um);
    EXPECT_EQ(c.shift_y_um, r.forward.shift_y_um);
    EXPECT_EQ(Detail(c, "cmc_forward"), r.forward.count);
    EXPECT_EQ(Detail(c, "cmc_backward"), r.backward.count);
  }
}

void ExpectSameDirection(const CmcDirection& x, const CmcDirection& y) {
  EXPECT_EQ(x.rotation_deg, y.rotation_deg);
  EXPECT_EQ(x.shift_x_um, y.shift_x_um);
  EXPECT_EQ(x.shift_y_um, y.shift_y_um);
  EXPECT_EQ(x.count, y.count);
  EXPECT_EQ(x.cells_used, y.cells_used);
  ASSERT_EQ(x.cells.size(), y.cells.size());
  for (std::size_t k = 0; k < x.cells.size(); ++k) {
    EXPECT_EQ(x.cells[k].row, y.cells[k].row) << k;
    EXPECT_EQ(x.cells[k].col, y.cells[k].col) << k;
    EXPECT_EQ(x.cells[k].ccf, y.cells[k].ccf) << k;
    EXPECT_EQ(x.cells[k].dx_um, y.cells[k].dx_um) << k;
    EXPECT_EQ(x.cells[k].dy_um, y.cells[k].dy_um) << k;
    EXPECT_EQ(x.cells[k].congruent, y.cells[k].congruent) << k;
  }
}

TEST_F(CmcSynthetic, DeterministicWithAnyThreadCount) {
  const auto run = [&](std::size_t threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    return CompareCmc(Get("A").face, Get("B37").face);
  };
  const CmcResult one = run(1), two = run(2);
  EXPECT_EQ(one.count, two.count);
  EXPECT_EQ(one.identification, two.identification);
  ExpectSameDirection(one.forward, two.forward);
  ExpectSameDirection(one.backward, two.backward);
  const auto a = CmcDetails(one), b = CmcDetails(two);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (!std::isnan(a[k].second)) {
      EXPECT_EQ(a[k].second, b[k].second) << a[k].first;
    }
  }
}

TEST_F(CmcSynthetic, FeaturesBehindTheCountSeparateACopyFromAnIndependentFace) {
  // The copy's cells correlate at one rigid registration (surface_ccf near
  // its cells' own ccf); an independent face's do not. Measured: copy
  // surface_ccf 0.918 (cells' median 0.919), fit spread 0.0 µm, screen 43
  // against rival 0; independent surface_ccf 0.019, cells' median 0.282.
  const CmcResult same = CompareCmc(Get("A").face, Get("B37").face);
  const CmcResult other = CompareCmc(Get("A").face, Get("C").face);
  for (const CmcResult* r : {&same, &other})
    std::printf(
        "surface_ccf %.3f (overlap %.2f), cells' median ccf %.3f, congruent mean %.3f, fit %.1f um, "
        "directions %.2f deg apart, screen %d rival %d\n",
        r->features.surface_ccf, r->features.surface_overlap, r->features.cell_ccf_median,
        r->features.congruent_ccf_mean, r->features.fit_rms_um, r->features.rotation_disagreement_deg,
        r->features.screen_count, r->features.rival_count);
  EXPECT_GT(same.features.surface_ccf, 0.6);
  EXPECT_LT(std::abs(other.features.surface_ccf), 0.3);
  EXPECT_GT(same.features.surface_overlap, 0.5);
  EXPECT_LT(same.features.fit_rms_um, 25.0);  // one working cell
  EXPECT_LE(same.features.rotation_disagreement_deg, 2.0);
  EXPECT_GT(same.features.cell_ccf_median, other.features.cell_ccf_median);
  EXPECT_GT(same.features.screen_count, same.features.rival_count);
  // Both directions' mean: B against A gives the pair the same surface correlation.
  const CmcResult swapped = CompareCmc(Get("B37").face, Get("A").face);
  EXPECT_NEAR(swapped.features.surface_ccf, same.features.surface_ccf, 0.02);
  EXPECT_EQ(swapped.count, same.count);
  // The details name every feature, once, and k of n as log odds.
  std::map<std::string, double> named;
  for (const auto& [name, value] : CmcDetails(same)) EXPECT_TRUE(named.emplace(name, value).second) << name;
  for (const char* name : {"cmc_count", "cells_compared", "cmc_log_odds", "surface_ccf", "cell_ccf_median",
                           "congruent_ccf_mean", "fit_rms_um", "rotation_disagreement_deg"})
    EXPECT_EQ(named.count(name), 1u) << name;
  EXPECT_NEAR(named["cmc_log_odds"], std::log((same.count + 0.5) / (same.CellsCompared() - same.count + 0.5)),
              1e-12);
}

TEST_F(CmcSynthetic, FacesAtAnotherSpacingThrowOneLineErrors) {
  const BreechFace fine = Face(Get("A").scan, 12.5);
  for (const auto& [a, b] : std::vector<std::pair<const BreechFace*, const BreechFace*>>{
           {&fine, &fine}, {&fine, &Get("B37").face}, {&Get("A").face, &fine}}) {
    try {
      CompareCmc(*a, *b);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_FALSE(what.empty());
    }
  }
  // Faces at 12.5 µm compared with CmcOptions at 12.5 µm are accepted.
  CmcOptions at_12_5;
  at_12_5.spacing_um = 12.5;
  at_12_5.cells_per_side = 2;  // keep it short
  EXPECT_NO_THROW(CompareCmc(fine, fine, at_12_5));
}

// ------------------------------------------------------------ real scans

#ifdef TOOLMARK_HAVE_INGEST

std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string field; std::getline(ss, field, ',');) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

double Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    sx += x[i], sy += y[i], sxx += x[i] * x[i], syy += y[i] * y[i], sxy += x[i] * y[i];
  return (sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
}

/// A dataset's truth.csv: the files in order and each file's firearm
/// (evaluation only).
void ReadTruth(const std::string& dir, std::vector<std::string>* files,
               std::map<std::string, std::string>* firearm) {
  for (const auto& row : ReadCsv(dir + "truth.csv")) {
    if (row.size() < 2 || row[0] == "file") continue;
    files->push_back(row[0]);
    (*firearm)[row[0]] = row[1];
  }
}

TEST(Cmc2d, RingLightKnownMatchesScoreAboveNonMatches) {
  // ../shared/datasets/images2d: two known-match pairs (Fadul slide 1, NBIDE
  // Ruger 3) and four non-match pairs of 8-bit ring-light images. The images
  // carry no pixel size; 3 µm is assumed (the primer then measures ~4.2 mm).
  TOOLMARK_REQUIRE_DATASETS();
  const std::string dir = testing::DatasetsDir() + "/images2d/";
  std::vector<std::string> files;
  std::map<std::string, std::string> firearm;
  ReadTruth(dir, &files, &firearm);
  ASSERT_EQ(files.size(), 4u);
  ingest::ReadOptions read;
  read.spacing_um = 3.0;
  const auto comparator = MakeComparator("cmc");
  std::vector<std::shared_ptr<const PreparedMark>> marks;
  for (const std::string& f : files)
    marks.push_back(comparator->Prepare(ingest::ReadScan(dir + f, read).surface));
  double min_km = 1e9, max_knm = -1e9;
  for (std::size_t i = 0; i < files.size(); ++i) {
    for (std::size_t j = i + 1; j < files.size(); ++j) {
      const double score = comparator->Compare(*marks[i], *marks[j]).score;
      const bool km = firearm[files[i]] == firearm[files[j]];
      std::printf("images2d: %s vs %s: %s, CMC %g\n", files[i].c_str(), files[j].c_str(), km ? "KM" : "KNM",
                  score);
      (km ? min_km : max_knm) = km ? std::min(min_km, score) : std::max(max_knm, score);
    }
  }
  EXPECT_GT(min_km, max_knm);
  EXPECT_GE(min_km, 6);  // identifications at Song's C = 6
}

TEST(CmcFadul, KnownMatchesReachSongsThresholdAndNonMatchesDoNot) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::string dir = testing::DatasetsDir() + "/fadul/";
  // truth.csv: file,firearm,kind,mark,original_name (40 scans, 10 slides).
  std::vector<std::string> files;
  std::map<std::string, std::string> firearm;
  ReadTruth(dir, &files, &firearm);
  ASSERT_EQ(files.size(), 40u);
  const auto comparator = MakeComparator("cmc");
  std::vector<std::shared_ptr<const PreparedMark>> marks(files.size());
  tbb::parallel_for(std::size_t{0}, files.size(), [&](std::size_t i) {
    marks[i] = comparator->Prepare(ingest::ReadScan(dir + files[i], ingest::ReadOptions{}).surface);
  });
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < files.size(); ++i) index[files[i]] = i;

  // The pairs: the 10 known matches among the knowns (fadul-k-1 vs fadul-k-2)
  // and 30 known non-matches by a fixed rule, with n(k, s) = ((k − 1 + s) mod 10) + 1:
  // fadul-k-1 vs fadul-n(k,1)-2, fadul-k-2 vs fadul-n(k,3)-1, fadul-k-1 vs fadul-n(k,2)-1.
  const auto known = [](int k, int shot) {
    return "fadul-" + std::to_string(k) + "-" + std::to_string(shot) + ".x3p";
  };
  const auto next = [](int k, int s) { return (k - 1 + s) % 10 + 1; };
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int k = 1; k <= 10; ++k) pairs.emplace_back(known(k, 1), known(k, 2));
  for (int k = 1; k <= 10; ++k) {
    pairs.emplace_back(known(k, 1), known(next(k, 1), 2));
    pairs.emplace_back(known(k, 2), known(next(k, 3), 1));
    pairs.emplace_back(known(k, 1), known(next(k, 2), 1));
  }
  std::vector<Comparison> results(pairs.size());
  tbb::parallel_for(std::size_t{0}, pairs.size(), [&](std::size_t p) {
    results[p] = comparator->Compare(*marks[index.at(pairs[p].first)], *marks[index.at(pairs[p].second)]);
  });

  // reference_nist_cmc.csv: reference,compare,truth,cells,cmc — one row per
  // unordered pair of the 40 scans (780): the two files, KM or KNM, the
  // number of the reference's cells NIST used, and NIST's CMC count.
  std::map<std::pair<std::string, std::string>, double> nist;
  for (const auto& row : ReadCsv(dir + "reference_nist_cmc.csv")) {
    if (row.size() < 5 || row[0] == "reference") continue;
    nist[{row[0], row[1]}] = nist[{row[1], row[0]}] = std::stod(row[4]);
  }
  EXPECT_EQ(nist.size(), 2u * 780u);

  int min_km = 1 << 20, max_knm = -1, km = 0, knm = 0;
  std::vector<double> ours, theirs;
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const auto& [a, b] = pairs[p];
    const bool match = firearm.at(a) == firearm.at(b);
    const int count = static_cast<int>(results[p].score);
    const auto it = nist.find({a, b});
    const double reference = it == nist.end() ? kNaN : it->second;
    std::printf("%s %s vs %s: CMC %d (NIST %.0f), rotation %.1f\n", match ? "KM " : "KNM", a.c_str(),
                b.c_str(), count, reference, results[p].rotation_deg);
    if (match) {
      ++km;
      min_km = std::min(min_km, count);
      EXPECT_GE(count, 6) << a << " vs " << b;
    } else {
      ++knm;
      max_knm = std::max(max_knm, count);
      EXPECT_LT(count, 6) << a << " vs " << b;
    }
    if (it != nist.end()) ours.push_back(count), theirs.push_back(reference);
  }
  // Measured (Release, 2 cores, ~8 s with the preparation): KM 14–24 (min
  // fadul-8-1 vs 8-2; NIST 23–32), KNM 0–3 (NIST 0–2); Pearson r with NIST's
  // counts 0.989 over the 40 pairs (it mostly reflects the KM/KNM gap: 0.78–0.79
  // over the 10 KM pairs alone).
  EXPECT_EQ(km, 10);
  EXPECT_EQ(knm, 30);
  ASSERT_EQ(ours.size(), pairs.size());
  const double r = Pearson(ours, theirs);
  std::printf("Fadul: %d KM pairs, min CMC %d; %d KNM pairs, max CMC %d; Pearson r with NIST's counts %.3f\n",
              km, min_km, knm, max_knm, r);
  EXPECT_GT(r, 0.5);
  std::vector<double> ours_km, theirs_km;
  for (std::size_t p = 0; p < 10; ++p) ours_km.push_back(ours[p]), theirs_km.push_back(theirs[p]);
  std::printf("Fadul: Pearson r with NIST's counts over the KM pairs alone %.3f\n",
              Pearson(ours_km, theirs_km));
}

#endif  // TOOLMARK_HAVE_INGEST

}  // namespace
}  // namespace toolmark
