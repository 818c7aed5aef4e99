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
// Comparison (CompareFiringPins), per direction (reference R, other O), over
// the rings both have: masked normalised circular cross-correlation along the
// angle, R(φ) against O(φ − θ), for every θ on the angle grid at once (six
// sums per θ: values, squares, cross products and masks over the overlap
// only, as circular correlations: single-precision DFTs per ring, products
// summed over the rings in double, one inverse DFT each; each sample is
// weighted by its ring's radius, i.e. by its area). O's centre is then also
// tried on a 3 × 3 grid of ± compare_shift_um (O resampled about it), by
// direct NCCs within ± kShiftSteps of the full-circle peak; the best sample
// gives the whole impression's ccf, a parabola through it the rotation. Each
// of R's sectors then finds its own best θ over the full circle in O at the
// winning shift. The backward direction (B's sectors in A) moves A's centre
// by the forward's shift mapped into A. A θ needs an overlap of at least
// kMinOverlap of the reference's (or sector's) valid weight.
#include "toolmark/engine/firing_pin.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "land_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

using detail::kNaN;

constexpr int kMinRings = 3;                     ///< least rings of a polar grid (and of an overlap)
constexpr double kMinInterpolationWeight = 0.5;  ///< bilinear: share of weight on valid neighbours
constexpr double kRefineMinStep = 0.25;          ///< last pattern-search step, in working spacings
constexpr double kMinOverlap = 0.5;              ///< of the reference's valid weight, for a θ to count
constexpr double kAreaValid = 0.5;               ///< area-averaged cell: share of valid area
constexpr int kShiftSteps = 2;                   ///< centre search: angle steps tried either side of the peak
constexpr double kMaxPolarSamples = 4e6;         ///< largest polar grid (rings × angles), 32 MB

std::string Format(const char* format, double a, double b = 0, double c = 0) {
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

/// √(x² + y²) (std::hypot guards against overflow, at several times the cost).
double Norm(double x, double y) { return std::sqrt(x * x + y * y); }

/// Wraps degrees into (−180, 180].
double Wrap(double deg) {
  const double w = std::remainder(deg, 360.0);
  return w <= -180.0 ? w + 360.0 : w;
}

// ---------------------------------------------------------------- extraction

/// A cartesian grid: point (c, r) lies at input grid µm (x0 + c·sx, y0 + r·sy).
struct Grid {
  cv::Mat v;  ///< CV_64F, NaN = missing
  double sx = 0, sy = 0, x0 = 0, y0 = 0;
};

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

/// A grid split for branch-free interpolation: values with 0 where missing,
/// and the 0/1 mask, padded by one point of zeros on every side.
struct Filled {
  cv::Mat vz, m;  ///< CV_64F, (rows + 2) × (cols + 2)
  double sx = 0, sy = 0;
};

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

/// Rings [first, first + rings) × angles about (cx, cy) grid µm: bilinear
/// interpolation over the valid neighbours, NaN where they carry under
/// kMinInterpolationWeight of the weight or the point is off the grid.
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

Grid ProcessedGrid(const FiringPinImpression& f) {
  return {f.processed.values, f.processed.spacing_x_um, f.processed.spacing_y_um, f.processed_x0_um,
          f.processed_y0_um};
}

// ---------------------------------------------------------------- comparison

/// Row spectra (CCS, one single-precision DFT per ring) of √w·v·m, √w·m and
/// √w·v²·m of the polar samples in angle columns [from, to): w is the ring's
/// radius, so each product of two sides carries the sample's area once.
struct Spectra {
  cv::Mat vm, m, vvm;
  double weight = 0;  ///< Σ w over the valid samples
};

Spectra MakeSpectra(const cv::Mat& polar, const std::vector<double>& sqrt_w, int from, int to) {
  Spectra s;
  cv::Mat vm = cv::Mat::zeros(polar.size(), CV_32F), m = vm.clone(), vvm = vm.clone();
  for (int i = 0; i < polar.rows; ++i) {
    const double* p = polar.ptr<double>(i);
    const double k = sqrt_w[static_cast<std::size_t>(i)];
    auto *a = vm.ptr<float>(i), *b = m.ptr<float>(i), *c = vvm.ptr<float>(i);
    for (int j = from; j < to; ++j) {
      if (!std::isfinite(p[j])) continue;
      a[j] = static_cast<float>(k * p[j]), b[j] = static_cast<float>(k),
      c[j] = static_cast<float>(k * p[j] * p[j]);
      s.weight += k * k;
    }
  }
  cv::dft(vm, s.vm, cv::DFT_ROWS);
  cv::dft(m, s.m, cv::DFT_ROWS);
  cv::dft(vvm, s.vvm, cv::DFT_ROWS);
  return s;
}

/// Normalised cross-correlation from the overlap's sums (weight n, Σa, Σb,
/// Σa², Σb², Σab); −2 when n < min_weight or either side is flat.
double Ncc(double n, double a, double b, double aa, double bb, double ab, double min_weight) {
  if (n < min_weight || n <= 0) return -2.0;
  const double va = aa - a * a / n, vb = bb - b * b / n;
  if (va <= 1e-9 * std::abs(aa) || vb <= 1e-9 * std::abs(bb)) return -2.0;
  return std::clamp((ab - a * b / n) / std::sqrt(va * vb), -1.0, 1.0);
}

/// Masked NCC of the reference R(φ) with the other O(φ − s) for every step s
/// over their common valid samples (−2: see Ncc). The six sums are circular
/// correlations: per ring, the CCS spectra's products R·conj(O) (pairs
/// (Re, Im) after the real DC term, and a real last term for an even
/// length), summed over the rings in double, then one inverse DFT each.
std::vector<double> CircularNcc(const Spectra& ref, const Spectra& other, double min_weight) {
  const int n = ref.m.cols;
  cv::Mat sums = cv::Mat::zeros(6, n, CV_64F);
  std::array<double*, 6> t{};
  for (int k = 0; k < 6; ++k) t[static_cast<std::size_t>(k)] = sums.ptr<double>(k);
  for (int i = 0; i < ref.m.rows; ++i) {
    const float *am = ref.m.ptr<float>(i), *av = ref.vm.ptr<float>(i), *aq = ref.vvm.ptr<float>(i);
    const float *bm = other.m.ptr<float>(i), *bv = other.vm.ptr<float>(i), *bq = other.vvm.ptr<float>(i);
    // Pairs: {R factor, O factor} of n, Σa, Σa², Σb, Σb², Σab.
    const std::array<std::pair<const float*, const float*>, 6> f{
        {{am, bm}, {av, bm}, {aq, bm}, {am, bv}, {am, bq}, {av, bv}}};
    for (std::size_t k = 0; k < 6; ++k) {
      const float *a = f[k].first, *b = f[k].second;
      double* out = t[k];
      out[0] += static_cast<double>(a[0]) * b[0];
      if (n % 2 == 0) out[n - 1] += static_cast<double>(a[n - 1]) * b[n - 1];
      for (int j = 1; j + 1 < n; j += 2) {
        const double ar = a[j], ai = a[j + 1], br = b[j], bi = b[j + 1];
        out[j] += ar * br + ai * bi;
        out[j + 1] += ai * br - ar * bi;
      }
    }
  }
  cv::Mat c;
  cv::dft(sums, c, cv::DFT_ROWS | cv::DFT_INVERSE | cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
  std::vector<double> ncc(static_cast<std::size_t>(n));
  for (int s = 0; s < n; ++s)
    ncc[static_cast<std::size_t>(s)] =
        Ncc(c.at<double>(0, s), c.at<double>(1, s), c.at<double>(3, s), c.at<double>(2, s),
            c.at<double>(4, s), c.at<double>(5, s), min_weight);
  return ncc;
}

/// A polar grid split into v·m (0 where missing) and the 0/1 mask m.
struct Masked {
  cv::Mat vm, m;
};

Masked Split(const cv::Mat& polar) {
  Masked s{cv::Mat::zeros(polar.size(), CV_64F), cv::Mat::zeros(polar.size(), CV_64F)};
  for (int i = 0; i < polar.rows; ++i)
    for (int j = 0; j < polar.cols; ++j)
      if (const double v = polar.at<double>(i, j); std::isfinite(v))
        s.vm.at<double>(i, j) = v, s.m.at<double>(i, j) = 1;
  return s;
}

/// The same at one step s, by direct sums in double precision (w: the
/// rings' weights).
double NccAt(const Masked& ref, const Masked& other, const std::vector<double>& w, int s, double min_weight) {
  const int n = ref.m.cols;
  s = ((s % n) + n) % n;
  double cnt = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < ref.m.rows; ++i) {
    const double *av = ref.vm.ptr<double>(i), *am = ref.m.ptr<double>(i);
    const double *bv = other.vm.ptr<double>(i), *bm = other.m.ptr<double>(i),
                 k = w[static_cast<std::size_t>(i)];
    double c = 0, ra = 0, rb = 0, raa = 0, rbb = 0, rab = 0;
    // j − s wraps: angles [s, n) meet [0, n − s), then [0, s) meet [n − s, n).
    for (int part = 0; part < 2; ++part) {
      const int from = part ? 0 : s, to = part ? s : n, off = part ? n - s : -s;
      for (int j = from; j < to; ++j) {
        const double x = av[j], mx = am[j], y = bv[j + off], my = bm[j + off];
        c += mx * my, ra += x * my, rb += mx * y, raa += x * x * my, rbb += mx * y * y, rab += x * y;
      }
    }
    cnt += k * c, sa += k * ra, sb += k * rb, saa += k * raa, sbb += k * rbb, sab += k * rab;
  }
  return Ncc(cnt, sa, sb, saa, sbb, sab, min_weight);
}

struct Peak {
  double ccf = -1;
  double rotation_deg = 0;  ///< in (−180, 180]
};

/// The best step (the first of equal ones), refined by a parabola through it
/// and its neighbours.
Peak BestRotation(const std::vector<double>& ncc, double step_deg) {
  Peak p;
  const int n = static_cast<int>(ncc.size());
  int at = -1;
  for (int s = 0; s < n; ++s)
    if (ncc[static_cast<std::size_t>(s)] > -1.5 && (at < 0 || ncc[static_cast<std::size_t>(s)] > p.ccf))
      at = s, p.ccf = ncc[static_cast<std::size_t>(s)];
  if (at < 0) return Peak{};
  const double left = ncc[static_cast<std::size_t>((at + n - 1) % n)],
               right = ncc[static_cast<std::size_t>((at + 1) % n)];
  double offset = 0;
  const double curvature = left - 2 * p.ccf + right;
  if (left > -1.5 && right > -1.5 && curvature < 0)
    offset = std::clamp(0.5 * (left - right) / curvature, -0.5, 0.5);
  p.rotation_deg = Wrap((at + offset) * step_deg);
  return p;
}

/// The rotation among `deg` with the least sum of circular distances to the others.
double CircularMedian(const std::vector<double>& deg) {
  double best = kNaN, best_cost = std::numeric_limits<double>::infinity();
  for (double m : deg) {
    double cost = 0;
    for (double x : deg) cost += std::abs(Wrap(x - m));
    if (cost < best_cost) best_cost = cost, best = m;
  }
  return best;
}

/// The polar rings [lo, hi) of an impression about its centre moved by (dx,
/// dy) µm (`filled`: its processed grid, Fill(ProcessedGrid(f))).
cv::Mat PolarAbout(const FiringPinImpression& f, const Filled& filled, int lo, int hi, double dx, double dy) {
  if (dx == 0 && dy == 0) return f.polar.rowRange(lo - f.first_ring, hi - f.first_ring);
  return PolarGrid(filled, f.centre_x_um - f.processed_x0_um + dx, f.centre_y_um - f.processed_y0_um + dy, lo,
                   hi - lo, f.ring_step_um, f.polar.cols);
}

/// Sets the sectors' congruence against the reference rotation (NaN: the
/// circular median of the sectors that pass the threshold) and the count.
void Congruence(FiringPinDirection* d, double reference_deg, const FiringPinOptions& o) {
  if (std::isnan(reference_deg)) {
    std::vector<double> passing;
    for (const FiringPinSector& s : d->sectors)
      if (s.used && s.ccf >= o.ccf_threshold) passing.push_back(s.rotation_deg);
    reference_deg = passing.empty() ? kNaN : CircularMedian(passing);
  }
  d->reference_rotation_deg = reference_deg;
  d->count = 0;
  for (FiringPinSector& s : d->sectors) {
    s.congruent = s.used && s.ccf >= o.ccf_threshold && std::isfinite(reference_deg) &&
                  std::abs(Wrap(s.rotation_deg - reference_deg)) <= o.rotation_tolerance_deg;
    d->count += s.congruent;
  }
}

/// The reference's rings [lo, hi) found in the other: the full circle at the
/// other's centre moved by shifts[0] (FFT); then, at each of `shifts` (µm),
/// the direct NCC within ± kShiftSteps of that peak (the first shift wins
/// ties; rotation refined by a parabola); then sector by sector over the full
/// circle at the winning shift.
FiringPinDirection Direction(const FiringPinImpression& ref, const FiringPinImpression& other, int lo, int hi,
                             const std::vector<cv::Point2d>& shifts, double reference_deg,
                             const FiringPinOptions& o) {
  std::vector<double> sqrt_w, w;
  for (int ring = lo; ring < hi; ++ring) {
    w.push_back(ring * ref.ring_step_um);
    sqrt_w.push_back(std::sqrt(w.back()));
  }
  const int angles = ref.polar.cols;
  const double step = ref.angle_step_deg;
  const cv::Mat rp = ref.polar.rowRange(lo - ref.first_ring, hi - ref.first_ring);
  const Filled filled = Fill(ProcessedGrid(other));
  const Spectra whole = MakeSpectra(rp, sqrt_w, 0, angles);
  const double min_weight = kMinOverlap * whole.weight;
  cv::Mat best_polar = PolarAbout(other, filled, lo, hi, shifts[0].x, shifts[0].y);
  Spectra best = MakeSpectra(best_polar, sqrt_w, 0, angles);
  FiringPinDirection d;
  const Peak coarse = BestRotation(CircularNcc(whole, best, min_weight), step);
  if (coarse.ccf <= -1) return d;
  const int s0 = static_cast<int>(std::lround(coarse.rotation_deg / step));
  std::size_t best_shift = 0;
  const Masked rs = Split(rp);
  for (std::size_t k = 0; k < shifts.size(); ++k) {
    const cv::Mat op = k == 0 ? best_polar : PolarAbout(other, filled, lo, hi, shifts[k].x, shifts[k].y);
    const Masked os = Split(op);
    std::array<double, 2 * kShiftSteps + 1> ncc{};
    for (int t = -kShiftSteps; t <= kShiftSteps; ++t)
      ncc[static_cast<std::size_t>(t + kShiftSteps)] = NccAt(rs, os, w, s0 + t, min_weight);
    const auto at = std::max_element(ncc.begin(), ncc.end());  // the first of equal ones
    if (*at <= d.ccf) continue;
    const auto m = static_cast<std::size_t>(at - ncc.begin());
    double offset = 0;
    if (m > 0 && m + 1 < ncc.size() && ncc[m - 1] > -1.5 && ncc[m + 1] > -1.5) {
      const double curvature = ncc[m - 1] - 2 * ncc[m] + ncc[m + 1];
      if (curvature < 0) offset = std::clamp(0.5 * (ncc[m - 1] - ncc[m + 1]) / curvature, -0.5, 0.5);
    }
    d.ccf = *at;
    d.rotation_deg = Wrap((s0 + static_cast<int>(m) - kShiftSteps + offset) * step);
    d.shift_x_um = shifts[k].x, d.shift_y_um = shifts[k].y;
    if (k != 0) best_polar = op;
    best_shift = k;
  }
  if (d.ccf <= -1) return d;
  if (best_shift != 0) best = MakeSpectra(best_polar, sqrt_w, 0, angles);
  double total = 0;  // Σ w over every sample of one angle column
  for (double k : sqrt_w) total += k * k;
  for (int k = 0; k < o.sectors; ++k) {
    const int from = (k * angles + o.sectors - 1) / o.sectors,
              to = ((k + 1) * angles + o.sectors - 1) / o.sectors;
    FiringPinSector sector;
    sector.start_deg = 360.0 * k / o.sectors;
    const Spectra part = MakeSpectra(rp, sqrt_w, from, to);
    sector.valid_fraction = part.weight / (total * (to - from));
    sector.used = to > from && sector.valid_fraction >= o.min_sector_valid && part.weight > 0;
    if (sector.used) {
      const Peak p = BestRotation(CircularNcc(part, best, kMinOverlap * part.weight), step);
      sector.ccf = p.ccf, sector.rotation_deg = p.rotation_deg;
    }
    d.sectors_used += sector.used;
    d.sectors.push_back(sector);
  }
  Congruence(&d, reference_deg, o);
  return d;
}

}  // namespace

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

namespace toolmark {

FiringPinComparison CompareFiringPins(const FiringPinImpression& a, const FiringPinImpression& b,
                                      double reference_rotation_deg, const FiringPinOptions& o) {
  CheckOptions(o);
  if (!std::isfinite(reference_rotation_deg)) reference_rotation_deg = kNaN;
  FiringPinComparison out;
  if (!a.present || !b.present) {
    out.note =
        std::string("no comparison: ") + (!a.present ? "the first impression is absent (" + a.note + ")"
                                                     : "the second impression is absent (" + b.note + ")");
    return out;
  }
  Check(
      std::abs(a.ring_step_um - b.ring_step_um) <= 1e-9 * a.ring_step_um &&
          std::abs(a.angle_step_deg - b.angle_step_deg) <= 1e-9 && a.polar.cols == b.polar.cols &&
          a.polar.type() == CV_64FC1 && b.polar.type() == CV_64FC1 && a.polar.rows > 0 && b.polar.rows > 0,
      "firing pin: impressions on different polar grids (extract both with the same spacing and angle step)");
  Check(std::abs(a.angle_step_deg - o.angle_step_deg) <= 1e-9,
        "firing pin: the options' angle step differs from the impressions'");
  const int lo = std::max(a.first_ring, b.first_ring);
  const int hi = std::min(a.first_ring + a.polar.rows, b.first_ring + b.polar.rows);
  if (hi - lo < kMinRings) {
    out.note =
        Format("no comparison: the impressions share %g rings (%g needed)", std::max(0, hi - lo), kMinRings);
    return out;
  }
  std::vector<cv::Point2d> shifts{{0, 0}};
  const double d = o.compare_shift_um;
  if (d > 0)
    for (int y = -1; y <= 1; ++y)
      for (int x = -1; x <= 1; ++x)
        if (x || y) shifts.emplace_back(x * d, y * d);
  out.forward = Direction(a, b, lo, hi, shifts, reference_rotation_deg, o);
  if (out.forward.ccf <= -1) {
    out.note = "no comparison: too little of the impressions overlaps at any rotation";
    return out;
  }
  // Backward: b's sectors in a, whose centre moves by −Rot(θ)·shift.
  const double rad = out.forward.rotation_deg * M_PI / 180, c = std::cos(rad), s = std::sin(rad);
  const cv::Point2d back(-(c * out.forward.shift_x_um - s * out.forward.shift_y_um),
                         -(s * out.forward.shift_x_um + c * out.forward.shift_y_um));
  out.backward = Direction(b, a, lo, hi, {back}, -reference_rotation_deg, o);
  out.compared = true;
  out.ccf = out.forward.ccf;
  out.rotation_deg = out.forward.rotation_deg;
  out.congruent_sectors = std::min(out.forward.count, out.backward.count);
  out.sectors_used = std::min(out.forward.sectors_used, out.backward.sectors_used);
  out.note = std::to_string(out.congruent_sectors) + " of " + std::to_string(out.sectors_used) +
             " sectors congruent (forward " + std::to_string(out.forward.count) + ", backward " +
             std::to_string(out.backward.count) + ")";
  return out;
}

}  // namespace toolmark
