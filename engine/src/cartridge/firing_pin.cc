// Firing-pin impressions. See docs/firing_pin.md.
//
// Extraction (ExtractFiringPin):
//  1. The hole circle of the breech-face preprocessing (output working grid:
//     cell c's centre lies at input point (c + ½)k − ½, k = input points per
//     cell) is converted to the input scan's grid µm. The impression is present
//     when at least min_valid_fraction of the input points inside it are
//     finite.
//  2. A crop around it is leveled with the breech face's plane (slopes only)
//     and, when the scan is finer than spacing_um, area-averaged to it (a cell
//     is valid when half its area is).
//  3. Centre: the point within ± centre_search_um that minimises the mean
//     squared residual of the points inside the radius about their radial
//     mean profile (bins of one working spacing): a pattern search from the
//     hole's centre, steps halving from centre_search_um / 2 to a quarter of
//     the working spacing (kRefineMinStep).
//  4. Form: the radial median profile about that centre (bins of one working
//     spacing, gaps bridged linearly, smoothed by [¼ ½ ¼]) is subtracted,
//     interpolated linearly at each point's radius; points beyond the radius
//     become missing.
//  5. λc high-pass: v − G*(v·m)/G*m over the valid points (ISO 16610-61
//     Gaussian, σ = 0.1874 λc).
//  6. Polar grid: rings at whole multiples of spacing_um from inner_fraction
//     to outer_fraction of the radius, angles 0…360° in angle_step_deg;
//     bilinear interpolation over the valid neighbours, valid when they carry
//     at least half the weight (kMinInterpolationWeight).
//
// Comparison (CompareFiringPins, in firing_pin_compare.cc), per direction
// (reference R, other O), over the rings both have: masked normalised circular
// cross-correlation along the angle, R(φ) against O(φ − θ), for every θ on the
// angle grid at once (six sums per θ: values, squares, cross products and
// masks over the overlap only, as circular correlations: single-precision DFTs
// per ring, products summed over the rings in double, one inverse DFT each;
// each sample is weighted by its ring's radius, i.e. by its area). O's centre
// is then also tried on a 3 × 3 grid of ± compare_shift_um (O resampled about
// it), by direct NCCs within ± kShiftSteps of the full-circle peak; the best
// sample gives the whole impression's ccf, a parabola through it the rotation.
// Each of R's sectors then finds its own best θ over the full circle in O at
// the winning shift. The backward direction (B's sectors in A) moves A's
// centre by the forward's shift mapped into A. A θ needs an overlap of at
// least kMinOverlap of the reference's (or sector's) valid weight.
#include "toolmark/engine/firing_pin.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "cartridge/firing_pin_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

using detail::kNaN;
using detail::firing_pin::CheckOptions;
using detail::firing_pin::Fill;
using detail::firing_pin::Format;
using detail::firing_pin::Grid;
using detail::firing_pin::kMinRings;
using detail::firing_pin::PolarGrid;

constexpr double kMinInterpolationWeight = 0.5;  ///< bilinear: share of weight on valid neighbours
constexpr double kRefineMinStep = 0.25;          ///< last pattern-search step, in working spacings
constexpr double kAreaValid = 0.5;               ///< area-averaged cell: share of valid area
constexpr double kMaxPolarSamples = 4e6;         ///< largest polar grid (rings × angles), 32 MB

/// √(x² + y²) (std::hypot guards against overflow, at several times the cost).
double Norm(double x, double y) { return std::sqrt(x * x + y * y); }

// ---------------------------------------------------------------- extraction

struct Circle {
  double x = 0, y = 0, r = 0;  ///< input grid µm
};

/// The breech face's hole in the input scan's grid µm.
Circle HoleInScan(const Surface& scan, const BreechFace& face) {
  const double sx = scan.spacing_x_um, sy = scan.spacing_y_um, ws = face.surface.spacing_x_um;
  Check(std::isfinite(ws) && ws > 0, "firing pin: the breech face has no working grid");
  const int cols = static_cast<int>(std::floor(scan.values.cols * sx / ws + 1e-9));
  const int rows = static_cast<int>(std::floor(scan.values.rows * sy / ws + 1e-9));
  Check(face.surface.values.cols == cols && face.surface.values.rows == rows,
        "firing pin: the breech face was not preprocessed from this scan's grid");
  // Input points per working cell, as PreprocessBreechFace's resampling has them.
  const double kx = static_cast<double>(std::min(
                        scan.values.cols, std::max(1, static_cast<int>(std::lround(cols * ws / sx))))) /
                    cols;
  const double ky = static_cast<double>(std::min(
                        scan.values.rows, std::max(1, static_cast<int>(std::lround(rows * ws / sy))))) /
                    rows;
  Circle c;
  c.x = ((face.firing_pin_centre_x_um / ws + 0.5) * kx - 0.5) * sx;
  c.y = ((face.firing_pin_centre_y_um / ws + 0.5) * ky - 0.5) * sy;
  c.r = face.firing_pin_radius_um / ws * 0.5 * (kx * sx + ky * sy);
  return c;
}

/// The scan's points within half of the centre along x and y, leveled with
/// the breech face's plane (non-finite → NaN), area-averaged to at least
/// `spacing` µm. Empty when the window misses the scan.
Grid Crop(const Surface& scan, const BreechFace& face, const Circle& hole, double half, double spacing) {
  const double sx = scan.spacing_x_um, sy = scan.spacing_y_um;
  const int c0 = std::max(0, static_cast<int>(std::floor((hole.x - half) / sx)));
  const int r0 = std::max(0, static_cast<int>(std::floor((hole.y - half) / sy)));
  const int c1 = std::min(scan.values.cols - 1, static_cast<int>(std::ceil((hole.x + half) / sx)));
  const int r1 = std::min(scan.values.rows - 1, static_cast<int>(std::ceil((hole.y + half) / sy)));
  Grid g;
  if (c1 < c0 || r1 < r0) return g;
  cv::Mat v = scan.values(cv::Rect(c0, r0, c1 - c0 + 1, r1 - r0 + 1)).clone();
  for (int r = 0; r < v.rows; ++r) {
    double* row = v.ptr<double>(r);
    for (int c = 0; c < v.cols; ++c)
      row[c] = std::isfinite(row[c])
                   ? row[c] - face.plane_slope_x * (c0 + c) * sx - face.plane_slope_y * (r0 + r) * sy
                   : kNaN;
  }
  g.sx = sx, g.sy = sy, g.x0 = c0 * sx, g.y0 = r0 * sy;
  const double fx = std::max(1.0, spacing / sx), fy = std::max(1.0, spacing / sy);
  if (fx <= 1 + 1e-9 && fy <= 1 + 1e-9) {
    g.v = v;
    return g;
  }
  // Area averaging of v·m and m over whole cells of fx × fy points.
  const int cols = std::max(1, static_cast<int>(std::floor(v.cols / fx + 1e-9)));
  const int rows = std::max(1, static_cast<int>(std::floor(v.rows / fy + 1e-9)));
  const int used_cols = std::min(v.cols, static_cast<int>(std::lround(cols * fx)));
  const int used_rows = std::min(v.rows, static_cast<int>(std::lround(rows * fy)));
  cv::Mat vm(v.size(), CV_64F), m(v.size(), CV_64F);
  for (int r = 0; r < v.rows; ++r)
    for (int c = 0; c < v.cols; ++c) {
      const double z = v.at<double>(r, c);
      vm.at<double>(r, c) = std::isfinite(z) ? z : 0.0;
      m.at<double>(r, c) = std::isfinite(z) ? 1.0 : 0.0;
    }
  const cv::Rect part(0, 0, used_cols, used_rows);
  cv::Mat rv, rm;
  cv::resize(vm(part), rv, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  cv::resize(m(part), rm, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  g.v = cv::Mat(rows, cols, CV_64F, cv::Scalar(kNaN));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if (rm.at<double>(r, c) >= kAreaValid - 1e-9)
        g.v.at<double>(r, c) = rv.at<double>(r, c) / rm.at<double>(r, c);
  const double kx = static_cast<double>(used_cols) / cols, ky = static_cast<double>(used_rows) / rows;
  g.x0 += 0.5 * (kx - 1) * sx, g.y0 += 0.5 * (ky - 1) * sy;
  g.sx = kx * sx, g.sy = ky * sy;
  return g;
}

/// Share of the scan's points within the circle that are finite.
double FiniteFractionInside(const Surface& scan, const Circle& hole) {
  const double sx = scan.spacing_x_um, sy = scan.spacing_y_um;
  long inside = 0, finite = 0;
  const int r0 = std::max(0, static_cast<int>(std::floor((hole.y - hole.r) / sy)));
  const int r1 = std::min(scan.values.rows - 1, static_cast<int>(std::ceil((hole.y + hole.r) / sy)));
  const int c0 = std::max(0, static_cast<int>(std::floor((hole.x - hole.r) / sx)));
  const int c1 = std::min(scan.values.cols - 1, static_cast<int>(std::ceil((hole.x + hole.r) / sx)));
  for (int r = r0; r <= r1; ++r)
    for (int c = c0; c <= c1; ++c) {
      if (Norm(c * sx - hole.x, r * sy - hole.y) > hole.r) continue;
      ++inside;
      finite += std::isfinite(scan.values.at<double>(r, c));
    }
  return inside ? static_cast<double>(finite) / static_cast<double>(inside) : 0.0;
}

struct Point {
  double x, y, v;  ///< grid µm (relative to the grid's point (0, 0)), value
};

/// The grid's finite points within `radius` of (cx, cy) (grid µm).
std::vector<Point> PointsWithin(const Grid& g, double cx, double cy, double radius) {
  std::vector<Point> p;
  for (int r = 0; r < g.v.rows; ++r)
    for (int c = 0; c < g.v.cols; ++c) {
      const double z = g.v.at<double>(r, c), x = c * g.sx, y = r * g.sy;
      if (std::isfinite(z) && Norm(x - cx, y - cy) <= radius) p.push_back({x, y, z});
    }
  return p;
}

/// Mean squared residual of the points within `radius` of (cx, cy) about
/// their radial mean profile (bins of `bin` µm); +inf with too few points.
double FormResidual(const std::vector<Point>& p, double cx, double cy, double radius, double bin,
                    std::vector<std::array<double, 3>>* sums) {
  sums->assign(static_cast<std::size_t>(radius / bin) + 2, {0.0, 0.0, 0.0});
  double n = 0;
  for (const Point& q : p) {
    const double d = Norm(q.x - cx, q.y - cy);
    if (d > radius) continue;
    auto& s = (*sums)[static_cast<std::size_t>(d / bin)];
    s[0] += 1, s[1] += q.v, s[2] += q.v * q.v;
    n += 1;
  }
  if (n < 10) return std::numeric_limits<double>::infinity();
  double ss = 0;
  for (const auto& s : *sums)
    if (s[0] > 0) ss += s[2] - s[1] * s[1] / s[0];
  return ss / n;
}

/// Pattern search for the centre of the axisymmetric form within ± search
/// (grid µm) of (*cx, *cy).
void RefineCentre(const Grid& g, double radius, double search, double* cx, double* cy) {
  const double bin = 0.5 * (g.sx + g.sy), x0 = *cx, y0 = *cy;
  const std::vector<Point> p = PointsWithin(g, x0, y0, radius + std::hypot(search, search));
  std::vector<std::array<double, 3>> sums;
  double best = FormResidual(p, x0, y0, radius, bin, &sums);
  for (double step = 0.5 * search; step >= kRefineMinStep * bin - 1e-12; step *= 0.5) {
    for (bool moved = true; moved;) {
      moved = false;
      double bx = *cx, by = *cy;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const double x = *cx + dx * step, y = *cy + dy * step;
          if ((dx == 0 && dy == 0) || std::abs(x - x0) > search + 1e-9 || std::abs(y - y0) > search + 1e-9)
            continue;
          const double e = FormResidual(p, x, y, radius, bin, &sums);
          if (e < best) best = e, bx = x, by = y, moved = true;
        }
      *cx = bx, *cy = by;
    }
  }
}

/// Radial median profile about (cx, cy) over bins of `bin` µm up to
/// `radius`; empty bins bridged linearly, then smoothed by [¼ ½ ¼].
std::vector<double> RadialProfile(const std::vector<Point>& p, double cx, double cy, double radius,
                                  double bin) {
  const std::size_t n = static_cast<std::size_t>(radius / bin) + 2;
  std::vector<std::vector<double>> bins(n);
  for (const Point& q : p) {
    const double d = Norm(q.x - cx, q.y - cy);
    if (d <= radius) bins[static_cast<std::size_t>(d / bin)].push_back(q.v);
  }
  std::vector<double> profile(n, kNaN);
  for (std::size_t i = 0; i < n; ++i)
    if (!bins[i].empty()) profile[i] = detail::Median(&bins[i]);
  // Bridge gaps (and extend the ends) linearly / by the nearest value.
  std::vector<std::size_t> known;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(profile[i])) known.push_back(i);
  if (known.empty()) return {};
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(profile[i])) continue;
    const auto hi = std::lower_bound(known.begin(), known.end(), i);
    if (hi == known.begin())
      profile[i] = profile[*hi];
    else if (hi == known.end())
      profile[i] = profile[known.back()];
    else {
      const std::size_t a = *(hi - 1), b = *hi;
      const double t = static_cast<double>(i - a) / static_cast<double>(b - a);
      profile[i] = (1 - t) * profile[a] + t * profile[b];
    }
  }
  std::vector<double> smooth(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double left = profile[i > 0 ? i - 1 : i], right = profile[i + 1 < n ? i + 1 : i];
    smooth[i] = 0.25 * left + 0.5 * profile[i] + 0.25 * right;
  }
  return smooth;
}

/// Profile value at radius d (bin centres at (i + ½)·bin).
double ProfileAt(const std::vector<double>& profile, double d, double bin) {
  const double t = std::clamp(d / bin - 0.5, 0.0, static_cast<double>(profile.size() - 1));
  const auto i = std::min(static_cast<std::size_t>(t), profile.size() - 1);
  const double f = t - static_cast<double>(i);
  return i + 1 < profile.size() ? (1 - f) * profile[i] + f * profile[i + 1] : profile[i];
}

/// v − G*(v·m)/G*m over the finite points (σ in µm); NaN stays NaN.
void HighPass(Grid* g, double sigma_um) {
  if (!std::isfinite(sigma_um)) return;
  cv::Mat vm(g->v.size(), CV_64F), m(g->v.size(), CV_64F);
  for (int r = 0; r < g->v.rows; ++r)
    for (int c = 0; c < g->v.cols; ++c) {
      const double z = g->v.at<double>(r, c);
      vm.at<double>(r, c) = std::isfinite(z) ? z : 0.0;
      m.at<double>(r, c) = std::isfinite(z) ? 1.0 : 0.0;
    }
  const std::vector<double> kx = detail::GaussianKernel1d(sigma_um / g->sx, g->v.cols),
                            ky = detail::GaussianKernel1d(sigma_um / g->sy, g->v.rows);
  cv::Mat num, den;
  cv::sepFilter2D(vm, num, CV_64F, cv::Mat(kx), cv::Mat(ky), cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  cv::sepFilter2D(m, den, CV_64F, cv::Mat(kx), cv::Mat(ky), cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  for (int r = 0; r < g->v.rows; ++r)
    for (int c = 0; c < g->v.cols; ++c) {
      double& z = g->v.at<double>(r, c);
      if (std::isfinite(z)) z -= num.at<double>(r, c) / den.at<double>(r, c);
    }
}

}  // namespace

// ------------------------------------- shared with firing_pin_compare.cc

namespace detail::firing_pin {

std::string Format(const char* format, double a, double b, double c) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format, a, b, c);
  return buffer;
}

void CheckOptions(const FiringPinOptions& o) {
  const double turns = 360.0 / o.angle_step_deg;
  Check(std::isfinite(o.spacing_um) && o.spacing_um > 0 && o.lambda_c_um > 0 && !std::isnan(o.lambda_c_um) &&
            o.inner_fraction >= 0 && o.inner_fraction < o.outer_fraction && o.outer_fraction <= 1 &&
            std::isfinite(o.angle_step_deg) && o.angle_step_deg > 0 &&
            std::abs(turns - std::round(turns)) < 1e-6 && std::round(turns) >= 8 &&
            std::round(turns) <= 7200 && o.sectors >= 1 && o.sectors <= std::round(turns) &&
            o.min_sector_valid >= 0 && o.min_sector_valid <= 1 && o.ccf_threshold >= -1 &&
            o.ccf_threshold <= 1 && o.rotation_tolerance_deg >= 0 && o.rotation_tolerance_deg <= 180 &&
            std::isfinite(o.centre_search_um) && o.centre_search_um >= 0 &&
            std::isfinite(o.compare_shift_um) && o.compare_shift_um >= 0 && o.min_valid_fraction >= 0 &&
            o.min_valid_fraction <= 1,
        "firing pin: invalid options");
}

Filled Fill(const Grid& g) {
  Filled f;
  f.sx = g.sx, f.sy = g.sy;
  f.vz = cv::Mat::zeros(g.v.rows + 2, g.v.cols + 2, CV_64F);
  f.m = f.vz.clone();
  for (int r = 0; r < g.v.rows; ++r) {
    const double* z = g.v.ptr<double>(r);
    auto *v = f.vz.ptr<double>(r + 1) + 1, *m = f.m.ptr<double>(r + 1) + 1;
    for (int c = 0; c < g.v.cols; ++c)
      if (std::isfinite(z[c])) v[c] = z[c], m[c] = 1;
  }
  return f;
}

cv::Mat PolarGrid(const Filled& g, double cx, double cy, int first, int rings, double ring_step, int angles) {
  cv::Mat polar(rings, angles, CV_64F);
  std::vector<double> cs(static_cast<std::size_t>(angles)), sn(static_cast<std::size_t>(angles));
  for (int j = 0; j < angles; ++j) {
    const double a = 2 * M_PI * j / angles;
    cs[static_cast<std::size_t>(j)] = std::cos(a), sn[static_cast<std::size_t>(j)] = std::sin(a);
  }
  const int cols = g.vz.cols, rows = g.vz.rows;
  for (int i = 0; i < rings; ++i) {
    const double rho = (first + i) * ring_step;
    auto* out = polar.ptr<double>(i);
    for (int j = 0; j < angles; ++j) {
      // Padded grid coordinates: point (c, r) of the grid is (c + 1, r + 1).
      const double u = (cx + rho * cs[static_cast<std::size_t>(j)]) / g.sx + 1;
      const double w = (cy + rho * sn[static_cast<std::size_t>(j)]) / g.sy + 1;
      if (!(u >= 0 && w >= 0 && u < cols - 1 && w < rows - 1)) {
        out[j] = kNaN;
        continue;
      }
      const int c = static_cast<int>(u), r = static_cast<int>(w);
      const double fu = u - c, fw = w - r;
      const double k00 = (1 - fu) * (1 - fw), k01 = fu * (1 - fw), k10 = (1 - fu) * fw, k11 = fu * fw;
      const double *v0 = g.vz.ptr<double>(r) + c, *v1 = g.vz.ptr<double>(r + 1) + c;
      const double *m0 = g.m.ptr<double>(r) + c, *m1 = g.m.ptr<double>(r + 1) + c;
      const double weight = k00 * m0[0] + k01 * m0[1] + k10 * m1[0] + k11 * m1[1];
      const double sum = k00 * v0[0] + k01 * v0[1] + k10 * v1[0] + k11 * v1[1];
      out[j] = weight >= kMinInterpolationWeight - 1e-12 ? sum / weight : kNaN;
    }
  }
  return polar;
}

}  // namespace detail::firing_pin

FiringPinImpression ExtractFiringPin(const Surface& scan, const BreechFace& face, const FiringPinOptions& o) {
  CheckOptions(o);
  Check(!scan.values.empty() && scan.values.type() == CV_64FC1, "firing pin: scan has no values");
  Check(std::isfinite(scan.spacing_x_um) && std::isfinite(scan.spacing_y_um) && scan.spacing_x_um > 0 &&
            scan.spacing_y_um > 0,
        "firing pin: scan spacing must be positive");
  FiringPinImpression out;
  out.ring_step_um = o.spacing_um;
  out.angle_step_deg = o.angle_step_deg;
  if (!face.firing_pin_found) {
    out.note = "no firing-pin hole found by the breech-face preprocessing";
    return out;
  }
  Check(std::isfinite(face.firing_pin_centre_x_um) && std::isfinite(face.firing_pin_centre_y_um) &&
            std::isfinite(face.firing_pin_radius_um) && face.firing_pin_radius_um > 0,
        "firing pin: the breech face's firing-pin circle is invalid");
  const Circle hole = HoleInScan(scan, face);
  Check(hole.r <= std::hypot(scan.values.cols * scan.spacing_x_um, scan.values.rows * scan.spacing_y_um),
        "firing pin: the breech face's firing-pin circle is larger than the scan");
  out.radius_um = hole.r;
  out.centre_x_um = hole.x, out.centre_y_um = hole.y;
  const double finite = FiniteFractionInside(scan, hole);
  if (finite < o.min_valid_fraction) {
    out.note = Format("the firing-pin hole has data at %.0f%% of its points (%.0f%% needed): no impression",
                      100 * finite, 100 * o.min_valid_fraction);
    return out;
  }
  Grid g =
      Crop(scan, face, hole, hole.r + o.centre_search_um + 2 * std::max(scan.spacing_x_um, scan.spacing_y_um),
           o.spacing_um);
  const int angles = static_cast<int>(std::lround(360.0 / o.angle_step_deg));
  const int first = static_cast<int>(std::ceil(o.inner_fraction * hole.r / o.spacing_um - 1e-9));
  const int last = static_cast<int>(std::floor(o.outer_fraction * hole.r / o.spacing_um + 1e-9));
  Check(static_cast<double>(last - first + 1) * angles <= kMaxPolarSamples,
        "firing pin: the polar grid would be too large (spacing_um or angle_step_deg too fine)");
  if (g.v.empty() || last - first + 1 < kMinRings) {
    out.note = Format("the firing-pin hole (radius %.0f um) is too small for %d rings of %g um", hole.r,
                      kMinRings, o.spacing_um);
    return out;
  }
  // Centre (grid µm), form, high-pass.
  double cx = hole.x - g.x0, cy = hole.y - g.y0;
  if (o.centre_search_um > 0) RefineCentre(g, hole.r, o.centre_search_um, &cx, &cy);
  const double bin = 0.5 * (g.sx + g.sy);
  const std::vector<Point> inside = PointsWithin(g, cx, cy, hole.r);
  const std::vector<double> profile = RadialProfile(inside, cx, cy, hole.r, bin);
  if (profile.empty()) {
    out.note = "no data inside the firing-pin hole after the centre refinement";
    return out;
  }
  for (int r = 0; r < g.v.rows; ++r)
    for (int c = 0; c < g.v.cols; ++c) {
      double& z = g.v.at<double>(r, c);
      const double d = Norm(c * g.sx - cx, r * g.sy - cy);
      z = std::isfinite(z) && d <= hole.r ? z - ProfileAt(profile, d, bin) : kNaN;
    }
  HighPass(&g, detail::GaussianSigmaForCutoff(o.lambda_c_um));

  out.present = true;
  out.centre_x_um = g.x0 + cx, out.centre_y_um = g.y0 + cy;
  out.centre_shift_um = std::hypot(out.centre_x_um - hole.x, out.centre_y_um - hole.y);
  const auto [lo, hi] = std::minmax_element(profile.begin(), profile.end() - 1);
  out.depth_um = *hi - *lo;
  out.first_ring = first;
  out.polar = PolarGrid(Fill(g), cx, cy, first, last - first + 1, o.spacing_um, angles);
  out.processed.values = g.v;
  out.processed.spacing_x_um = g.sx, out.processed.spacing_y_um = g.sy;
  out.processed.origin_x_um = scan.origin_x_um + g.x0, out.processed.origin_y_um = scan.origin_y_um + g.y0;
  out.processed.kind = scan.kind;
  out.processed.meta = scan.meta;
  out.processed_x0_um = g.x0, out.processed_y0_um = g.y0;
  out.note = Format("centre refined by %.1f um; %.0f%% of the hole's points have data", out.centre_shift_um,
                    100 * finite);
  return out;
}

}  // namespace toolmark
