// Small measures shared by the bench's parts: milliseconds of a duration and
// a percentile of a sample.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace toolmark::bench {

using Clock = std::chrono::steady_clock;

inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// The q-quantile (0..1) of v, linearly interpolated; 0 for an empty sample.
inline double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const auto hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (at - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace toolmark::bench
