// Breech-face preprocessing of cartridge-case scans. See docs/breech_face.md.
// Every parameter is in µm (grey levels for the values of 2D images).
//
// Order of the steps and why: what works at the scale of the scan's own
// sampling (spikes are single-point instrument artefacts; λs is the
// anti-alias filter) runs at the scan's spacing; everything at the scale of
// the face (region of interest, λc) runs after resampling on the coarser
// working grid, where the wide λc Gaussian is cheap (σ = 3.7 cells at 12.5 µm
// instead of 7.5 points at 6.25 µm, or 47 points at 1 µm).
//
//  1. Leveling (scan spacing). A plane z = a + bx·x + by·y (x, y in µm from the
//     scan's centre) is fitted to a regular subsample of at most
//     kPlaneFitPoints finite points: RANSAC over kPlaneTrials exact planes
//     through 3 points drawn from a fixed seed, scored by the points (of at
//     most kPlaneScorePoints) within `level_inlier_um` (5 µm); then
//     kPlaneRefits least-squares refits on the points within max(5 µm, 3 ×
//     1.4826 × median |residual|) of the previous plane. The plane, offset
//     included, is subtracted; tilt = atan(|(bx, by)|). On a 2D intensity image
//     the plane is the illumination gradient (grey levels per µm; tilt 0).
//  2. Spikes (scan spacing). Window: `spike_window_um` (25 µm) rounded to 3×3
//     or 5×5 points (the sizes cv::medianBlur takes for float32). A point is a
//     spike when it lies more than `spike_sigma` (6) robust σ from its
//     window's median (missing points of a window are first filled with the
//     mean of its valid points). Robust σ: 1.4826 × MAD, over at most
//     kSpikeSigmaPoints points, of each point's deviation from the mean of the
//     other valid points of its window (the local roughness), at least
//     kSpikeSigmaFloorUm (1 nm) for heights, kSpikeSigmaFloorGrey (0.5) for
//     images. Spikes become NaN.
//  3. λs low-pass (scan spacing): ISO 16610-61 areal Gaussian, separable,
//     σ = 0.1874 λs (`lambda_s_um` = 16 µm → σ = 3.0 µm), as a normalised
//     convolution over the valid points, G*(v·m) / G*m; NaN stays NaN.
//  4. Resampling to `spacing_um` (12.5 µm): v·m and m are resampled with
//     cv::INTER_AREA (area averaging; INTER_LINEAR when enlarging) and divided;
//     a cell is valid when at least `min_valid_fraction` (0.5) of its area is.
//     The grid covers whole cells only (a last partial cell is dropped).
//  5. Region of interest (working grid), unless a user mask is given (it is
//     applied before step 1 and, resampled with the same area rule, is the
//     ROI). Support = the valid cells, with enclosed gaps smaller than a disc
//     of kMinFiringPinRadiusUm (150 µm) filled (dropouts), minus, for heights,
//     a depression at least `firing_pin_min_depth_um` (15 µm) below the face's
//     median (σ = 1 cell smoothing; cut at half its depth; enclosed by the
//     face: a low ring along the scan's border or its outer missing region is
//     roll-off): a firing-pin impression with data in it. Components under
//     kSpeckFraction (5%) of the largest are dropped. Edge points are the
//     midpoints between 4-neighbour cells in and out of the support, each
//     knowing on which side the support is. The outer edge is the circle
//     (RANSAC over kCircleTrials triples from a fixed seed, scored on at most
//     kCircleScorePoints points: inliers within kCircleToleranceCells (1.5
//     cells) whose step out of the support points outwards, |cos| >
//     kMinOrientation (0.2) to the radius; then a trimmed geometric
//     least-squares fit) of radius ≥ kMinOuterRadiusUm (500 µm); the
//     firing-pin hole likewise among the edge points inside it, with the
//     support outside, radius in [150 µm, kMaxHoleToOuter (0.9) × outer] and
//     its centre inside the outer circle. A circle counts when its inliers
//     fill at least kMinArc (1/3) of ~3-cell arc bins and half of those
//     inside the grid. The ROI lies inside the outer circle and outside the
//     hole. `edge_margin_um` and `firing_pin_margin_um` (60 µm) are dropped
//     next to an edge when `adaptive_margins` is off, or when the 95th
//     percentile of |band-passed value| within the margin of that edge is
//     more than kEdgeArtefactRatio (3.5) × that of the face further in (> 2
//     margins from the edges): a rim, wall or roll-off. Otherwise the edge is
//     taken as already cropped and the ROI reaches one cell past the circle
//     (so a second pass crops nothing more). Nothing circular found: all
//     valid data is kept (noted).
//  6. λc high-pass (working grid): v − G*(v·m)/G*m with the same Gaussian,
//     σ = 0.1874 λc (`lambda_c_um` = 250 µm → 46.9 µm; +inf: none), m = the
//     valid cells of the ROI; NaN outside m. Recomputed once the margins are
//     dropped, so that edge artefacts do not leak into the face.
#include "toolmark/engine/breech_face.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
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

constexpr int kPlaneTrials = 200;                  ///< RANSAC planes tried
constexpr std::size_t kPlaneFitPoints = 20000;     ///< subsample for the plane fit
constexpr std::size_t kPlaneScorePoints = 2000;    ///< of which scored per RANSAC trial
constexpr int kPlaneRefits = 4;                    ///< trimmed least-squares refits
constexpr std::size_t kSpikeSigmaPoints = 100000;  ///< sample for the spikes' robust σ
constexpr double kSpikeSigmaFloorUm = 1e-3;        ///< heights: robust σ at least 1 nm
constexpr double kSpikeSigmaFloorGrey = 0.5;       ///< images: at least half a grey level
constexpr int kMinCells = 8;                       ///< least working grid side
constexpr int kMinValidPoints = 25;                ///< least finite points of a scan
constexpr double kMinFiringPinRadiusUm = 150;      ///< smaller enclosed gaps are dropouts
constexpr double kMinOuterRadiusUm = 500;          ///< least primer edge radius
constexpr int kCircleTrials = 600;                 ///< RANSAC circles tried (per circle sought)
constexpr std::size_t kCircleScorePoints = 400;    ///< edge points scored per trial
constexpr double kCircleToleranceCells = 1.5;      ///< inlier band around a circle
constexpr double kMinArc = 1.0 / 3.0;              ///< least fraction of a circle its inliers cover
constexpr double kMinVisibleArc = 0.5;             ///< … and of its part inside the grid
constexpr double kMaxHoleToOuter = 0.9;            ///< largest hole radius / outer radius
constexpr double kEdgeArtefactRatio = 3.5;         ///< band / face roughness that calls for the margin
constexpr double kSpeckFraction = 0.05;            ///< smaller components (of the largest) are dropped
constexpr double kMinOrientation = 0.2;            ///< |cos| between an edge step and the radius
// 2D images (grey levels).
constexpr double kClipMinFraction = 1e-4;   ///< this share of points at a full-scale value: clipped
constexpr double kGreyCoarseUm = 100;       ///< coarse scale of the exhaustive circle search
constexpr double kGreyCoarseMaxCells = 96;  ///< … at most this many coarse cells across the field
constexpr double kGreyFineUm = 25;          ///< fine scale of the circle refinement
constexpr int kGreyCoarseAngles = 96, kGreyFineAngles = 256;  ///< points sampled on a circle
constexpr double kGreyEdgeQuantile = 0.25;  ///< a circle's score: this quantile of its edge strength
constexpr double kGreyMinInside = 0.75;     ///< least share of a circle inside the image
constexpr double kGreyMinEdge = 1.0;        ///< least score, in median gradients of the image
constexpr double kGreyPinOffCentre = 0.35;  ///< pin centre within this × primer radius of its centre
constexpr double kGreyPinMin = 0.12, kGreyPinMax = 0.6;  ///< pin radius range, × primer radius

/// Deterministic pseudo-random indices (SplitMix64).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::size_t Below(std::size_t n) {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::size_t>((z ^ (z >> 31)) % n);
  }

 private:
  std::uint64_t state_;
};

std::string Format(const char* format, double a, double b = 0, double c = 0) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format, a, b, c);
  return buffer;
}

cv::Mat FiniteMask(const cv::Mat& v) { return v == v; }  // NaN ≠ NaN

double Quantile(std::vector<double>* v, double q) {
  const auto k = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(v->size() - 1), std::floor(q * static_cast<double>(v->size()))));
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(k), v->end());
  return (*v)[k];
}

/// 2D images: points at a full-scale grey level (the top of 8-, 10-, 12-,
/// 14- or 16-bit or of [0, 1], or 0 at the bottom) are clipped — saturated
/// highlights or black — when at least kClipMinFraction of the valid points
/// share that value; they become missing. Returns how many.
int RemoveClipped(cv::Mat* v) {
  double lo = 0, hi = 0;
  cv::minMaxIdx(*v, &lo, &hi, nullptr, nullptr, FiniteMask(*v));
  const double valid = cv::countNonZero(FiniteMask(*v));
  int removed = 0;
  const auto clip = [&](double value) {
    const cv::Mat at = *v == value;
    const int n = cv::countNonZero(at);
    if (n > 0 && n >= kClipMinFraction * valid) {
      v->setTo(kNaN, at);
      removed += n;
    }
  };
  for (double full : {1.0, 255.0, 1023.0, 4095.0, 16383.0, 65535.0})
    if (hi == full) clip(hi);
  if (lo == 0 && hi > 0) clip(0.0);
  return removed;
}

// ------------------------------------------------------------------ leveling

struct Plane {
  double a = 0, bx = 0, by = 0;  ///< z = a + bx·(x − xc) + by·(y − yc), x, y in µm
  double xc = 0, yc = 0;
};

struct Point3 {
  double x, y, z;  ///< x, y relative to the plane's centre
};

Plane FitPlane(const cv::Mat& v, double sx, double sy, double band) {
  Plane plane;
  plane.xc = 0.5 * (v.cols - 1) * sx;
  plane.yc = 0.5 * (v.rows - 1) * sy;
  std::vector<Point3> p;
  const double total = static_cast<double>(v.rows) * v.cols;
  for (int step = std::max(1, static_cast<int>(std::ceil(std::sqrt(total / kPlaneFitPoints)))); step >= 1;
       step = step > 1 ? 1 : 0) {
    p.clear();
    for (int r = 0; r < v.rows; r += step) {
      const double* row = v.ptr<double>(r);
      for (int c = 0; c < v.cols; c += step)
        if (std::isfinite(row[c])) p.push_back({c * sx - plane.xc, r * sy - plane.yc, row[c]});
    }
    if (p.size() >= 3 || step == 1) break;
  }
  TM_ASSERT(p.size() >= 3);
  const std::size_t stride = std::max<std::size_t>(1, p.size() / kPlaneScorePoints);
  // Degenerate triples (nearly collinear in x, y) span under 1e-4 of the scan's area.
  const double min_det = 1e-4 * (v.cols * sx) * (v.rows * sy);
  Random rng(0x706c616e65);  // "plane"
  std::array<double, 3> best{0, 0, 0};
  std::size_t best_count = 0;
  for (int trial = 0; trial < kPlaneTrials; ++trial) {
    const Point3 &a = p[rng.Below(p.size())], &b = p[rng.Below(p.size())], &c = p[rng.Below(p.size())];
    const double dx1 = b.x - a.x, dy1 = b.y - a.y, dx2 = c.x - a.x, dy2 = c.y - a.y;
    const double det = dx1 * dy2 - dx2 * dy1;
    if (std::abs(det) < min_det) continue;
    const double dz1 = b.z - a.z, dz2 = c.z - a.z;
    const double bx = (dz1 * dy2 - dz2 * dy1) / det, by = (dx1 * dz2 - dx2 * dz1) / det;
    const double a0 = a.z - bx * a.x - by * a.y;
    std::size_t count = 0;
    for (std::size_t i = 0; i < p.size(); i += stride)
      if (std::abs(p[i].z - (a0 + bx * p[i].x + by * p[i].y)) <= band) ++count;
    if (count > best_count) best_count = count, best = {a0, bx, by};
  }
  // Trimmed least-squares refits, from the RANSAC plane's inliers (all points
  // when RANSAC found none).
  double limit = best_count > 0 ? band : std::numeric_limits<double>::infinity();
  std::vector<double> residuals(p.size());
  for (int refit = 0; refit < kPlaneRefits; ++refit) {
    std::array<double, 9> ata{};
    std::array<double, 3> atb{};
    for (const Point3& q : p)
      if (std::abs(q.z - (best[0] + best[1] * q.x + best[2] * q.y)) <= limit)
        detail::Accumulate3({1.0, q.x, q.y}, q.z, &ata, &atb);
    if (ata[0] < 3) break;
    best = detail::SolveNormal3(ata, atb);
    for (std::size_t i = 0; i < p.size(); ++i)
      residuals[i] = std::abs(p[i].z - (best[0] + best[1] * p[i].x + best[2] * p[i].y));
    limit = std::max(band, 3.0 * 1.4826 * detail::Median(&residuals));
  }
  plane.a = best[0], plane.bx = best[1], plane.by = best[2];
  return plane;
}

void SubtractPlane(const Plane& plane, double sx, double sy, cv::Mat* v) {
  for (int r = 0; r < v->rows; ++r) {
    double* row = v->ptr<double>(r);
    const double base = plane.a + plane.by * (r * sy - plane.yc) - plane.bx * plane.xc;
    for (int c = 0; c < v->cols; ++c) row[c] -= base + plane.bx * (c * sx);
  }
}

// -------------------------------------------------------------------- spikes

/// Sets spikes to NaN; returns their number and the robust σ in *sigma.
///
/// The robust σ is that of the local roughness: 1.4826 × MAD of each point's
/// deviation from the mean of the other valid points of its window (a median
/// residual cannot serve: on a surface smoother than its sampling, most points
/// are their own window's median, so its MAD is 0). A spike is judged by its
/// deviation from the window's median, which other spikes nearby do not move.
int RemoveSpikes(cv::Mat* v, int ksize, double k_sigma, double sigma_floor, double* sigma) {
  cv::Mat filled(v->size(), CV_32F), m(v->size(), CV_32F);
  std::size_t count = 0;
  for (int r = 0; r < v->rows; ++r) {
    const double* z = v->ptr<double>(r);
    auto *f = filled.ptr<float>(r), *w = m.ptr<float>(r);
    for (int c = 0; c < v->cols; ++c) {
      const bool finite = std::isfinite(z[c]);
      f[c] = finite ? static_cast<float>(z[c]) : 0.0f;
      w[c] = finite ? 1.0f : 0.0f;
      count += finite;
    }
  }
  cv::Mat num, den;
  cv::boxFilter(filled, num, CV_32F, cv::Size(ksize, ksize), cv::Point(-1, -1), false, cv::BORDER_CONSTANT);
  cv::boxFilter(m, den, CV_32F, cv::Size(ksize, ksize), cv::Point(-1, -1), false, cv::BORDER_CONSTANT);
  // Local roughness: deviation from the mean of the window's other points.
  const std::size_t stride = std::max<std::size_t>(1, count / kSpikeSigmaPoints);
  std::vector<double> sample;
  sample.reserve(count / stride + 1);
  std::size_t seen = 0;
  for (int r = 0; r < v->rows; ++r) {
    const double* z = v->ptr<double>(r);
    const auto *f = filled.ptr<float>(r), *n = num.ptr<float>(r), *d = den.ptr<float>(r);
    for (int c = 0; c < v->cols; ++c)
      if (std::isfinite(z[c]) && d[c] > 1.5f && seen++ % stride == 0)
        sample.push_back(static_cast<double>(f[c] - (n[c] - f[c]) / (d[c] - 1.0f)));
  }
  *sigma = sigma_floor;
  if (!sample.empty()) {
    const double centre = detail::Median(&sample);
    for (double& x : sample) x = std::abs(x - centre);
    *sigma = std::max(sigma_floor, 1.4826 * detail::Median(&sample));
  }
  // A missing point gets the mean of the valid points in its window: every
  // point in a valid point's window has that point in its own window.
  for (int r = 0; r < v->rows; ++r) {
    const auto *w = m.ptr<float>(r), *n = num.ptr<float>(r), *d = den.ptr<float>(r);
    auto* f = filled.ptr<float>(r);
    for (int c = 0; c < v->cols; ++c)
      if (w[c] == 0.0f && d[c] > 0.5f) f[c] = n[c] / d[c];
  }
  cv::Mat& median = num;
  cv::medianBlur(filled, median, ksize);
  const double limit = k_sigma * *sigma;
  int removed = 0;
  for (int r = 0; r < v->rows; ++r) {
    double* z = v->ptr<double>(r);
    const auto* md = median.ptr<float>(r);
    for (int c = 0; c < v->cols; ++c)
      if (std::isfinite(z[c]) && std::abs(z[c] - static_cast<double>(md[c])) > limit) z[c] = kNaN, ++removed;
  }
  return removed;
}

// ------------------------------------------------------------------- filters

/// G*(v·m) / G*m with a separable Gaussian of σ (samples) along x and y, zero
/// outside the grid; NaN where m is 0. m: CV_8UC1, non-zero = use.
cv::Mat NormalizedGaussian(const cv::Mat& v, const cv::Mat& m8, double sigma_x, double sigma_y) {
  cv::Mat m, vz = v.clone();
  m8.convertTo(m, CV_64F, 1.0 / 255);
  vz.setTo(0, m8 == 0);
  const std::vector<double> kx = detail::GaussianKernel1d(sigma_x, v.cols),
                            ky = detail::GaussianKernel1d(sigma_y, v.rows);
  cv::Mat num, den;
  cv::sepFilter2D(vz, num, CV_64F, cv::Mat(kx), cv::Mat(ky), cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  cv::sepFilter2D(m, den, CV_64F, cv::Mat(kx), cv::Mat(ky), cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  cv::Mat out(v.size(), CV_64F, cv::Scalar(kNaN));
  for (int r = 0; r < v.rows; ++r) {
    const auto* mr = m8.ptr<std::uint8_t>(r);
    const double *n = num.ptr<double>(r), *d = den.ptr<double>(r);
    auto* o = out.ptr<double>(r);
    for (int c = 0; c < v.cols; ++c)
      if (mr[c] && d[c] > 0) o[c] = n[c] / d[c];
  }
  return out;
}

/// λc high-pass: v − G*(v·m)/G*m over m; NaN outside m.
cv::Mat HighPass(const cv::Mat& v, const cv::Mat& m8, double sigma_cells) {
  cv::Mat out = std::isfinite(sigma_cells) ? cv::Mat(v - NormalizedGaussian(v, m8, sigma_cells, sigma_cells))
                                           : v.clone();  // NaN propagates
  out.setTo(kNaN, m8 == 0);
  return out;
}

struct Resampled {
  cv::Mat values;                           ///< NaN where invalid
  double offset_x_um = 0, offset_y_um = 0;  ///< of cell (0, 0)'s centre from point (0, 0)
};

/// Resamples to cols × rows cells of ws: v·m (vm) and m (the valid mask,
/// 0/1) are area-averaged and divided; NaN where under min_fraction is valid.
Resampled Resample(const cv::Mat& v, const cv::Mat& vm, const cv::Mat& m, double sx, double sy, double ws,
                   int cols, int rows, double min_fraction) {
  Resampled out;
  if (std::abs(sx - ws) <= 1e-9 * ws && std::abs(sy - ws) <= 1e-9 * ws) {
    out.values = v(cv::Rect(0, 0, cols, rows)).clone();
    return out;
  }
  const int src_cols = std::min(v.cols, std::max(1, static_cast<int>(std::lround(cols * ws / sx))));
  const int src_rows = std::min(v.rows, std::max(1, static_cast<int>(std::lround(rows * ws / sy))));
  const cv::Rect part(0, 0, src_cols, src_rows);
  const int interpolation = sx < ws && sy < ws ? cv::INTER_AREA : cv::INTER_LINEAR;
  cv::Mat rv, rm;
  cv::resize(vm(part), rv, cv::Size(cols, rows), 0, 0, interpolation);
  cv::resize(m(part), rm, cv::Size(cols, rows), 0, 0, interpolation);
  out.values = cv::Mat(rows, cols, CV_64F, cv::Scalar(kNaN));
  for (int r = 0; r < rows; ++r) {
    const double *a = rv.ptr<double>(r), *w = rm.ptr<double>(r);
    auto* o = out.values.ptr<double>(r);
    for (int c = 0; c < cols; ++c)
      if (w[c] >= min_fraction - 1e-9 && w[c] > 0) o[c] = a[c] / w[c];
  }
  // Cell c covers points [c·k, (c+1)·k) − ½, k = src / cells: centre at (c + ½)k − ½.
  const double kx = static_cast<double>(src_cols) / cols, ky = static_cast<double>(src_rows) / rows;
  out.offset_x_um = 0.5 * (kx - 1) * sx;
  out.offset_y_um = 0.5 * (ky - 1) * sy;
  return out;
}

// ------------------------------------------------------- region of interest

/// Midpoint between two 4-neighbour cells, one in the support and one not;
/// (nx, ny) is the unit step from the one in to the one out.
struct EdgePoint {
  double x, y, nx, ny;
};

struct Circle {
  double x = 0, y = 0, r = 0;  ///< cells
};

double Distance(double x, double y, const Circle& c) {
  return std::sqrt((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y));
}

std::vector<EdgePoint> EdgePoints(const cv::Mat& s) {
  std::vector<EdgePoint> out;
  for (int r = 0; r < s.rows; ++r) {
    const auto* row = s.ptr<std::uint8_t>(r);
    const auto* below = r + 1 < s.rows ? s.ptr<std::uint8_t>(r + 1) : nullptr;
    for (int c = 0; c < s.cols; ++c) {
      const bool in = row[c] != 0;
      if (c + 1 < s.cols && in != (row[c + 1] != 0)) out.push_back({c + 0.5, 1.0 * r, in ? 1.0 : -1.0, 0.0});
      if (below && in != (below[c] != 0)) out.push_back({1.0 * c, r + 0.5, 0.0, in ? 1.0 : -1.0});
    }
  }
  return out;
}

/// p is on the circle (within limit) with the support on its `side` (+1 inside,
/// −1 outside): its step out of the support points along ±radius.
bool IsInlier(const EdgePoint& p, const Circle& c, int side, double limit) {
  const double rx = p.x - c.x, ry = p.y - c.y, d2 = rx * rx + ry * ry;
  const double lo = std::max(0.0, c.r - limit), hi = c.r + limit;
  if (d2 < lo * lo || d2 > hi * hi) return false;
  const double dot = side * (p.nx * rx + p.ny * ry);  // > kMinOrientation · d
  return dot > 0 && dot * dot > kMinOrientation * kMinOrientation * d2;
}

bool Circumcircle(const EdgePoint& a, const EdgePoint& b, const EdgePoint& c, Circle* out) {
  const double bx = b.x - a.x, by = b.y - a.y, cx = c.x - a.x, cy = c.y - a.y;
  const double d = 2 * (bx * cy - by * cx);
  if (std::abs(d) < 1e-9) return false;
  const double b2 = bx * bx + by * by, c2 = cx * cx + cy * cy;
  const double ux = (cy * b2 - by * c2) / d, uy = (bx * c2 - cx * b2) / d;
  *out = {a.x + ux, a.y + uy, std::hypot(ux, uy)};
  return true;
}

/// Trimmed geometric least squares (Gauss-Newton on |p − c| − r).
void RefineCircle(const std::vector<EdgePoint>& pts, int side, Circle* c) {
  double limit = kCircleToleranceCells;
  std::vector<const EdgePoint*> in;
  std::vector<double> residuals;
  for (int round = 0; round < 4; ++round) {
    in.clear();
    for (const EdgePoint& p : pts)
      if (IsInlier(p, *c, side, limit)) in.push_back(&p);
    if (in.size() < 10) return;
    for (int iteration = 0; iteration < 3; ++iteration) {
      std::array<double, 9> ata{};
      std::array<double, 3> atb{};
      for (const EdgePoint* p : in) {
        const double dx = p->x - c->x, dy = p->y - c->y, d = std::sqrt(dx * dx + dy * dy);
        if (d < 1e-9) continue;
        detail::Accumulate3({-dx / d, -dy / d, -1.0}, -(d - c->r), &ata, &atb);
      }
      const std::array<double, 3> step = detail::SolveNormal3(ata, atb);
      c->x += step[0], c->y += step[1], c->r += step[2];
    }
    residuals.clear();
    for (const EdgePoint* p : in) residuals.push_back(std::abs(Distance(p->x, p->y, *c) - c->r));
    limit = std::max(kCircleToleranceCells, 3.0 * 1.4826 * detail::Median(&residuals));
  }
}

struct CircleFit {
  Circle circle;
  bool found = false;
  double arc = 0;  ///< fraction of the circle covered by inliers
};

/// The circle with the most edge points on it that have the support on `side`.
CircleFit FindCircle(const std::vector<EdgePoint>& pts, int side, double r_min, double r_max, cv::Size grid,
                     std::uint64_t seed) {
  CircleFit fit;
  if (pts.size() < 20) return fit;
  const std::size_t stride = std::max<std::size_t>(1, pts.size() / kCircleScorePoints);
  Random rng(seed);
  std::size_t best_count = 0;
  for (int trial = 0; trial < kCircleTrials; ++trial) {
    Circle c;
    if (!Circumcircle(pts[rng.Below(pts.size())], pts[rng.Below(pts.size())], pts[rng.Below(pts.size())], &c))
      continue;
    if (c.r < r_min || c.r > r_max) continue;
    std::size_t count = 0;
    for (std::size_t i = 0; i < pts.size(); i += stride)
      if (IsInlier(pts[i], c, side, kCircleToleranceCells)) ++count;
    if (count > best_count) best_count = count, fit.circle = c;
  }
  if (best_count < 5) return fit;
  RefineCircle(pts, side, &fit.circle);
  const Circle& c = fit.circle;
  if (!(c.r >= r_min && c.r <= r_max)) return fit;
  // Arc coverage in bins of about 3 cells of arc.
  const int bins = std::clamp(static_cast<int>(std::lround(2 * M_PI * c.r / 3)), 12, 360);
  std::vector<char> filled(static_cast<std::size_t>(bins), 0);
  for (const EdgePoint& p : pts) {
    if (!IsInlier(p, c, side, kCircleToleranceCells)) continue;
    const double angle = std::atan2(p.y - c.y, p.x - c.x) + M_PI;
    filled[static_cast<std::size_t>(std::min(bins - 1, static_cast<int>(angle / (2 * M_PI) * bins)))] = 1;
  }
  int covered = 0, visible = 0;
  for (int b = 0; b < bins; ++b) {
    const double angle = (b + 0.5) * 2 * M_PI / bins - M_PI;
    const double x = c.x + c.r * std::cos(angle), y = c.y + c.r * std::sin(angle);
    if (x >= -0.5 && y >= -0.5 && x <= grid.width - 0.5 && y <= grid.height - 0.5) ++visible;
    covered += filled[static_cast<std::size_t>(b)];
  }
  fit.arc = static_cast<double>(covered) / bins;
  fit.found = covered >= kMinArc * bins && covered >= kMinVisibleArc * visible;
  return fit;
}

/// Enclosed gaps (components of ~mask not touching the grid's border) smaller
/// than max_area cells are filled; *exterior gets the gaps that touch it.
cv::Mat FillSmallGaps(const cv::Mat& mask, double max_area, cv::Mat* exterior) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask == 0, labels, stats, centroids, 4, CV_32S);
  std::vector<char> fill(static_cast<std::size_t>(n), 0), border(static_cast<std::size_t>(n), 0);
  for (int i = 1; i < n; ++i) {
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    border[static_cast<std::size_t>(i)] = x == 0 || y == 0 || x + w == mask.cols || y + h == mask.rows;
    fill[static_cast<std::size_t>(i)] =
        !border[static_cast<std::size_t>(i)] && stats.at<int>(i, cv::CC_STAT_AREA) < max_area;
  }
  cv::Mat out = mask.clone();
  *exterior = cv::Mat::zeros(mask.size(), CV_8UC1);
  for (int r = 0; r < mask.rows; ++r) {
    for (int c = 0; c < mask.cols; ++c) {
      const auto label = static_cast<std::size_t>(labels.at<int>(r, c));
      if (fill[label]) out.at<std::uint8_t>(r, c) = 255;
      if (border[label]) exterior->at<std::uint8_t>(r, c) = 255;
    }
  }
  return out;
}

/// The 8-connected components of mask with at least min_area cells; with
/// `outside`, only those with no cell on the grid's border or next to a
/// non-zero cell of *outside. *largest: the largest area before the area test.
cv::Mat KeepComponents(const cv::Mat& mask, double min_area, const cv::Mat* outside = nullptr,
                       int* largest = nullptr) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  std::vector<char> keep(static_cast<std::size_t>(n), 1);
  if (outside) {
    cv::Mat near;
    cv::dilate(*outside, near, cv::Mat());
    for (int r = 0; r < mask.rows; ++r)
      for (int c = 0; c < mask.cols; ++c)
        if (r == 0 || c == 0 || r + 1 == mask.rows || c + 1 == mask.cols || near.at<std::uint8_t>(r, c))
          keep[static_cast<std::size_t>(labels.at<int>(r, c))] = 0;
  }
  int most = 0;
  for (int i = 1; i < n; ++i) {
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (keep[static_cast<std::size_t>(i)]) most = std::max(most, area);
    keep[static_cast<std::size_t>(i)] = keep[static_cast<std::size_t>(i)] && area >= min_area;
  }
  if (largest) *largest = most;
  cv::Mat out = cv::Mat::zeros(mask.size(), CV_8UC1);
  for (int r = 0; r < mask.rows; ++r)
    for (int c = 0; c < mask.cols; ++c)
      if (labels.at<int>(r, c) > 0 && keep[static_cast<std::size_t>(labels.at<int>(r, c))])
        out.at<std::uint8_t>(r, c) = 255;
  return out;
}

/// Heights: the cells of a depression at least min_depth below the face
/// (σ = 1 cell smoothing), cut at half its depth; components of at least
/// min_area cells enclosed by the face (a low ring at the scan's border or
/// along its outer missing region is roll-off, not a firing pin). Empty when
/// there is none.
cv::Mat Depression(const cv::Mat& v, const cv::Mat& valid, const cv::Mat& exterior, double min_depth,
                   double min_area) {
  const cv::Mat w = NormalizedGaussian(v, valid, 1.0, 1.0);
  std::vector<double> values;
  for (int r = 0; r < w.rows; ++r)
    for (int c = 0; c < w.cols; ++c)
      if (std::isfinite(w.at<double>(r, c))) values.push_back(w.at<double>(r, c));
  const double face = detail::Median(&values);
  int largest = 0;
  cv::Mat deep = KeepComponents((w < face - min_depth) & valid, min_area, &exterior, &largest);  // NaN: false
  if (largest < min_area) return cv::Mat::zeros(v.size(), CV_8UC1);
  values.clear();
  for (int r = 0; r < w.rows; ++r)
    for (int c = 0; c < w.cols; ++c)
      if (deep.at<std::uint8_t>(r, c)) values.push_back(w.at<double>(r, c));
  const double bottom = detail::Median(&values);
  return KeepComponents((w < 0.5 * (face + bottom)) & valid, min_area, &exterior);
}

// ---- 2D images: the primer edge and the firing-pin impression from grey levels ----

/// Bilinear sample of a CV_64F image at (x = column, y = row); false outside.
bool SampleAt(const cv::Mat& g, double x, double y, double* out) {
  if (!(x >= 0 && y >= 0 && x <= g.cols - 1 && y <= g.rows - 1)) return false;
  const int c = std::min(static_cast<int>(x), g.cols - 2 < 0 ? 0 : g.cols - 2);
  const int r = std::min(static_cast<int>(y), g.rows - 2 < 0 ? 0 : g.rows - 2);
  const double fx = x - c, fy = y - r;
  const int c1 = std::min(c + 1, g.cols - 1), r1 = std::min(r + 1, g.rows - 1);
  *out = (1 - fy) * ((1 - fx) * g.at<double>(r, c) + fx * g.at<double>(r, c1)) +
         fy * ((1 - fx) * g.at<double>(r1, c) + fx * g.at<double>(r1, c1));
  return true;
}

/// Grey-level gradients of a working-grid image at one scale: the image
/// (missing cells filled with the median) area-averaged by `factor` working
/// cells, smoothed with a Gaussian of σ = `sigma` cells of that scale, Sobel
/// derivatives per cell of that scale.
struct GreyGradients {
  cv::Mat gx, gy;
  int factor = 1;    ///< working cells per cell of this scale
  double noise = 0;  ///< median gradient magnitude
  /// This scale's coordinates of working-grid cell coordinates, and back.
  double In(double working) const { return (working + 0.5) / factor - 0.5; }
  double Out(double scaled) const { return (scaled + 0.5) * factor - 0.5; }
};

GreyGradients Gradients(const cv::Mat& filled, int factor, double sigma) {
  GreyGradients g;
  g.factor = factor;
  cv::Mat small;
  if (factor > 1)
    cv::resize(filled, small, cv::Size(std::max(1, filled.cols / factor), std::max(1, filled.rows / factor)),
               0, 0, cv::INTER_AREA);
  else
    small = filled;
  cv::Mat smooth;
  cv::GaussianBlur(small, smooth, cv::Size(0, 0), sigma, sigma, cv::BORDER_REPLICATE);
  cv::Sobel(smooth, g.gx, CV_64F, 1, 0, 3, 1.0 / 8, 0, cv::BORDER_REPLICATE);
  cv::Sobel(smooth, g.gy, CV_64F, 0, 1, 3, 1.0 / 8, 0, cv::BORDER_REPLICATE);
  std::vector<double> magnitude;
  magnitude.reserve(g.gx.total());
  for (int r = 0; r < g.gx.rows; ++r)
    for (int c = 0; c < g.gx.cols; ++c)
      magnitude.push_back(std::hypot(g.gx.at<double>(r, c), g.gy.at<double>(r, c)));
  g.noise = Quantile(&magnitude, 0.5);
  return g;
}

/// How consistently a circle (this scale's cells) is a grey-level edge: the
/// kGreyEdgeQuantile quantile, over the sampled angles inside the grid, of
/// the radial derivative × polarity (+1: brighter outside, −1: brighter
/// inside). −inf when less than kGreyMinInside of the circle is inside.
double CircleEdgeScore(const GreyGradients& g, double cx, double cy, double r, int polarity,
                       const std::vector<cv::Point2d>& directions, std::vector<double>* scratch) {
  scratch->clear();
  for (const cv::Point2d& d : directions) {
    double gx = 0, gy = 0;
    const double x = cx + r * d.x, y = cy + r * d.y;
    if (!SampleAt(g.gx, x, y, &gx) || !SampleAt(g.gy, x, y, &gy)) continue;
    scratch->push_back(polarity * (gx * d.x + gy * d.y));
  }
  if (static_cast<double>(scratch->size()) < kGreyMinInside * static_cast<double>(directions.size()))
    return -std::numeric_limits<double>::infinity();
  return Quantile(scratch, kGreyEdgeQuantile);
}

std::vector<cv::Point2d> Directions(int count) {
  std::vector<cv::Point2d> d(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const double a = 2 * M_PI * (i + 0.5) / count;
    d[static_cast<std::size_t>(i)] = {std::cos(a), std::sin(a)};
  }
  return d;
}

/// Search box for a circle, in working cells.
struct CircleSearch {
  double x_min, x_max, y_min, y_max, r_min, r_max;
};

/// The circle of the most consistent grey-level edge of `polarity` in the
/// box: exhaustive on the coarse scale (1-cell steps), then refined on the fine
/// scale within ±1 coarse cell (½-cell steps). found when its score is at
/// least kGreyMinEdge × the fine scale's median gradient.
CircleFit FindGreyCircle(const GreyGradients& coarse, const GreyGradients& fine, const CircleSearch& box,
                         int polarity, double* score_out) {
  CircleFit fit;
  std::vector<double> scratch;
  const std::vector<cv::Point2d> coarse_dirs = Directions(kGreyCoarseAngles);
  double best = -std::numeric_limits<double>::infinity();
  Circle best_coarse;
  const double r0 = std::max(1.0, box.r_min / coarse.factor), r1 = box.r_max / coarse.factor;
  for (double y = std::ceil(coarse.In(box.y_min)); y <= coarse.In(box.y_max); y += 1) {
    for (double x = std::ceil(coarse.In(box.x_min)); x <= coarse.In(box.x_max); x += 1) {
      for (double r = r0; r <= r1; r += 1) {
        const double s = CircleEdgeScore(coarse, x, y, r, polarity, coarse_dirs, &scratch);
        if (s > best) best = s, best_coarse = {x, y, r};
      }
    }
  }
  if (!std::isfinite(best)) return fit;
  const std::vector<cv::Point2d> fine_dirs = Directions(kGreyFineAngles);
  const double cx = fine.In(coarse.Out(best_coarse.x)), cy = fine.In(coarse.Out(best_coarse.y));
  const double cr = best_coarse.r * coarse.factor / fine.factor,
               reach = static_cast<double>(coarse.factor) / fine.factor;
  best = -std::numeric_limits<double>::infinity();
  for (double dy = -reach; dy <= reach + 1e-9; dy += 0.5) {
    for (double dx = -reach; dx <= reach + 1e-9; dx += 0.5) {
      for (double dr = -reach; dr <= reach + 1e-9; dr += 0.5) {
        const double r = cr + dr;
        if (r * fine.factor < box.r_min || r * fine.factor > box.r_max) continue;
        const double s = CircleEdgeScore(fine, cx + dx, cy + dy, r, polarity, fine_dirs, &scratch);
        if (s > best) best = s, fit.circle = {fine.Out(cx + dx), fine.Out(cy + dy), r * fine.factor};
      }
    }
  }
  *score_out = fine.noise > 0 ? best / fine.noise : 0;
  fit.found = std::isfinite(best) && *score_out >= kGreyMinEdge;
  fit.arc = 1 - kGreyEdgeQuantile;
  return fit;
}

/// 2D images: the primer's edge (brighter inside: the primer face against
/// the dark gap around it) and, inside it, the firing-pin impression (darker
/// inside) from grey levels on the working grid (cells of ws µm).
void FindCirclesFromGreyLevels(const cv::Mat& v, double ws, CircleFit* outer, CircleFit* hole,
                               BreechFace* out) {
  std::vector<std::string>* notes = &out->notes;
  std::vector<double> values;
  for (int r = 0; r < v.rows; ++r)
    for (int c = 0; c < v.cols; ++c)
      if (std::isfinite(v.at<double>(r, c))) values.push_back(v.at<double>(r, c));
  const double median = Quantile(&values, 0.5);
  cv::Mat filled = v.clone();
  filled.setTo(median, ~FiniteMask(v));
  const double field_um = std::max(v.cols, v.rows) * ws;
  const int coarse_factor = std::max(
      1, static_cast<int>(std::lround(std::max(kGreyCoarseUm, field_um / kGreyCoarseMaxCells) / ws)));
  const int fine_factor = std::max(1, static_cast<int>(std::lround(kGreyFineUm / ws)));
  const GreyGradients coarse = Gradients(filled, coarse_factor, 1.0);
  const GreyGradients fine = Gradients(filled, fine_factor, 1.0);
  const double w = v.cols - 1, h = v.rows - 1;
  double& outer_score = out->outer_edge_strength;
  double& hole_score = out->firing_pin_edge_strength;
  *outer = FindGreyCircle(coarse, fine, {0, w, 0, h, kMinOuterRadiusUm / ws, 0.5 * std::hypot(w, h)}, -1,
                          &outer_score);
  notes->push_back(Format(outer->found
                              ? "2D image: primer edge found from grey levels (edge %.1f x the median "
                                "gradient; radius %.0f um)"
                              : "2D image: no primer edge in the grey levels (best edge %.1f x the "
                                "median gradient, radius %.0f um)",
                          outer_score, outer->circle.r * ws));
  if (!outer->found) return;
  const Circle& o = outer->circle;
  const double reach = kGreyPinOffCentre * o.r;
  *hole = FindGreyCircle(coarse, fine,
                         {o.x - reach, o.x + reach, o.y - reach, o.y + reach,
                          std::max(kMinFiringPinRadiusUm / ws, kGreyPinMin * o.r), kGreyPinMax * o.r},
                         +1, &hole_score);
  notes->push_back(Format(hole->found
                              ? "2D image: firing-pin impression found from grey levels (edge %.1f x "
                                "the median gradient; radius %.0f um)"
                              : "2D image: no firing-pin impression in the grey levels (best edge %.1f x "
                                "the median gradient, radius %.0f um)",
                          hole_score, hole->circle.r * ws));
}

/// 95th percentile of |v| over the finite cells where select(r, c) holds; NaN
/// when fewer than 20.
template <typename Select>
double AbsQ95(const cv::Mat& v, Select select) {
  std::vector<double> a;
  for (int r = 0; r < v.rows; ++r)
    for (int c = 0; c < v.cols; ++c)
      if (std::isfinite(v.at<double>(r, c)) && select(r, c)) a.push_back(std::abs(v.at<double>(r, c)));
  return a.size() < 20 ? kNaN : Quantile(&a, 0.95);
}

}  // namespace

BreechFace PreprocessBreechFace(const Surface& surface, const BreechFaceOptions& o,
                                const cv::Mat* user_mask) {
  Check(!surface.values.empty() && surface.values.type() == CV_64FC1, "breech face: surface has no values");
  const double sx = surface.spacing_x_um, sy = surface.spacing_y_um, ws = o.spacing_um;
  Check(std::isfinite(sx) && std::isfinite(sy) && sx > 0 && sy > 0,
        "breech face: surface spacing must be positive");
  Check(std::isfinite(ws) && ws > 0 && o.lambda_s_um >= 0 && o.lambda_c_um > o.lambda_s_um &&
            o.spike_sigma > 0 && o.spike_window_um >= 0 && o.level_inlier_um > 0 &&
            o.min_valid_fraction > 0 && o.min_valid_fraction <= 1 && o.firing_pin_margin_um >= 0 &&
            o.edge_margin_um >= 0 && o.firing_pin_min_depth_um > 0,
        "breech face: invalid options");
  const int cols = static_cast<int>(std::floor(surface.values.cols * sx / ws + 1e-9));
  const int rows = static_cast<int>(std::floor(surface.values.rows * sy / ws + 1e-9));
  Check(cols >= kMinCells && rows >= kMinCells,
        "breech face: scan too small: " + std::to_string(surface.values.cols) + " x " +
            std::to_string(surface.values.rows) + " points make " + std::to_string(cols) + " x " +
            std::to_string(rows) + " working cells of " + Format("%g", ws) + " um, at least " +
            std::to_string(kMinCells) + " x " + std::to_string(kMinCells) + " needed");
  if (user_mask)
    Check(user_mask->type() == CV_8UC1 && user_mask->size() == surface.values.size(),
          "breech face: the user mask must be CV_8UC1 and the size of the scan");

  const bool heights = surface.kind == SurfaceKind::kHeight;
  Check(heights || (o.intensity_lambda_s_um >= 0 && o.lambda_c_um > o.intensity_lambda_s_um),
        "breech face: invalid options (intensity_lambda_s_um)");
  BreechFace out;
  cv::Mat v = surface.values.clone();
  for (int r = 0; r < v.rows; ++r) {
    double* row = v.ptr<double>(r);
    for (int c = 0; c < v.cols; ++c)
      if (!std::isfinite(row[c])) row[c] = kNaN;  // ±inf too
  }
  if (user_mask) {
    v.setTo(kNaN, *user_mask == 0);
    out.notes.push_back("user mask given: ROI detection skipped");
  }
  if (!heights) {
    out.clipped_points = RemoveClipped(&v);
    if (out.clipped_points > 0)
      out.notes.push_back(
          Format("2D image: %.0f points at a full-scale grey level (saturated or black) "
                 "made missing",
                 out.clipped_points));
  }
  Check(cv::countNonZero(FiniteMask(v)) >= kMinValidPoints,
        user_mask ? "breech face: no valid data inside the user mask"
                  : "breech face: the scan has no valid data");

  // 1. Leveling.
  const Plane plane = FitPlane(v, sx, sy, o.level_inlier_um);
  SubtractPlane(plane, sx, sy, &v);
  out.plane_slope_x = plane.bx;
  out.plane_slope_y = plane.by;
  if (heights) {
    out.plane_tilt_deg = std::atan(std::hypot(plane.bx, plane.by)) * 180 / M_PI;
  } else {
    out.notes.push_back(
        Format("2D intensity image: leveling removed an illumination gradient of %.3g grey "
               "levels per mm; values are grey levels",
               1000 * std::hypot(plane.bx, plane.by)));
  }

  // 2. Spikes.
  const double spacing = 0.5 * (sx + sy);
  const int half = std::clamp(static_cast<int>(std::lround(0.5 * o.spike_window_um / spacing)), 1, 2);
  out.spikes_removed =
      RemoveSpikes(&v, 2 * half + 1, o.spike_sigma, heights ? kSpikeSigmaFloorUm : kSpikeSigmaFloorGrey,
                   &out.spike_sigma_value);

  // 3. λs low-pass at the scan's spacing (normalised convolution; v·m and m
  // are kept for the resampling).
  cv::Mat vm(v.size(), CV_64F), m_scan(v.size(), CV_64F);
  for (int r = 0; r < v.rows; ++r) {
    const double* z = v.ptr<double>(r);
    auto *a = vm.ptr<double>(r), *w = m_scan.ptr<double>(r);
    for (int c = 0; c < v.cols; ++c) {
      const bool finite = std::isfinite(z[c]);
      a[c] = finite ? z[c] : 0.0;
      w[c] = finite ? 1.0 : 0.0;
    }
  }
  const double sigma_s = detail::GaussianSigmaForCutoff(heights ? o.lambda_s_um : o.intensity_lambda_s_um);
  if (sigma_s > 0) {
    const std::vector<double> kx = detail::GaussianKernel1d(sigma_s / sx, v.cols),
                              ky = detail::GaussianKernel1d(sigma_s / sy, v.rows);
    cv::Mat num, den;
    cv::sepFilter2D(vm, num, CV_64F, cv::Mat(kx), cv::Mat(ky), cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
    cv::sepFilter2D(m_scan, den, CV_64F, cv::Mat(kx), cv::Mat(ky), cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
    for (int r = 0; r < v.rows; ++r) {
      const double *n = num.ptr<double>(r), *d = den.ptr<double>(r), *w = m_scan.ptr<double>(r);
      auto *z = v.ptr<double>(r), *a = vm.ptr<double>(r);
      for (int c = 0; c < v.cols; ++c)
        if (w[c] > 0) z[c] = a[c] = n[c] / d[c];
    }
  }

  // 4. Working grid.
  const Resampled grid = Resample(v, vm, m_scan, sx, sy, ws, cols, rows, o.min_valid_fraction);
  vm.release();
  m_scan.release();
  v = grid.values;
  const cv::Mat valid = FiniteMask(v);
  Check(cv::countNonZero(valid) > 0, "breech face: no working cell has enough valid data");

  // 5. Region of interest.
  const double min_hole_cells = M_PI * std::pow(kMinFiringPinRadiusUm / ws, 2);
  CircleFit outer, hole;
  cv::Mat roi;
  if (user_mask) {
    cv::Mat keep, resized;
    cv::Mat(*user_mask != 0).convertTo(keep, CV_64F, 1.0 / 255);
    keep = keep(cv::Rect(0, 0, std::min(keep.cols, static_cast<int>(std::lround(cols * ws / sx))),
                         std::min(keep.rows, static_cast<int>(std::lround(rows * ws / sy)))));
    cv::resize(keep, resized, cv::Size(cols, rows), 0, 0,
               sx < ws && sy < ws ? cv::INTER_AREA : cv::INTER_LINEAR);
    roi = resized >= 0.5;
  } else if (o.detect_roi && !heights) {
    FindCirclesFromGreyLevels(v, ws, &outer, &hole, &out);
  } else if (o.detect_roi) {
    cv::Mat exterior;
    cv::Mat support = FillSmallGaps(valid, min_hole_cells, &exterior);
    if (heights)
      support = support & ~Depression(v, valid, exterior, o.firing_pin_min_depth_um, min_hole_cells);
    int largest = 0;
    KeepComponents(support, 1, nullptr, &largest);
    support = KeepComponents(support, kSpeckFraction * largest);
    const std::vector<EdgePoint> edges = EdgePoints(support);
    const double diagonal = std::hypot(cols, rows);
    outer = FindCircle(edges, +1, kMinOuterRadiusUm / ws, 2 * diagonal, v.size(), 0x6f75746572);  // "outer"
    std::vector<EdgePoint> inside;
    for (const EdgePoint& p : edges)
      if (!outer.found || Distance(p.x, p.y, outer.circle) < outer.circle.r - kCircleToleranceCells)
        inside.push_back(p);
    hole =
        FindCircle(inside, -1, kMinFiringPinRadiusUm / ws,
                   outer.found ? kMaxHoleToOuter * outer.circle.r : diagonal, v.size(), 0x70696e);  // "pin"
    if (hole.found && outer.found && Distance(hole.circle.x, hole.circle.y, outer.circle) >= outer.circle.r)
      hole.found = false;
    if (hole.found) {  // a depression when most of the hole has data
      int inside_cells = 0, inside_valid = 0;
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
          if (Distance(c, r, hole.circle) > hole.circle.r) continue;
          ++inside_cells;
          inside_valid += valid.at<std::uint8_t>(r, c) != 0;
        }
      }
      out.firing_pin_from_depth = 2 * inside_valid > inside_cells;
    }
  }
  out.outer_found = outer.found;
  out.firing_pin_found = hole.found;

  const double sigma_c = detail::GaussianSigmaForCutoff(o.lambda_c_um) / ws;
  cv::Mat m, filtered;
  if (user_mask) {
    m = valid & roi;
    filtered = HighPass(v, m, sigma_c);
  } else {
    // Geometric ROI, first without margins; then the margins where the edge
    // shows artefacts.
    const auto in_roi = [&](int r, int c, double outer_inset, double hole_outset) {
      if (outer.found && Distance(c, r, outer.circle) > outer.circle.r - outer_inset) return false;
      if (hole.found && Distance(c, r, hole.circle) <= hole.circle.r + hole_outset) return false;
      return true;
    };
    roi = cv::Mat(rows, cols, CV_8UC1);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) roi.at<std::uint8_t>(r, c) = in_roi(r, c, -1.0, -1.0) ? 255 : 0;
    m = valid & roi;
    filtered = HighPass(v, m, sigma_c);
    const double edge_margin = o.edge_margin_um / ws, pin_margin = o.firing_pin_margin_um / ws;
    const auto core = [&](int r, int c) { return in_roi(r, c, 2 * edge_margin, 2 * pin_margin); };
    double face = AbsQ95(filtered, core);
    if (!std::isfinite(face)) face = AbsQ95(filtered, [](int, int) { return true; });
    // Band roughness over the face's; 0 where the band has too few cells to tell.
    const auto ratio = [&](double band) {
      return std::isfinite(band) && std::isfinite(face) ? band / std::max(face, 1e-12) : 0.0;
    };
    if (outer.found && edge_margin > 0) {
      const double band = AbsQ95(filtered, [&](int r, int c) {
        return Distance(c, r, outer.circle) > outer.circle.r - edge_margin;
      });
      out.outer_edge_ratio = ratio(band);
      out.outer_margin_applied = !o.adaptive_margins || out.outer_edge_ratio > kEdgeArtefactRatio;
      out.notes.push_back(Format(out.outer_margin_applied
                                     ? "outer edge: the band inside it is %.2f x as rough as the face: "
                                       "%g um margin dropped"
                                     : "outer edge: the band inside it is %.2f x as rough as the face "
                                       "(already cropped): no margin dropped",
                                 out.outer_edge_ratio, o.edge_margin_um));
    }
    if (hole.found && pin_margin > 0) {
      const double band = AbsQ95(
          filtered, [&](int r, int c) { return Distance(c, r, hole.circle) <= hole.circle.r + pin_margin; });
      out.firing_pin_edge_ratio = ratio(band);
      out.firing_pin_margin_applied = !o.adaptive_margins || out.firing_pin_edge_ratio > kEdgeArtefactRatio;
      out.notes.push_back(Format(out.firing_pin_margin_applied
                                     ? "firing-pin hole: the band around it is %.2f x as rough as the face: "
                                       "%g um margin dropped"
                                     : "firing-pin hole: the band around it is %.2f x as rough as the face "
                                       "(already cropped): no margin dropped",
                                 out.firing_pin_edge_ratio, o.firing_pin_margin_um));
    }
    if (out.outer_margin_applied || out.firing_pin_margin_applied) {
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
          roi.at<std::uint8_t>(r, c) = in_roi(r, c, out.outer_margin_applied ? edge_margin : -1.0,
                                              out.firing_pin_margin_applied ? pin_margin : -1.0)
                                           ? 255
                                           : 0;
      m = valid & roi;
      filtered = HighPass(v, m, sigma_c);
    }
    if (o.detect_roi && !outer.found)
      out.notes.push_back("no outer primer edge found: nothing removed outside");
    if (o.detect_roi && !hole.found) out.notes.push_back("no firing-pin hole found: none removed");
    if (!o.detect_roi) out.notes.push_back("ROI detection off: all valid data kept");
  }
  Check(cv::countNonZero(m) > 0, "breech face: no valid data left in the region of interest");

  out.surface.values = filtered;
  out.surface.spacing_x_um = out.surface.spacing_y_um = ws;
  out.surface.origin_x_um = surface.origin_x_um + grid.offset_x_um;
  out.surface.origin_y_um = surface.origin_y_um + grid.offset_y_um;
  out.surface.kind = surface.kind;
  out.surface.meta = surface.meta;
  out.roi = roi;
  if (outer.found) {
    out.centre_um = {outer.circle.x * ws, outer.circle.y * ws};
    out.outer_radius_um = outer.circle.r * ws;
  }
  if (hole.found) {
    out.firing_pin_centre_x_um = hole.circle.x * ws;
    out.firing_pin_centre_y_um = hole.circle.y * ws;
    out.firing_pin_radius_um = hole.circle.r * ws;
    if (out.firing_pin_from_depth)
      out.notes.push_back("firing-pin hole found as a depression of the surface");
  }
  if (!outer.found) {
    if (hole.found) {
      out.centre_um = {out.firing_pin_centre_x_um, out.firing_pin_centre_y_um};
      out.notes.push_back("centre_um is the firing-pin hole's centre");
    } else {
      const cv::Moments mo = cv::moments(m, true);
      out.centre_um = {mo.m10 / mo.m00 * ws, mo.m01 / mo.m00 * ws};
      out.notes.push_back("centre_um is the centroid of the kept data");
    }
  }
  return out;
}

}  // namespace toolmark
