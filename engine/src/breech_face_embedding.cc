// Rotation-invariant breech-face embedding (see docs/cmc.md). The processed
// surface is resampled on a polar grid about the firing-pin hole's centre
// (else the primer centre) found by the preprocessing: kRings rings between
// the hole and the outer edge, kAngles samples each, bilinear, missing
// points excluded. Each ring with enough valid samples is standardised (zero
// mean, unit variance; missing samples 0) and Fourier-transformed along the
// angle. For ring pairs (r, r + g), g = 1…kRingGaps, and angular frequencies
// k = 1…kFrequencies, the unit phasor of F_r(k)·conj(F_r+g(k)) is kept: a
// rotation about the centre moves both rings' phases by k·θ, so it cancels,
// while how the marks of the two rings sit relative to each other remains.
// The values are scaled to unit length (dot product = cosine). Translation
// only moves the centre, which the preprocessing finds again on every scan;
// an error in that centre is what limits this embedding. kFrequencies was
// chosen on synthetic data (recall@10 0.25, 0.30, 0.27 for 8, 24, 48).
#include <cmath>
#include <opencv2/core.hpp>
#include <vector>

#include "cmc_internal.h"

namespace toolmark::detail {
namespace {

constexpr int kRings = 8;
constexpr int kAngles = 256;
constexpr int kFrequencies = 24;
constexpr int kRingGaps = 3;            ///< rings r and r + 1 … r + kRingGaps are paired
constexpr double kMinRingValid = 0.25;  ///< share of a ring's samples that must be valid

}  // namespace

std::vector<float> BreechFaceEmbedding(const BreechFace& face) {
  constexpr int kPairs = kRingGaps * kRings - kRingGaps * (kRingGaps + 1) / 2;
  std::vector<float> out(static_cast<std::size_t>(kPairs * kFrequencies * 2), 0.0f);
  const cv::Mat& v = face.surface.values;
  const double s = face.surface.spacing_x_um;
  if (v.empty() || s <= 0) return out;
  // The firing-pin hole is the centre when found: a small, sharp circle is
  // located more precisely than the primer edge (and is the usual reference).
  const bool use_fp = face.firing_pin_found;
  const double cx = (use_fp ? face.firing_pin_centre_x_um : face.centre_um.x) / s,
               cy = (use_fp ? face.firing_pin_centre_y_um : face.centre_um.y) / s;
  double r_out = face.outer_found ? face.outer_radius_um / s : 0;
  if (r_out <= 0) {  // the farthest valid point
    for (int y = 0; y < v.rows; ++y)
      for (int x = 0; x < v.cols; ++x)
        if (std::isfinite(v.at<double>(y, x))) r_out = std::max(r_out, std::hypot(x - cx, y - cy));
  }
  const double r_in = face.firing_pin_found ? face.firing_pin_radius_um / s : 0.15 * r_out;
  if (r_out <= r_in + 2) return out;
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
  std::vector<double> features(out.size(), 0.0);
  cv::Mat ring(1, kAngles, CV_64F), spectrum;
  std::vector<std::vector<cv::Vec2d>> spectra(kRings);
  for (int r = 0; r < kRings; ++r) {
    const double radius = r_in + (r + 0.5) * (r_out - r_in) / kRings;
    std::vector<double> values(kAngles);
    std::vector<char> ok(kAngles);
    double sum = 0, squares = 0;
    int n = 0;
    for (int k = 0; k < kAngles; ++k) {
      const double t = 2 * M_PI * k / kAngles;
      ok[static_cast<std::size_t>(k)] =
          sample(cx + radius * std::cos(t), cy + radius * std::sin(t), &values[static_cast<std::size_t>(k)]);
      if (ok[static_cast<std::size_t>(k)])
        sum += values[static_cast<std::size_t>(k)],
            squares += values[static_cast<std::size_t>(k)] * values[static_cast<std::size_t>(k)], ++n;
    }
    if (n < kMinRingValid * kAngles || n < 8) continue;
    const double mean = sum / n, sd = std::sqrt(std::max(1e-30, squares / n - mean * mean));
    for (int k = 0; k < kAngles; ++k)
      ring.at<double>(0, k) =
          ok[static_cast<std::size_t>(k)] ? (values[static_cast<std::size_t>(k)] - mean) / sd : 0.0;
    cv::dft(ring, spectrum, cv::DFT_COMPLEX_OUTPUT);
    for (int f = 1; f <= kFrequencies; ++f)
      spectra[static_cast<std::size_t>(r)].push_back(spectrum.at<cv::Vec2d>(0, f));
  }
  // Cross-ring phase: F_r(k)·conj(F_r+1(k)) / |…| is unchanged by a rotation
  // (both rings' phases move by the same k·θ) but keeps how the rings' marks
  // sit relative to each other.
  int pair = 0;
  for (int gap = 1; gap <= kRingGaps; ++gap)
    for (int r = 0; r + gap < kRings; ++r, ++pair) {
      const auto& p = spectra[static_cast<std::size_t>(r)];
      const auto& q = spectra[static_cast<std::size_t>(r + gap)];
      if (p.empty() || q.empty()) continue;
      for (int f = 0; f < kFrequencies; ++f) {
        const cv::Vec2d a = p[static_cast<std::size_t>(f)], b = q[static_cast<std::size_t>(f)];
        const double re = a[0] * b[0] + a[1] * b[1], im = a[1] * b[0] - a[0] * b[1];
        const double mag = std::hypot(re, im);
        if (mag <= 0) continue;
        const std::size_t at = static_cast<std::size_t>((pair * kFrequencies + f) * 2);
        features[at] = re / mag;
        features[at + 1] = im / mag;
      }
    }
  double norm = 0;
  for (double f : features) norm += f * f;
  if (norm <= 0) return out;
  for (std::size_t i = 0; i < features.size(); ++i)
    out[i] = static_cast<float>(features[i] / std::sqrt(norm));
  return out;
}

}  // namespace toolmark::detail
