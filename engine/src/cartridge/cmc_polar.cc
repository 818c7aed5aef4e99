// Polar signature of a breech face, for a fast rotation estimate (see
// cmc_internal.h and docs/search.md, "Re-ranking").
//
// The processed breech face is sampled on rings at fixed radii (every
// kRingStepUm from the firing-pin hole's centre, or the primer centre when no
// hole was found), kAngles samples per ring, bilinear, missing samples
// excluded. Each ring with enough valid samples is standardised (zero mean,
// unit variance over its valid samples; missing samples 0) and its discrete
// Fourier transform along the angle is kept. Rings are at the same radii on
// every scan, so a rotation of the cartridge case about the centre is a
// common circular shift of all rings: the sum over rings of the rings'
// circular cross-correlations peaks at it (one inverse FFT per pair of
// scans, from the summed cross-spectra).
#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>
#include <vector>

#include "cartridge/cmc_internal.h"

namespace toolmark::detail {
namespace {

constexpr int kAngles = 512;
constexpr double kRingStepUm = 50.0;
constexpr double kMaxRadiusUm = 6000.0;
constexpr double kMinRingValid = 0.25;   ///< share of a ring's samples that must be valid
constexpr double kSmoothSigmaUm = 25.0;  ///< light smoothing before sampling (centre errors)

/// NaN-aware Gaussian smoothing: G*(v·m) / G*m, NaN where no valid point weighs in.
cv::Mat SmoothNanAware(const cv::Mat& v, double sigma_px) {
  cv::Mat mask(v.size(), CV_64F), filled(v.size(), CV_64F);
  for (int y = 0; y < v.rows; ++y)
    for (int x = 0; x < v.cols; ++x) {
      const double z = v.at<double>(y, x);
      const bool ok = std::isfinite(z);
      mask.at<double>(y, x) = ok ? 1.0 : 0.0;
      filled.at<double>(y, x) = ok ? z : 0.0;
    }
  if (sigma_px <= 0.3) {
    return v.clone();
  }
  cv::Mat gv, gm;
  cv::GaussianBlur(filled, gv, cv::Size(0, 0), sigma_px, sigma_px, cv::BORDER_CONSTANT);
  cv::GaussianBlur(mask, gm, cv::Size(0, 0), sigma_px, sigma_px, cv::BORDER_CONSTANT);
  cv::Mat out(v.size(), CV_64F);
  for (int y = 0; y < v.rows; ++y)
    for (int x = 0; x < v.cols; ++x)
      out.at<double>(y, x) = mask.at<double>(y, x) > 0 && gm.at<double>(y, x) > 1e-6
                                 ? gv.at<double>(y, x) / gm.at<double>(y, x)
                                 : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace

PolarSignature MakePolarSignature(const BreechFace& face) {
  PolarSignature p;
  const double s = face.surface.spacing_x_um;
  if (face.surface.values.empty() || s <= 0) return p;
  const cv::Mat v = SmoothNanAware(face.surface.values, kSmoothSigmaUm / s);
  const bool use_fp = face.firing_pin_found;
  p.centre_px = {(use_fp ? face.firing_pin_centre_x_um : face.centre_um.x) / s,
                 (use_fp ? face.firing_pin_centre_y_um : face.centre_um.y) / s};
  const auto sample = [&](double x, double y, double* value) {
    const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
    if (x0 < 0 || y0 < 0 || x0 + 1 >= v.cols || y0 + 1 >= v.rows) return false;
    const double fx = x - x0, fy = y - y0;
    const double a = v.at<double>(y0, x0), b = v.at<double>(y0, x0 + 1), c = v.at<double>(y0 + 1, x0),
                 d = v.at<double>(y0 + 1, x0 + 1);
    if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c) || !std::isfinite(d)) return false;
    *value = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * c + fx * d);
    return true;
  };
  const int rings = static_cast<int>(kMaxRadiusUm / kRingStepUm);
  p.spectra = cv::Mat::zeros(rings, kAngles, CV_32FC2);
  p.weight.assign(static_cast<std::size_t>(rings), 0.0f);
  cv::Mat ring(1, kAngles, CV_64F), spectrum;
  std::vector<double> values(kAngles);
  std::vector<char> ok(kAngles);
  for (int r = 0; r < rings; ++r) {
    const double radius = (r + 1) * kRingStepUm / s;
    double sum = 0, squares = 0;
    int n = 0;
    for (int k = 0; k < kAngles; ++k) {
      const double t = 2 * CV_PI * k / kAngles;
      const auto i = static_cast<std::size_t>(k);
      ok[i] = sample(p.centre_px.x + radius * std::cos(t), p.centre_px.y + radius * std::sin(t), &values[i]);
      if (ok[i]) sum += values[i], squares += values[i] * values[i], ++n;
    }
    if (n < kMinRingValid * kAngles) continue;
    const double mean = sum / n, var = squares / n - mean * mean;
    if (!(var > 0)) continue;
    const double sd = std::sqrt(var);
    for (int k = 0; k < kAngles; ++k) {
      const auto i = static_cast<std::size_t>(k);
      ring.at<double>(0, k) = ok[i] ? (values[i] - mean) / sd : 0.0;
    }
    cv::dft(ring, spectrum, cv::DFT_COMPLEX_OUTPUT);
    spectrum.convertTo(p.spectra.row(r), CV_32FC2);
    p.weight[static_cast<std::size_t>(r)] = static_cast<float>(n) / kAngles;
  }
  // Only up to the last usable ring (the rest would be zeros, kept in memory
  // for every prepared candidate).
  int used = rings;
  while (used > 0 && p.weight[static_cast<std::size_t>(used - 1)] <= 0) --used;
  p.spectra = used > 0 ? p.spectra.rowRange(0, used).clone() : cv::Mat();
  p.weight.resize(static_cast<std::size_t>(used));
  return p;
}

std::vector<std::pair<double, double>> PolarRotations(const PolarSignature& a, const PolarSignature& b,
                                                      int count, double min_separation_deg) {
  std::vector<std::pair<double, double>> out;
  if (a.spectra.empty() || b.spectra.empty() || a.spectra.cols != b.spectra.cols) return out;
  const int rings = std::min(a.spectra.rows, b.spectra.rows), n = a.spectra.cols;
  cv::Mat cross = cv::Mat::zeros(1, n, CV_64FC2);
  double norm = 0;
  for (int r = 0; r < rings; ++r) {
    const float wa = a.weight[static_cast<std::size_t>(r)], wb = b.weight[static_cast<std::size_t>(r)];
    if (wa <= 0 || wb <= 0) continue;
    const auto* fa = a.spectra.ptr<cv::Vec2f>(r);
    const auto* fb = b.spectra.ptr<cv::Vec2f>(r);
    auto* c = cross.ptr<cv::Vec2d>(0);
    // F_b · conj(F_a): the inverse transform is Σ_φ b(φ + s) a(φ), which
    // peaks where B's marks sit s further round than A's.
    for (int k = 0; k < n; ++k) {
      c[k][0] += double{fb[k][0]} * fa[k][0] + double{fb[k][1]} * fa[k][1];
      c[k][1] += double{fb[k][1]} * fa[k][0] - double{fb[k][0]} * fa[k][1];
    }
    norm += std::sqrt(double{wa} * wb) * n;
  }
  if (norm <= 0) return out;
  cv::Mat corr;
  cv::dft(cross, corr, cv::DFT_INVERSE | cv::DFT_SCALE | cv::DFT_REAL_OUTPUT);
  std::vector<int> order(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) order[static_cast<std::size_t>(k)] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return corr.at<double>(0, x) > corr.at<double>(0, y); });
  const double step = 360.0 / n;
  for (int k : order) {
    const double deg = std::remainder(k * step, 360.0);
    const bool near = std::any_of(out.begin(), out.end(), [&](const auto& o) {
      return std::abs(std::remainder(o.first - deg, 360.0)) < min_separation_deg;
    });
    if (near) continue;
    out.emplace_back(deg, corr.at<double>(0, k) * n / norm);
    if (static_cast<int>(out.size()) == count) break;
  }
  return out;
}

}  // namespace toolmark::detail
