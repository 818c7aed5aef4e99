// Shift-invariant land embedding: random convolutional kernels with global
// pooling (after Dempster et al., ROCKET, 2020). Each of kKernels fixed
// kernels (zero-mean Gaussian weights, 9 taps, dilations 1–8, drawn once from
// a fixed seed: part of the feature version) is slid along the z-scored
// signature; its responses are pooled over all positions into a soft maximum
// and a soft minimum (log-sum-exp with β = kBeta), which do not depend on
// where the striae sit. Each pooled group is centred and the vector is scaled
// to unit length, so the dot product of two embeddings is their cosine.
#include <cmath>
#include <cstdint>
#include <vector>

#include "land_internal.h"

namespace toolmark {
namespace {

constexpr int kKernels = kLandEmbeddingDim / 2;
constexpr int kTaps = 9;
constexpr double kBeta = 2.0;
constexpr std::uint64_t kSeed = 0x746f6f6c6d61726bULL;  // "toolmark"

struct Kernel {
  double w[kTaps];
  int dilation;
};

std::uint64_t SplitMix(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<Kernel> MakeKernels() {
  std::uint64_t state = kSeed;
  const auto uniform = [&] { return (static_cast<double>(SplitMix(&state) >> 11) + 0.5) * 0x1p-53; };
  std::vector<Kernel> kernels(kKernels);
  for (int k = 0; k < kKernels; ++k) {
    Kernel& kernel = kernels[static_cast<std::size_t>(k)];
    double mean = 0, norm = 0;
    for (double& w : kernel.w) {
      w = std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());  // Box–Muller
      mean += w / kTaps;
    }
    for (double& w : kernel.w) w -= mean, norm += w * w;
    for (double& w : kernel.w) w /= std::sqrt(norm);
    kernel.dilation = 1 << (k % 4);
  }
  return kernels;
}

const std::vector<Kernel>& Kernels() {
  static const std::vector<Kernel> kernels = MakeKernels();
  return kernels;
}

}  // namespace

std::vector<float> LandEmbedding(const LandSignature& signature) {
  const std::vector<double>& v = signature.values;
  double n = 0, s = 0, ss = 0;
  for (double x : v) {
    if (std::isfinite(x)) n += 1, s += x, ss += x * x;
  }
  std::vector<float> out(kLandEmbeddingDim, 0.0f);
  if (n < 2) return out;
  const double mean = s / n, sd = std::sqrt(std::max(1e-30, ss / n - mean * mean));
  std::vector<double> z(v.size());
  std::vector<char> ok(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    ok[i] = std::isfinite(v[i]);
    z[i] = ok[i] ? (v[i] - mean) / sd : 0.0;
  }
  std::vector<double> pooled(kLandEmbeddingDim, 0.0);
  for (int k = 0; k < kKernels; ++k) {
    const Kernel& kernel = Kernels()[static_cast<std::size_t>(k)];
    const std::size_t span = static_cast<std::size_t>((kTaps - 1) * kernel.dilation);
    // Log-sum-exp pooling, accumulated relative to a running maximum.
    double max_hi = -1e300, sum_hi = 0, max_lo = -1e300, sum_lo = 0;
    std::size_t count = 0;
    for (std::size_t t = 0; t + span < z.size(); ++t) {
      double y = 0;
      bool complete = true;
      for (int j = 0; j < kTaps && complete; ++j) {
        const std::size_t i = t + static_cast<std::size_t>(j * kernel.dilation);
        complete = ok[i];
        y += kernel.w[j] * z[i];
      }
      if (!complete) continue;
      ++count;
      const auto add = [](double x, double* mx, double* sum) {
        if (x > *mx) {
          *sum = *sum * std::exp(*mx - x) + 1.0;
          *mx = x;
        } else {
          *sum += std::exp(x - *mx);
        }
      };
      add(kBeta * y, &max_hi, &sum_hi);
      add(-kBeta * y, &max_lo, &sum_lo);
    }
    if (count == 0) continue;
    const double log_n = std::log(static_cast<double>(count));
    pooled[static_cast<std::size_t>(k)] = (max_hi + std::log(sum_hi) - log_n) / kBeta;
    pooled[static_cast<std::size_t>(kKernels + k)] = (max_lo + std::log(sum_lo) - log_n) / kBeta;
  }
  double norm = 0;
  for (int g = 0; g < 2; ++g) {
    double m = 0;
    for (int k = 0; k < kKernels; ++k) m += pooled[static_cast<std::size_t>(g * kKernels + k)] / kKernels;
    for (int k = 0; k < kKernels; ++k) {
      double& p = pooled[static_cast<std::size_t>(g * kKernels + k)];
      p -= m;
      norm += p * p;
    }
  }
  if (norm <= 0) return out;
  for (std::size_t i = 0; i < pooled.size(); ++i) out[i] = static_cast<float>(pooled[i] / std::sqrt(norm));
  return out;
}

}  // namespace toolmark
