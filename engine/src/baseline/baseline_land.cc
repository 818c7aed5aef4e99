// The "baseline_land" comparator: a deliberately simple lower bar for bullet
// lands (the "baseline" areal comparator: baseline_comparator.cc).
//
// "baseline_land" (bullet land engraved areas; x across the land, striae
// parallel to y, as in X3P land scans)
//   Prepare:
//     1. Crosscut: per column, the median over the middle 50% of the rows;
//        NaN where fewer than half of those rows are valid.
//     2. Resample to 1.5625 µm spacing (linear, NaN-aware) if the spacing
//        differs, so that the filters below work at a fixed spacing.
//     3. Remove curvature: least-squares quadratic, then a refit excluding the
//        points whose residual lies more than 3 MAD (unscaled median absolute
//        deviation) from the median residual.
//     4. Drop the outer 15% of the valid extent on each side (a crude
//        exclusion of the groove shoulders).
//     5. Band-pass: subtract a NaN-aware Gaussian smooth with σ = 50 µm, then
//        smooth with σ = 2 µm.
//   Compare: Pearson correlation of the two signatures over their common
//   valid points, for every lag whose overlap is at least 50% of the shorter
//   signature's valid points; score = the maximum (ties: lowest lag), in
//   [-1, 1]. shift_x_um: the point at x in B lies at x + shift_x_um in A
//   (x measured from the first column of each scan); rotation 0.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>
#include <vector>

#include "baseline/baseline_comparator.h"
#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

// ------------------------------------------------------------- land: prepare

constexpr double kLandSpacingUm = 1.5625;      ///< signature spacing, µm
constexpr double kShoulderFraction = 0.15;     ///< dropped on each side
constexpr double kLandHighPassSigmaUm = 50.0;  ///< σ of the removed waviness, µm
constexpr double kLandSmoothSigmaUm = 2.0;     ///< σ of the noise smoothing, µm
constexpr double kLandMinOverlap = 0.5;        ///< of the shorter signature
constexpr int kMinSignaturePoints = 50;        ///< valid points needed

/// A land prepared for Compare.
class LandMark : public PreparedMark {
 public:
  std::vector<double> signature;  ///< band-passed profile, NaN where missing
  double start_um = 0;            ///< x of signature[0] from the scan's first column
  int valid = 0;                  ///< finite points in signature
};

/// Per column, the median of the middle 50% of the rows (NaN where fewer than
/// half of them are valid).
std::vector<double> Crosscut(const cv::Mat& values) {
  const int first = values.rows / 4, last = std::max(first + 1, values.rows - values.rows / 4);
  std::vector<double> profile(static_cast<std::size_t>(values.cols), kNaN);
  std::vector<double> column;
  for (int x = 0; x < values.cols; ++x) {
    column.clear();
    for (int y = first; y < last; ++y)
      if (std::isfinite(values.at<double>(y, x))) column.push_back(values.at<double>(y, x));
    if (2 * static_cast<int>(column.size()) >= last - first && !column.empty())
      profile[static_cast<std::size_t>(x)] = Median(&column);
  }
  return profile;
}

/// Least-squares quadratic through the finite points with |residual − centre|
/// ≤ limit (all finite points when residuals is empty).
std::array<double, 3> FitQuadratic(const std::vector<double>& p, const std::vector<double>& residuals,
                                   double centre, double limit) {
  std::array<double, 9> ata{};
  std::array<double, 3> atb{};
  const double half = 0.5 * static_cast<double>(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (!std::isfinite(p[i])) continue;
    if (!residuals.empty() && std::abs(residuals[i] - centre) > limit) continue;
    const double u = (static_cast<double>(i) - half) / half;
    Accumulate3({1.0, u, u * u}, p[i], &ata, &atb);
  }
  return SolveNormal3(ata, atb);
}

std::vector<double> QuadraticResiduals(const std::vector<double>& p, const std::array<double, 3>& q) {
  const double half = 0.5 * static_cast<double>(p.size());
  std::vector<double> r(p.size(), kNaN);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double u = (static_cast<double>(i) - half) / half;
    if (std::isfinite(p[i])) r[i] = p[i] - (q[0] + q[1] * u + q[2] * u * u);
  }
  return r;
}

/// Robust curvature removal: quadratic fit, refit without points > 3 MAD off.
std::vector<double> RemoveCurvature(const std::vector<double>& p) {
  const std::vector<double> first = QuadraticResiduals(p, FitQuadratic(p, {}, 0, 0));
  std::vector<double> finite;
  for (double r : first)
    if (std::isfinite(r)) finite.push_back(r);
  const double centre = Median(&finite);
  for (double& r : finite) r = std::abs(r - centre);
  const double mad = Median(&finite);
  return QuadraticResiduals(p, FitQuadratic(p, first, centre, 3.0 * mad));
}

/// Subtracts the σ = 50 µm smooth, then smooths with σ = 2 µm.
std::vector<double> BandPass(const std::vector<double>& p) {
  const std::vector<double> smooth = SmoothProfile(p, kLandHighPassSigmaUm / kLandSpacingUm);
  std::vector<double> high(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) high[i] = p[i] - smooth[i];
  return SmoothProfile(high, kLandSmoothSigmaUm / kLandSpacingUm);
}

/// The valid extent of p without kShoulderFraction of it on each side, as
/// [begin, end) indices (p has at least one finite value).
std::pair<std::size_t, std::size_t> InnerExtent(const std::vector<double>& p) {
  std::size_t first = 0, last = p.size() - 1;
  while (!std::isfinite(p[first])) ++first;
  while (!std::isfinite(p[last])) --last;
  const auto cut =
      static_cast<std::size_t>(std::lround(kShoulderFraction * static_cast<double>(last - first + 1)));
  return {first + cut, last + 1 - cut};
}

std::shared_ptr<const PreparedMark> PrepareLand(const Surface& surface) {
  Check(surface.values.type() == CV_64FC1 && !surface.values.empty(),
        "baseline_land comparator: surface has no height values");
  Check(surface.spacing_x_um > 0, "baseline_land comparator: surface spacing must be positive");
  const std::vector<double> profile =
      ResampleProfile(Crosscut(surface.values), surface.spacing_x_um, kLandSpacingUm);
  const std::string too_few = "baseline_land comparator: too few valid points across the land";
  Check(CountFinite(profile) >= kMinSignaturePoints, too_few);
  const std::vector<double> flat = RemoveCurvature(profile);
  const auto [begin, end] = InnerExtent(flat);
  auto mark = std::make_shared<LandMark>();
  mark->signature = BandPass(
      {flat.begin() + static_cast<std::ptrdiff_t>(begin), flat.begin() + static_cast<std::ptrdiff_t>(end)});
  mark->start_um = static_cast<double>(begin) * kLandSpacingUm;
  mark->valid = CountFinite(mark->signature);
  Check(mark->valid >= kMinSignaturePoints, too_few);
  return mark;
}

// ------------------------------------------------------------- land: compare

Comparison CompareLand(const LandMark& a, const LandMark& b) {
  const double min_overlap = kLandMinOverlap * std::min(a.valid, b.valid);
  double best = -2, best_overlap = 0;
  std::ptrdiff_t best_lag = 0;
  const auto na = static_cast<std::ptrdiff_t>(a.signature.size());
  const auto nb = static_cast<std::ptrdiff_t>(b.signature.size());
  for (std::ptrdiff_t lag = -(nb - 1); lag <= na - 1; ++lag) {
    double overlap = 0;
    const double r = LagCorrelation(a.signature, b.signature, lag, min_overlap, &overlap);
    if (r > best) best = r, best_lag = lag, best_overlap = overlap;
  }
  Comparison c;
  c.score = best < -1 ? -1.0 : best;
  c.shift_x_um = a.start_um - b.start_um + static_cast<double>(best_lag) * kLandSpacingUm;
  c.overlap_fraction = best < -1 ? 0.0 : best_overlap / a.valid;
  return c;
}

class BaselineLandComparator : public Comparator {
 public:
  std::string Name() const override { return "baseline_land"; }
  std::shared_ptr<const PreparedMark> Prepare(const Surface& surface) const override {
    return PrepareLand(surface);
  }
  Comparison Compare(const PreparedMark& a, const PreparedMark& b) const override {
    const auto* pa = dynamic_cast<const LandMark*>(&a);
    const auto* pb = dynamic_cast<const LandMark*>(&b);
    Check(pa && pb, "baseline_land comparator: marks were not prepared by this comparator");
    return CompareLand(*pa, *pb);
  }
};

}  // namespace

std::unique_ptr<Comparator> MakeBaselineLandComparator() {
  return std::make_unique<BaselineLandComparator>();
}

ComparatorInfo BaselineLandComparatorInfo() {
  ComparatorInfo c;
  c.name = "baseline_land";
  c.kinds = {Kind::kBullet};
  c.marks = {MarkType::kLand};
  c.score = "the largest normalised cross-correlation of band-passed crosscut signatures";
  c.scale = ScoreScale::kCorrelation;
  c.make = MakeBaselineLandComparator;
  return c;
}

}  // namespace toolmark::detail
