// Land signatures: crosscut bands → groove shoulders → stable region →
// form removal → ISO 16610-21 Gaussian band-pass. See docs/bullets.md.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bullet/land_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/land.h"

namespace toolmark {
namespace {

using detail::CountFinite;

/// Below this rms (µm) a signature is numerical noise, not striae.
constexpr double kMinSignatureRmsUm = 1e-4;
using detail::kNaN;

/// Per column, the median of the finite values of rows [r0, r1); NaN where
/// fewer than half of them are finite.
std::vector<double> BandProfile(const cv::Mat& v, int r0, int r1) {
  std::vector<double> out(static_cast<std::size_t>(v.cols), kNaN), column;
  column.reserve(static_cast<std::size_t>(r1 - r0));
  for (int c = 0; c < v.cols; ++c) {
    column.clear();
    for (int r = r0; r < r1; ++r) {
      const double z = v.at<double>(r, c);
      if (std::isfinite(z)) column.push_back(z);
    }
    if (!column.empty() && 2 * static_cast<int>(column.size()) >= r1 - r0)
      out[static_cast<std::size_t>(c)] = detail::Median(&column);
  }
  return out;
}

/// Resamples a crosscut from the scan's spacing to the working spacing, with a
/// Gaussian anti-alias smoothing first when it is coarser.
std::vector<double> ToWorkingSpacing(const std::vector<double>& p, double from, double to) {
  if (from < to / 1.5) return detail::ResampleProfile(detail::SmoothProfile(p, 0.5 * to / from), from, to);
  return detail::ResampleProfile(p, from, to);
}

std::pair<std::size_t, std::size_t> FiniteExtent(const std::vector<double>& p) {
  std::size_t first = 0, last = p.size();
  while (first < p.size() && !std::isfinite(p[first])) ++first;
  while (last > first && !std::isfinite(p[last - 1])) --last;
  return {first, last};
}

/// A quadratic in u = (i − centre) / half.
struct Quadratic {
  std::array<double, 3> q{};
  double centre = 0, half = 1;
  double At(std::size_t i) const {
    const double u = (static_cast<double>(i) - centre) / half;
    return q[0] + q[1] * u + q[2] * u * u;
  }
};

/// Robust quadratic through p[i], i in [begin, end): starting from `start`
/// (or a plain least-squares fit), three times refitted without the points
/// more than 3 scaled MADs (at least `floor`) from the previous fit.
Quadratic RobustQuadratic(const std::vector<double>& p, std::size_t begin, std::size_t end,
                          const Quadratic* start = nullptr, double floor = 1e-9) {
  Quadratic fit;
  fit.centre = 0.5 * static_cast<double>(begin + end);
  fit.half = std::max(1.0, 0.5 * static_cast<double>(end - begin));
  // With a start, its points within `floor` make the first fit.
  double limit = start ? floor : std::numeric_limits<double>::infinity();
  const Quadratic* previous = start;
  for (int iteration = 0; iteration < 3; ++iteration) {
    std::array<double, 9> ata{};
    std::array<double, 3> atb{};
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isfinite(p[i])) continue;
      if (previous && std::abs(p[i] - previous->At(i)) > limit) continue;
      const double u = (static_cast<double>(i) - fit.centre) / fit.half;
      detail::Accumulate3({1.0, u, u * u}, p[i], &ata, &atb);
    }
    if (ata[0] < 3) break;
    fit.q = detail::SolveNormal3(ata, atb);
    previous = &fit;
    std::vector<double> residuals;
    for (std::size_t i = begin; i < end; ++i)
      if (std::isfinite(p[i])) residuals.push_back(std::abs(p[i] - fit.At(i)));
    limit = std::max(3.0 * 1.4826 * detail::Median(&residuals), floor);
  }
  return fit;
}

/// Deterministic RANSAC quadratic over the finite points of [begin, end): the
/// exact quadratic through 3 sample points that has the most points within
/// `tolerance`; kRansacTrials trials from a fixed seed.
Quadratic RansacQuadratic(const std::vector<double>& p, std::size_t begin, std::size_t end,
                          double tolerance) {
  constexpr int kRansacTrials = 300;
  std::vector<std::size_t> finite;
  for (std::size_t i = begin; i < end; ++i)
    if (std::isfinite(p[i])) finite.push_back(i);
  Quadratic best;
  best.centre = 0.5 * static_cast<double>(begin + end);
  best.half = std::max(1.0, 0.5 * static_cast<double>(end - begin));
  if (finite.size() < 3) return best;
  const std::size_t stride = std::max<std::size_t>(1, finite.size() / 400);  // count on ≤ ~400 points
  std::uint64_t state = 0x6c616e64;                                          // "land"
  const auto next = [&] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (z ^ (z >> 31)) % finite.size();
  };
  std::size_t best_count = 0;
  for (int trial = 0; trial < kRansacTrials; ++trial) {
    std::array<std::size_t, 3> idx{next(), next(), next()};
    std::sort(idx.begin(), idx.end());
    if (idx[0] == idx[1] || idx[1] == idx[2]) continue;
    std::array<double, 9> ata{};
    std::array<double, 3> atb{};
    for (std::size_t k : idx) {
      const std::size_t i = finite[k];
      const double u = (static_cast<double>(i) - best.centre) / best.half;
      detail::Accumulate3({1.0, u, u * u}, p[i], &ata, &atb);
    }
    Quadratic candidate = best;
    candidate.q = detail::SolveNormal3(ata, atb);
    std::size_t count = 0;
    for (std::size_t k = 0; k < finite.size(); k += stride)
      if (std::abs(p[finite[k]] - candidate.At(finite[k])) <= tolerance) ++count;
    if (count > best_count) best_count = count, best.q = candidate.q;
  }
  return best;
}

std::vector<double> Evaluate(const Quadratic& fit, std::size_t n) {
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = fit.At(i);
  return out;
}

/// Robust local-linear smoother (LOWESS-like): Gaussian window of σ samples,
/// two robustness iterations with bisquare weights on the residuals.
std::vector<double> RobustSmoother(const std::vector<double>& p, std::size_t begin, std::size_t end,
                                   double sigma) {
  const std::vector<double> k = detail::GaussianKernel1d(sigma);
  const auto half = static_cast<std::ptrdiff_t>(k.size() / 2);
  std::vector<double> robust(p.size(), 1.0), fit(p.size(), kNaN);
  for (int iteration = 0; iteration < 3; ++iteration) {
    for (std::size_t i = begin; i < end; ++i) {
      double sw = 0, sx = 0, sxx = 0, sz = 0, sxz = 0;
      const auto c = static_cast<std::ptrdiff_t>(i);
      for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(begin), c - half);
           j < std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(end), c + half + 1); ++j) {
        const double z = p[static_cast<std::size_t>(j)];
        if (!std::isfinite(z)) continue;
        const double w = k[static_cast<std::size_t>(j - c + half)] * robust[static_cast<std::size_t>(j)];
        const auto x = static_cast<double>(j - c);
        sw += w, sx += w * x, sxx += w * x * x, sz += w * z, sxz += w * x * z;
      }
      if (sw <= 0) continue;
      const double det = sw * sxx - sx * sx;
      fit[i] = det > 1e-12 * sw * sxx ? (sxx * sz - sx * sxz) / det : sz / sw;
    }
    std::vector<double> residuals;
    for (std::size_t i = begin; i < end; ++i)
      if (std::isfinite(p[i]) && std::isfinite(fit[i])) residuals.push_back(std::abs(p[i] - fit[i]));
    if (residuals.empty()) break;
    const double scale = std::max(6.0 * detail::Median(&residuals), 1e-9);
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isfinite(p[i]) || !std::isfinite(fit[i])) continue;
      const double t = (p[i] - fit[i]) / scale;
      robust[i] = std::abs(t) < 1 ? (1 - t * t) * (1 - t * t) : 0.0;
    }
  }
  return fit;
}

struct Grooves {
  std::size_t left = 0, right = 0;  ///< land between the shoulders: [left, right)
  bool left_found = false, right_found = false;
};

/// Walks outwards from `centre` while |excess| stays below `threshold`; the
/// shoulder is the first point where it exceeds it for `width` samples (or up
/// to the profile's end). Returns the index just inside the shoulder.
std::pair<std::size_t, bool> WalkToShoulder(const std::vector<double>& excess, std::size_t centre,
                                            std::size_t first, std::size_t last, int direction,
                                            double threshold, std::size_t width) {
  const auto in_range = [&](std::ptrdiff_t i) {
    return i >= static_cast<std::ptrdiff_t>(first) && i < static_cast<std::ptrdiff_t>(last);
  };
  for (auto i = static_cast<std::ptrdiff_t>(centre); in_range(i); i += direction) {
    const double e = excess[static_cast<std::size_t>(i)];
    if (!std::isfinite(e) || std::abs(e) <= threshold) continue;
    std::size_t above = 0, seen = 0;
    std::ptrdiff_t j = i;
    for (; in_range(j) && seen < width; j += direction) {
      const double v = excess[static_cast<std::size_t>(j)];
      if (!std::isfinite(v)) continue;
      ++seen;
      if (std::abs(v) > threshold) ++above;
    }
    if (seen > 0 && above * 5 >= seen * 4) {
      const auto inside = static_cast<std::size_t>(i - direction);
      return {direction < 0 ? inside + 1 : inside, true};
    }
  }
  return {direction < 0 ? first : last, false};
}

Grooves DetectGrooves(const std::vector<double>& p, const LandSignatureOptions& o) {
  const auto [first, last] = FiniteExtent(p);
  Grooves g{first, last, false, false};
  const double ws = o.spacing_um;
  const auto width = static_cast<std::size_t>(std::max(1.0, std::round(o.groove_min_width_um / ws)));
  const auto margin = static_cast<std::size_t>(std::round(o.groove_margin_um / ws));
  // The land's form: RANSAC (the shoulders are outliers), refined robustly.
  const Quadratic start = RansacQuadratic(p, first, last, o.groove_min_step_um);
  Quadratic form = RobustQuadratic(p, first, last, &start, o.groove_min_step_um);
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<double> residual(p.size(), kNaN), inliers;
    std::vector<std::size_t> inlier_at;
    for (std::size_t i = first; i < last; ++i) {
      residual[i] = p[i] - form.At(i);
      if (std::isfinite(residual[i]) && std::abs(residual[i]) <= o.groove_min_step_um) {
        inliers.push_back(residual[i]);
        inlier_at.push_back(i);
      }
    }
    if (inliers.size() < 3) break;
    const double med = detail::Median(&inliers);
    for (double& r : inliers) r = std::abs(r - med);
    const double threshold = std::max(o.groove_min_step_um, 6.0 * 1.4826 * detail::Median(&inliers));
    const std::vector<double> excess = detail::SmoothProfile(residual, 5.0 / ws);
    const std::size_t centre = inlier_at[inlier_at.size() / 2];  // median point on the land
    std::tie(g.left, g.left_found) = WalkToShoulder(excess, centre, first, last, -1, threshold, width);
    std::tie(g.right, g.right_found) = WalkToShoulder(excess, centre, first, last, +1, threshold, width);
    g.right = std::max(g.right, g.left + 1);
    // Second pass: the form fitted to the land found by the first.
    if (g.right - g.left <= 2 * margin + 8) break;
    form = RobustQuadratic(p, g.left + margin, g.right - margin, &form, o.groove_min_step_um);
  }
  if (g.left_found) g.left += margin;
  if (g.right_found) g.right = g.right > margin ? g.right - margin : 0;
  if (g.right < g.left) g.right = g.left;
  return g;
}

std::vector<double> Crop(const std::vector<double>& p, std::size_t begin, std::size_t end) {
  return {p.begin() + static_cast<std::ptrdiff_t>(begin), p.begin() + static_cast<std::ptrdiff_t>(end)};
}

/// Mean over bands of band[b] at i − offset[b] (linear interpolation between
/// finite neighbours) where at least half of the bands have a value; NaN elsewhere.
std::vector<double> AlignedMean(const std::vector<std::vector<double>>& bands,
                                const std::vector<double>& offsets) {
  const std::size_t n = bands.front().size();
  std::vector<double> out(n, kNaN);
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0;
    int count = 0;
    for (std::size_t b = 0; b < bands.size(); ++b) {
      const double x = static_cast<double>(i) - offsets[b];
      const double lo = std::floor(x);
      if (lo < 0 || lo + 1 >= static_cast<double>(n)) continue;
      const auto j = static_cast<std::size_t>(lo);
      const double t = x - lo, v0 = bands[b][j], v1 = bands[b][j + 1];
      const double v = t < 1e-9 ? v0 : (1 - t) * v0 + t * v1;
      if (std::isfinite(v)) sum += v, ++count;
    }
    if (count > 0 && 2 * count >= static_cast<int>(bands.size())) out[i] = sum / count;
  }
  return out;
}

/// Shoulder remnants and edge artefacts: within edge_trim_um of each end of
/// the valid extent, everything outside the innermost point whose |value|
/// exceeds edge_outlier_sigma robust σ (1.4826 MAD) is dropped, with λs more.
void TrimEdgeOutliers(std::vector<double>* values, std::vector<double>* profile,
                      const LandSignatureOptions& o) {
  std::vector<double> finite;
  for (double v : *values)
    if (std::isfinite(v)) finite.push_back(std::abs(v));
  if (finite.size() < 10) return;
  const double sigma = 1.4826 * detail::Median(&finite);
  const auto [first, last] = FiniteExtent(*values);
  const auto zone = static_cast<std::size_t>(std::round(o.edge_trim_um / o.spacing_um));
  const auto extra = static_cast<std::size_t>(std::round(o.lambda_s_um / o.spacing_um));
  const auto outlier = [&](std::size_t i) {
    return std::isfinite((*values)[i]) && std::abs((*values)[i]) > o.edge_outlier_sigma * sigma;
  };
  std::size_t cut_left = first, cut_right = last;  // keep [cut_left, cut_right)
  for (std::size_t i = first; i < std::min(last, first + zone); ++i)
    if (outlier(i)) cut_left = i + 1 + extra;
  for (std::size_t i = last; i > first && i + zone > last; --i)
    if (outlier(i - 1)) cut_right = i - 1 > extra ? i - 1 - extra : 0;
  for (std::size_t i = 0; i < values->size(); ++i) {
    if (i >= cut_left && i < cut_right) continue;
    (*values)[i] = kNaN;
    (*profile)[i] = kNaN;
  }
}

/// The scan and the options a land signature can be extracted with.
void CheckLandInputs(const Surface& surface, const LandSignatureOptions& o) {
  Check(surface.values.type() == CV_64FC1 && !surface.values.empty(),
        "land signature: surface has no values");
  Check(surface.spacing_x_um > 0 && surface.spacing_y_um > 0,
        "land signature: surface spacing must be positive");
  Check(o.spacing_um > 0 && o.band_um > 0 && o.lambda_s_um > 0 && o.lambda_c_um > o.lambda_s_um,
        "land signature: invalid options");
  const double width_um = surface.values.cols * surface.spacing_x_um;
  Check(width_um >= o.min_length_um,
        "land signature: the scan is " + std::to_string(static_cast<int>(width_um)) +
            " um across the land, less than the " + std::to_string(static_cast<int>(o.min_length_um)) +
            " um needed (is x across the land?)");
}

/// Overall crosscut: per point, the median over the bands (NaN where fewer
/// than half of them have the point).
std::vector<double> OverallCrosscut(const std::vector<std::vector<double>>& bands) {
  std::vector<double> overall(bands.front().size(), kNaN), column;
  for (std::size_t i = 0; i < overall.size(); ++i) {
    column.clear();
    for (const auto& band : bands)
      if (std::isfinite(band[i])) column.push_back(band[i]);
    if (!column.empty() && 2 * column.size() >= bands.size()) overall[i] = detail::Median(&column);
  }
  return overall;
}

/// lag[b]: band b's point i lies on the stria of band b+1's point i − lag[b]
/// (sub-sample: parabola through the correlations at the best lag ± 1);
/// corr[b]: their correlation there (−2: none).
void AlignAdjacentBands(const std::vector<std::vector<double>>& filtered, std::ptrdiff_t max_lag,
                        std::vector<double>* corr_out, std::vector<double>* lag_out) {
  std::vector<double>& corr = *corr_out;
  std::vector<double>& lag = *lag_out;
  corr.assign(filtered.size(), -2);
  lag.assign(filtered.size(), 0);
  for (std::size_t b = 0; b + 1 < filtered.size(); ++b) {
    const double min_overlap =
        std::max(10.0, 0.5 * std::min(CountFinite(filtered[b]), CountFinite(filtered[b + 1])));
    std::vector<double> r(static_cast<std::size_t>(2 * max_lag + 1));
    std::size_t best = 0;
    for (std::ptrdiff_t l = -max_lag; l <= max_lag; ++l) {
      double overlap = 0;
      const auto k = static_cast<std::size_t>(l + max_lag);
      r[k] = detail::LagCorrelation(filtered[b], filtered[b + 1], l, min_overlap, &overlap);
      if (r[k] > r[best]) best = k;
    }
    corr[b] = r[best];
    lag[b] = static_cast<double>(best) - static_cast<double>(max_lag);
    if (best > 0 && best + 1 < r.size() && r[best - 1] > -2 && r[best + 1] > -2) {
      const double curvature = r[best - 1] - 2 * r[best] + r[best + 1];
      if (curvature < 0) lag[b] += std::clamp(0.5 * (r[best - 1] - r[best + 1]) / curvature, -0.5, 0.5);
    }
  }
}

/// Bands [begin, end) of the longest run of adjacent bands that agree.
struct StableRun {
  std::size_t begin = 0, end = 1;
  double sum = -1;  ///< of the adjacent bands' correlations
  bool stable = false;
};

/// The longest run of adjacent bands whose correlation is at least min_corr
/// (ties: the larger sum); none: the best adjacent pair, not stable.
StableRun FindStableRun(const std::vector<double>& corr, double min_corr) {
  const std::size_t n = corr.size();
  StableRun best;
  for (std::size_t b = 0; b + 1 < n;) {
    if (corr[b] < min_corr) {
      ++b;
      continue;
    }
    std::size_t e = b;
    double sum = 0;
    while (e + 1 < n && corr[e] >= min_corr) sum += corr[e++];
    if (!best.stable || e + 1 - b > best.end - best.begin ||
        (e + 1 - b == best.end - best.begin && sum > best.sum))
      best.begin = b, best.end = e + 1, best.sum = sum, best.stable = true;
    b = e;
  }
  if (!best.stable && n >= 2) {  // no agreement anywhere: the best adjacent pair
    const auto b = static_cast<std::size_t>(std::max_element(corr.begin(), corr.end() - 1) - corr.begin());
    best.begin = b, best.end = b + 2, best.sum = corr[b];
  }
  if (n == 1) best.sum = 0;
  return best;
}

/// Offsets relative to the middle band of the run: band b's point i − E[b]
/// lies on the same stria as the middle band's point i. *cumulative: the
/// summed lag from the run's first band to its last.
std::vector<double> RunOffsets(const std::vector<double>& lag, std::size_t begin, std::size_t end,
                               double* cumulative) {
  std::vector<double> offsets, d;
  *cumulative = 0;
  for (std::size_t b = begin; b < end; ++b) {
    d.push_back(*cumulative);
    if (b + 1 < end) *cumulative += lag[b];
  }
  const double mid = d[d.size() / 2];
  for (double x : d) offsets.push_back(x - mid);
  return offsets;
}

}  // namespace

LandSignature ExtractLandSignature(const Surface& surface, const LandSignatureOptions& o) {
  CheckLandInputs(surface, o);
  const double ws = o.spacing_um;

  // 1. Crosscut bands (median over each band's rows), at the working spacing.
  const int rows = surface.values.rows;
  const int per_band = std::clamp(static_cast<int>(std::lround(o.band_um / surface.spacing_y_um)), 1, rows);
  const int band_count = rows / per_band;
  std::vector<std::vector<double>> bands;
  for (int b = 0; b < band_count; ++b)
    bands.push_back(ToWorkingSpacing(BandProfile(surface.values, b * per_band, (b + 1) * per_band),
                                     surface.spacing_x_um, ws));
  const std::vector<double> overall = OverallCrosscut(bands);
  const std::string too_little = "land signature: too little valid data across the land";
  Check(static_cast<double>(CountFinite(overall)) * ws >= o.min_length_um, too_little);

  // 2. Groove shoulders, 3. form of the land between them.
  const Grooves g = DetectGrooves(overall, o);
  Check(static_cast<double>(g.right - g.left) * ws >= o.min_length_um,
        "land signature: less than " + std::to_string(static_cast<int>(o.min_length_um)) +
            " um of land between the groove shoulders");
  const std::vector<double> form =
      o.form == LandFormModel::kQuadratic
          ? Evaluate(RobustQuadratic(overall, g.left, g.right, nullptr, o.groove_min_step_um), overall.size())
          : RobustSmoother(overall, g.left, g.right, o.form_sigma_um / ws);

  // 4. Per band: form removed, band-passed; adjacent bands aligned.
  std::vector<std::vector<double>> flat(bands.size()), filtered(bands.size());
  for (std::size_t b = 0; b < bands.size(); ++b) {
    flat[b] = Crop(bands[b], g.left, g.right);
    for (std::size_t i = 0; i < flat[b].size(); ++i) flat[b][i] -= form[g.left + i];
    filtered[b] = detail::BandPassProfile(flat[b], ws, o.lambda_c_um, o.lambda_s_um, o.max_gap_um);
  }
  std::vector<double> corr, lag;
  AlignAdjacentBands(filtered, static_cast<std::ptrdiff_t>(std::ceil(o.max_drift_um / ws)), &corr, &lag);

  // 5. Stable region: the longest run of adjacent bands that agree.
  const StableRun run = FindStableRun(corr, o.min_band_correlation);
  const std::size_t best_begin = run.begin, best_end = run.end;
  const double best_sum = run.sum;
  const bool stable = run.stable;
  double cumulative = 0;
  const std::vector<double> offsets = RunOffsets(lag, best_begin, best_end, &cumulative);
  std::vector<std::vector<double>> run_filtered, run_flat;
  for (std::size_t k = 0; k < offsets.size(); ++k) {
    run_filtered.push_back(filtered[best_begin + k]);
    run_flat.push_back(flat[best_begin + k]);
  }

  LandSignature s;
  s.spacing_um = ws;
  std::vector<double> values = AlignedMean(run_filtered, offsets);
  std::vector<double> profile = AlignedMean(run_flat, offsets);
  TrimEdgeOutliers(&values, &profile, o);
  const auto [first, last] = FiniteExtent(values);
  Check(last > first, too_little);
  s.values = Crop(values, first, last);
  s.profile = Crop(profile, first, last);
  s.start_um = static_cast<double>(g.left + first) * ws;
  s.valid = CountFinite(s.values);
  Check(static_cast<double>(s.valid) * ws >= o.min_length_um, too_little);
  double sum_squares = 0;
  for (double v : s.values)
    if (std::isfinite(v)) sum_squares += v * v;
  Check(std::sqrt(sum_squares / s.valid) >= kMinSignatureRmsUm,
        "land signature: no striae: the band-passed profile is flat (rms below 0.0001 um)");
  s.groove_left_um = static_cast<double>(g.left) * ws;
  s.groove_right_um = static_cast<double>(g.right) * ws;
  s.left_shoulder_found = g.left_found;
  s.right_shoulder_found = g.right_found;
  s.crosscut_y0_um = static_cast<double>(static_cast<int>(best_begin) * per_band) * surface.spacing_y_um;
  s.crosscut_y1_um = static_cast<double>(static_cast<int>(best_end) * per_band) * surface.spacing_y_um;
  s.bands_used = static_cast<int>(best_end - best_begin);
  s.stable = stable;
  s.band_correlation = s.bands_used > 1 ? best_sum / (s.bands_used - 1) : 0.0;
  s.drift_per_mm = s.bands_used > 1
                       ? -cumulative * ws / ((s.bands_used - 1) * per_band * surface.spacing_y_um) * 1000.0
                       : 0.0;
  return s;
}

}  // namespace toolmark
