// Rotation-invariant breech-face embedding (see docs/cmc.md), from the polar
// signature (cmc_polar.cc): rings at fixed radii (every 50 µm from the
// firing-pin hole's centre, or the primer centre), standardised, Fourier
// transformed along the angle. A rotation about the centre moves every ring's
// phase at angular frequency k by the same k·θ, so the cross-ring product
// F_r(k)·conj(F_r+g(k)) does not change, while it keeps how the marks of the
// two rings sit relative to each other. Each product is weighted by the
// square root of its magnitude (c / √|c|), and the products of the ring pairs
// of a radial band of kBandRings rings are summed coherently (an error in the
// centre shifts neighbouring rings alike). Features: gaps g = 1…kGaps, bands
// of the rings within kMaxRings (3 mm), frequencies k = 1…kFrequencies, real
// and imaginary parts; scaled to unit length (dot product = cosine).
//
// Chosen on the 40 Fadul scans (recall@10 of known matches: 0.675 for the
// previous embedding — rings between each scan's own hole and primer edge,
// so at radii that differed between scans — and 0.96 for this one; bands of
// 8 rings, 2–4 gaps and 32–96 frequencies gave 0.91–0.99), so tuned on that
// set; synthetic sets: 1.0 for both. docs/cmc.md.
#include <cmath>
#include <complex>
#include <vector>

#include "cartridge/cmc_internal.h"
#include "toolmark/engine/half_float.h"

namespace toolmark::detail {
namespace {

constexpr int kMaxRings = 60;  ///< rings within 3 mm of the centre (50 µm apart)
constexpr int kBandRings = 16;
constexpr int kGaps = 2;
constexpr int kFrequencies = 32;
constexpr int kBands = (kMaxRings + kBandRings - 1) / kBandRings;

}  // namespace

std::vector<float> BreechFaceEmbedding(const PolarSignature& polar) {
  std::vector<float> out(static_cast<std::size_t>(kGaps * kBands * kFrequencies * 2), 0.0f);
  const int rings = std::min(kMaxRings, polar.spectra.rows);
  if (rings < 2 || polar.spectra.cols <= kFrequencies) return out;
  const auto usable = [&](int r) { return r < rings && polar.weight[static_cast<std::size_t>(r)] > 0; };
  std::vector<double> features(out.size(), 0.0);
  std::size_t at = 0;
  for (int gap = 1; gap <= kGaps; ++gap)
    for (int band = 0; band < kBands; ++band)
      for (int k = 1; k <= kFrequencies; ++k, at += 2) {
        std::complex<double> sum = 0;
        for (int r = band * kBandRings; r < (band + 1) * kBandRings; ++r) {
          if (!usable(r) || !usable(r + gap)) continue;
          const cv::Vec2f a = polar.spectra.at<cv::Vec2f>(r, k), b = polar.spectra.at<cv::Vec2f>(r + gap, k);
          const std::complex<double> c =
              std::complex<double>(a[0], a[1]) * std::conj(std::complex<double>(b[0], b[1]));
          const double m = std::abs(c);
          if (m > 0) sum += c / std::sqrt(m);
        }
        features[at] = sum.real();
        features[at + 1] = sum.imag();
      }
  double norm = 0;
  for (double f : features) norm += f * f;
  if (!(norm > 0)) return out;
  for (std::size_t i = 0; i < features.size(); ++i)
    out[i] = static_cast<float>(features[i] / std::sqrt(norm));
  RoundToHalf(&out);  // stored as halves (half_float.h)
  return out;
}

}  // namespace toolmark::detail
