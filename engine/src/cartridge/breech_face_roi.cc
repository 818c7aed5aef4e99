// Breech-face preprocessing, step 5: the region of interest (primer edge and
// firing-pin hole from the support of 3D scans or the grey levels of 2D
// images). See breech_face.cc and docs/breech_face.md.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "cartridge/breech_face_internal.h"
#include "toolmark/engine/check.h"

namespace toolmark::detail::breech_face {

// ------------------------------------------------------- region of interest

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
cv::Mat KeepComponents(const cv::Mat& mask, double min_area, const cv::Mat* outside, int* largest) {
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

}  // namespace toolmark::detail::breech_face
