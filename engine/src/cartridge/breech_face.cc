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

#include "cartridge/breech_face_internal.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace detail::breech_face {
namespace {

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

/// The working grid's size (cells of o.spacing_um), once the scan and the
/// options are checked.
cv::Size CheckedGrid(const Surface& surface, const BreechFaceOptions& o, const cv::Mat* user_mask) {
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

  return {cols, rows};
}

/// The scan's values, NaN where missing or outside the user mask; a 2D
/// image's clipped points made missing.
cv::Mat ScanValues(const Surface& surface, const cv::Mat* user_mask, bool heights, BreechFace* out) {
  cv::Mat v = surface.values.clone();
  for (int r = 0; r < v.rows; ++r) {
    double* row = v.ptr<double>(r);
    for (int c = 0; c < v.cols; ++c)
      if (!std::isfinite(row[c])) row[c] = kNaN;  // ±inf too
  }
  if (user_mask) {
    v.setTo(kNaN, *user_mask == 0);
    out->notes.push_back("user mask given: ROI detection skipped");
  }
  if (!heights) {
    out->clipped_points = RemoveClipped(&v);
    if (out->clipped_points > 0)
      out->notes.push_back(
          Format("2D image: %.0f points at a full-scale grey level (saturated or black) "
                 "made missing",
                 out->clipped_points));
  }
  Check(cv::countNonZero(FiniteMask(v)) >= kMinValidPoints,
        user_mask ? "breech face: no valid data inside the user mask"
                  : "breech face: the scan has no valid data");

  return v;
}

/// Steps 1 and 2, at the scan's spacing.
void LevelAndDespike(double sx, double sy, const BreechFaceOptions& o, bool heights, cv::Mat* v_,
                     BreechFace* out) {
  cv::Mat& v = *v_;
  // 1. Leveling.
  const Plane plane = FitPlane(v, sx, sy, o.level_inlier_um);
  SubtractPlane(plane, sx, sy, &v);
  out->plane_slope_x = plane.bx;
  out->plane_slope_y = plane.by;
  if (heights) {
    out->plane_tilt_deg = std::atan(std::hypot(plane.bx, plane.by)) * 180 / M_PI;
  } else {
    out->notes.push_back(
        Format("2D intensity image: leveling removed an illumination gradient of %.3g grey "
               "levels per mm; values are grey levels",
               1000 * std::hypot(plane.bx, plane.by)));
  }

  // 2. Spikes.
  const double spacing = 0.5 * (sx + sy);
  const int half = std::clamp(static_cast<int>(std::lround(0.5 * o.spike_window_um / spacing)), 1, 2);
  out->spikes_removed =
      RemoveSpikes(&v, 2 * half + 1, o.spike_sigma, heights ? kSpikeSigmaFloorUm : kSpikeSigmaFloorGrey,
                   &out->spike_sigma_value);
}

/// Step 3, at the scan's spacing; *vm (v·m) and *m_scan (m) are kept for the
/// resampling.
void LowPassScan(double lambda_s_um, double sx, double sy, cv::Mat* v_, cv::Mat* vm_, cv::Mat* m_scan_) {
  cv::Mat& v = *v_;
  // 3. λs low-pass at the scan's spacing (normalised convolution; v·m and m
  // are kept for the resampling).
  cv::Mat& vm = *vm_;
  cv::Mat& m_scan = *m_scan_;
  vm.create(v.size(), CV_64F);
  m_scan.create(v.size(), CV_64F);
  for (int r = 0; r < v.rows; ++r) {
    const double* z = v.ptr<double>(r);
    auto *a = vm.ptr<double>(r), *w = m_scan.ptr<double>(r);
    for (int c = 0; c < v.cols; ++c) {
      const bool finite = std::isfinite(z[c]);
      a[c] = finite ? z[c] : 0.0;
      w[c] = finite ? 1.0 : 0.0;
    }
  }
  const double sigma_s = detail::GaussianSigmaForCutoff(lambda_s_um);
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
}

/// The region of interest's circles (or the user's mask, as roi).
struct Region {
  CircleFit outer, hole;
  cv::Mat roi;
};

/// Step 5, on the working grid v (its finite cells: valid).
Region FindRegion(const cv::Mat& v, const cv::Mat& valid, const Surface& surface, const BreechFaceOptions& o,
                  const cv::Mat* user_mask, BreechFace* out) {
  const double sx = surface.spacing_x_um, sy = surface.spacing_y_um, ws = o.spacing_um;
  const int cols = v.cols, rows = v.rows;
  const bool heights = surface.kind == SurfaceKind::kHeight;
  // 5. Region of interest.
  const double min_hole_cells = M_PI * std::pow(kMinFiringPinRadiusUm / ws, 2);
  Region g;
  CircleFit& outer = g.outer;
  CircleFit& hole = g.hole;
  cv::Mat& roi = g.roi;
  if (user_mask) {
    cv::Mat keep, resized;
    cv::Mat(*user_mask != 0).convertTo(keep, CV_64F, 1.0 / 255);
    keep = keep(cv::Rect(0, 0, std::min(keep.cols, static_cast<int>(std::lround(cols * ws / sx))),
                         std::min(keep.rows, static_cast<int>(std::lround(rows * ws / sy)))));
    cv::resize(keep, resized, cv::Size(cols, rows), 0, 0,
               sx < ws && sy < ws ? cv::INTER_AREA : cv::INTER_LINEAR);
    roi = resized >= 0.5;
  } else if (o.detect_roi && !heights) {
    FindCirclesFromGreyLevels(v, ws, &outer, &hole, out);
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
      out->firing_pin_from_depth = 2 * inside_valid > inside_cells;
    }
  }
  out->outer_found = outer.found;
  out->firing_pin_found = hole.found;

  return g;
}

/// Step 6: the λc high-pass over the region, recomputed once the margins of
/// edges that show artefacts are dropped; *m_out: the cells it covers.
cv::Mat HighPassInRegion(const cv::Mat& v, const cv::Mat& valid, const BreechFaceOptions& o,
                         const cv::Mat* user_mask, Region* region, cv::Mat* m_out, BreechFace* out) {
  const CircleFit& outer = region->outer;
  const CircleFit& hole = region->hole;
  cv::Mat& roi = region->roi;
  const double ws = o.spacing_um;
  const int cols = v.cols, rows = v.rows;
  const double sigma_c = detail::GaussianSigmaForCutoff(o.lambda_c_um) / ws;
  cv::Mat& m = *m_out;
  cv::Mat filtered;
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
      out->outer_edge_ratio = ratio(band);
      out->outer_margin_applied = !o.adaptive_margins || out->outer_edge_ratio > kEdgeArtefactRatio;
      out->notes.push_back(Format(out->outer_margin_applied
                                      ? "outer edge: the band inside it is %.2f x as rough as the face: "
                                        "%g um margin dropped"
                                      : "outer edge: the band inside it is %.2f x as rough as the face "
                                        "(already cropped): no margin dropped",
                                  out->outer_edge_ratio, o.edge_margin_um));
    }
    if (hole.found && pin_margin > 0) {
      const double band = AbsQ95(
          filtered, [&](int r, int c) { return Distance(c, r, hole.circle) <= hole.circle.r + pin_margin; });
      out->firing_pin_edge_ratio = ratio(band);
      out->firing_pin_margin_applied = !o.adaptive_margins || out->firing_pin_edge_ratio > kEdgeArtefactRatio;
      out->notes.push_back(Format(out->firing_pin_margin_applied
                                      ? "firing-pin hole: the band around it is %.2f x as rough as the face: "
                                        "%g um margin dropped"
                                      : "firing-pin hole: the band around it is %.2f x as rough as the face "
                                        "(already cropped): no margin dropped",
                                  out->firing_pin_edge_ratio, o.firing_pin_margin_um));
    }
    if (out->outer_margin_applied || out->firing_pin_margin_applied) {
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
          roi.at<std::uint8_t>(r, c) = in_roi(r, c, out->outer_margin_applied ? edge_margin : -1.0,
                                              out->firing_pin_margin_applied ? pin_margin : -1.0)
                                           ? 255
                                           : 0;
      m = valid & roi;
      filtered = HighPass(v, m, sigma_c);
    }
    if (o.detect_roi && !outer.found)
      out->notes.push_back("no outer primer edge found: nothing removed outside");
    if (o.detect_roi && !hole.found) out->notes.push_back("no firing-pin hole found: none removed");
    if (!o.detect_roi) out->notes.push_back("ROI detection off: all valid data kept");
  }
  return filtered;
}
}  // namespace
}  // namespace detail::breech_face

BreechFace PreprocessBreechFace(const Surface& surface, const BreechFaceOptions& o,
                                const cv::Mat* user_mask) {
  using namespace detail::breech_face;  // NOLINT(build/namespaces): the steps of this file
  const cv::Size cells = CheckedGrid(surface, o, user_mask);
  const double sx = surface.spacing_x_um, sy = surface.spacing_y_um, ws = o.spacing_um;
  const int cols = cells.width, rows = cells.height;
  const bool heights = surface.kind == SurfaceKind::kHeight;
  Check(heights || (o.intensity_lambda_s_um >= 0 && o.lambda_c_um > o.intensity_lambda_s_um),
        "breech face: invalid options (intensity_lambda_s_um)");
  BreechFace out;
  cv::Mat v = ScanValues(surface, user_mask, heights, &out);
  LevelAndDespike(sx, sy, o, heights, &v, &out);
  cv::Mat vm, m_scan;
  LowPassScan(heights ? o.lambda_s_um : o.intensity_lambda_s_um, sx, sy, &v, &vm, &m_scan);
  // 4. Working grid.
  const Resampled grid = Resample(v, vm, m_scan, sx, sy, ws, cols, rows, o.min_valid_fraction);
  vm.release();
  m_scan.release();
  v = grid.values;
  const cv::Mat valid = FiniteMask(v);
  Check(cv::countNonZero(valid) > 0, "breech face: no working cell has enough valid data");

  Region region = FindRegion(v, valid, surface, o, user_mask, &out);
  cv::Mat m;
  const cv::Mat filtered = HighPassInRegion(v, valid, o, user_mask, &region, &m, &out);
  Check(cv::countNonZero(m) > 0, "breech face: no valid data left in the region of interest");

  const CircleFit& outer = region.outer;
  const CircleFit& hole = region.hole;
  const cv::Mat& roi = region.roi;
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
