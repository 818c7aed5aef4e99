// Private: what the firing-pin extraction (firing_pin.cc) and comparison
// (firing_pin_compare.cc) share. The algorithm is described in firing_pin.cc.
#pragma once

#include <opencv2/core.hpp>
#include <string>

#include "toolmark/engine/firing_pin.h"

namespace toolmark::detail::firing_pin {

inline constexpr int kMinRings = 3;  ///< least rings of a polar grid (and of an overlap)

/// snprintf of up to three numbers into a string (at most 255 characters).
std::string Format(const char* format, double a, double b = 0, double c = 0);

/// Throws unless the options are valid.
void CheckOptions(const FiringPinOptions& o);

/// A cartesian grid: point (c, r) lies at input grid µm (x0 + c·sx, y0 + r·sy).
struct Grid {
  cv::Mat v;  ///< CV_64F, NaN = missing
  double sx = 0, sy = 0, x0 = 0, y0 = 0;
};

/// A grid split for branch-free interpolation: values with 0 where missing,
/// and the 0/1 mask, padded by one point of zeros on every side.
struct Filled {
  cv::Mat vz, m;  ///< CV_64F, (rows + 2) × (cols + 2)
  double sx = 0, sy = 0;
};

/// The grid as Filled.
Filled Fill(const Grid& g);

/// Rings [first, first + rings) × angles about (cx, cy) grid µm: bilinear
/// interpolation over the valid neighbours, NaN where they carry under
/// kMinInterpolationWeight (firing_pin.cc) of the weight or the point is off
/// the grid.
cv::Mat PolarGrid(const Filled& g, double cx, double cy, int first, int rings, double ring_step, int angles);

}  // namespace toolmark::detail::firing_pin
