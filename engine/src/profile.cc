#include "profile.h"

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>

namespace toolmark::detail {

/// Solves the 3×3 least-squares normal equations ata·x = atb (row-major ata).
std::array<double, 3> SolveNormal3(const std::array<double, 9>& ata, const std::array<double, 3>& atb) {
  cv::Mat lhs(3, 3, CV_64F, const_cast<double*>(ata.data()));
  cv::Mat rhs(3, 1, CV_64F, const_cast<double*>(atb.data()));
  cv::Mat x;
  cv::solve(lhs, rhs, x, cv::DECOMP_SVD);
  return {x.at<double>(0), x.at<double>(1), x.at<double>(2)};
}

/// Adds one observation target ≈ basis·coefficients to the normal equations.
void Accumulate3(const std::array<double, 3>& basis, double target, std::array<double, 9>* ata,
                 std::array<double, 3>* atb) {
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 3; ++j) (*ata)[i * 3 + j] += basis[i] * basis[j];
    (*atb)[i] += basis[i] * target;
  }
}

/// Median of a non-empty vector (reorders it).
double Median(std::vector<double>* v) {
  const std::size_t mid = v->size() / 2;
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(mid), v->end());
  const double upper = (*v)[mid];
  if (v->size() % 2 == 1) return upper;
  const double lower = *std::max_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

/// Normalised 1D Gaussian kernel with half-width ceil(3σ), σ in samples.
std::vector<double> GaussianKernel1d(double sigma, int max_half) {
  int half = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  if (max_half > 0) half = std::min(half, max_half);
  std::vector<double> k(static_cast<std::size_t>(2 * half + 1));
  double sum = 0;
  for (int i = -half; i <= half; ++i) {
    const double w = std::exp(-0.5 * (i * i) / (sigma * sigma));
    k[static_cast<std::size_t>(i + half)] = w;
    sum += w;
  }
  for (double& w : k) w /= sum;
  return k;
}

/// Linear resampling from spacing `from` to `to` (µm); NaN where a neighbour is.
std::vector<double> ResampleProfile(const std::vector<double>& p, double from, double to) {
  if (std::abs(from - to) < 1e-9 * to || p.size() < 2) return p;
  const double span = static_cast<double>(p.size() - 1) * from;
  std::vector<double> out(static_cast<std::size_t>(std::floor(span / to)) + 1, kNaN);
  for (std::size_t j = 0; j < out.size(); ++j) {
    const double x = static_cast<double>(j) * to / from;
    const auto i = std::min(static_cast<std::size_t>(x), p.size() - 2);
    const double t = x - static_cast<double>(i);
    out[j] = (1 - t) * p[i] + t * p[i + 1];
  }
  return out;
}

/// NaN-aware Gaussian smoothing (normalised convolution), σ in samples.
std::vector<double> SmoothProfile(const std::vector<double>& p, double sigma) {
  const std::vector<double> k = GaussianKernel1d(sigma);
  const auto half = static_cast<std::ptrdiff_t>(k.size() / 2);
  const auto n = static_cast<std::ptrdiff_t>(p.size());
  std::vector<double> out(p.size(), kNaN);
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[static_cast<std::size_t>(i)])) continue;
    double num = 0, den = 0;
    for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(0, i - half); j <= std::min(n - 1, i + half); ++j) {
      const double v = p[static_cast<std::size_t>(j)];
      if (!std::isfinite(v)) continue;
      const double w = k[static_cast<std::size_t>(j - i + half)];
      num += w * v;
      den += w;
    }
    out[static_cast<std::size_t>(i)] = num / den;
  }
  return out;
}

int CountFinite(const std::vector<double>& p) {
  return static_cast<int>(std::count_if(p.begin(), p.end(), [](double v) { return std::isfinite(v); }));
}

/// Pearson correlation of a[i] with b[i − lag] over their common finite
/// points (their number in *overlap); -2 when fewer than min_overlap or flat.
double LagCorrelation(const std::vector<double>& a, const std::vector<double>& b, std::ptrdiff_t lag,
                      double min_overlap, double* overlap) {
  const auto na = static_cast<std::ptrdiff_t>(a.size()), nb = static_cast<std::ptrdiff_t>(b.size());
  double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (std::ptrdiff_t i = std::max<std::ptrdiff_t>(0, lag); i < std::min(na, nb + lag); ++i) {
    const double x = a[static_cast<std::size_t>(i)], y = b[static_cast<std::size_t>(i - lag)];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    n += 1;
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  *overlap = n;
  if (n < min_overlap || n < 2) return -2;
  const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
  if (va <= 1e-12 * saa || vb <= 1e-12 * sbb) return -2;
  return std::clamp((sab - sa * sb / n) / std::sqrt(va * vb), -1.0, 1.0);
}

double GaussianSigmaForCutoff(double lambda_um) {
  // ISO 16610-21: s(x) = exp(-π (x / (α λ))²) / (α λ), α = sqrt(ln 2 / π);
  // as a Gaussian of standard deviation σ = α λ / sqrt(2π).
  const double alpha = std::sqrt(std::log(2.0) / M_PI);
  return alpha * lambda_um / std::sqrt(2.0 * M_PI);
}

std::vector<double> NormalizedConvolution(const std::vector<double>& p, double sigma,
                                          const std::vector<char>& evaluate) {
  const std::vector<double> k = GaussianKernel1d(sigma);
  const auto half = static_cast<std::ptrdiff_t>(k.size() / 2);
  const auto n = static_cast<std::ptrdiff_t>(p.size());
  std::vector<double> out(p.size(), kNaN);
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (!evaluate[static_cast<std::size_t>(i)]) continue;
    double num = 0, den = 0;
    const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, i - half), hi = std::min(n - 1, i + half);
    for (std::ptrdiff_t j = lo; j <= hi; ++j) {
      const double v = p[static_cast<std::size_t>(j)];
      if (!std::isfinite(v)) continue;
      const double w = k[static_cast<std::size_t>(j - i + half)];
      num += w * v;
      den += w;
    }
    // Less than 5% of the kernel's weight present: too little data to say.
    if (den > 0.05) out[static_cast<std::size_t>(i)] = num / den;
  }
  return out;
}

std::vector<double> BandPassProfile(const std::vector<double>& p, double spacing_um, double lambda_c_um,
                                    double lambda_s_um, double max_gap_um) {
  const std::size_t n = p.size();
  std::vector<char> finite(n), evaluate(n);
  for (std::size_t i = 0; i < n; ++i) finite[i] = evaluate[i] = std::isfinite(p[i]);
  // Bridge interior gaps of at most max_gap_um; wider gaps stay missing.
  const auto max_gap = static_cast<std::size_t>(std::floor(max_gap_um / spacing_um));
  for (std::size_t i = 0; i < n;) {
    if (finite[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && !finite[j]) ++j;
    if (i > 0 && j < n && j - i <= max_gap)
      std::fill(evaluate.begin() + static_cast<std::ptrdiff_t>(i),
                evaluate.begin() + static_cast<std::ptrdiff_t>(j), 1);
    i = j;
  }
  const std::vector<double> waviness =
      NormalizedConvolution(p, GaussianSigmaForCutoff(lambda_c_um) / spacing_um, finite);
  std::vector<double> rough(n, kNaN);
  for (std::size_t i = 0; i < n; ++i) rough[i] = p[i] - waviness[i];
  return NormalizedConvolution(rough, GaussianSigmaForCutoff(lambda_s_um) / spacing_um, evaluate);
}

}  // namespace toolmark::detail
