// Congruent Matching Cells. See docs/cmc.md.
//
// Per direction (cells of the reference R registered in the other surface O):
//   1. Coarse registration over the full circle: the areal masked NCC
//      (areal_registration.h) on a registration_spacing_um grid, every 6° and
//      then in 1.5° steps ±6° around the best coarse_candidates (FFTs over
//      all translations), gives coarse_candidates distinct rotations θ₀
//      (≥ 12° apart) with translations t₀, where
//      p_R = Rot(θ)(p_O − c_O) + c_R + t (c: centre of each scanned grid).
//      Each is screened by step 2 at θ₀ alone (forward); the best
//      refined_candidates go through step 2 over the angle range in both
//      directions.
//   2. For θ in θ₀ ± angle_half_range_deg (angle_step_deg steps), O is warped
//      into R's frame; every reference cell (cells_per_side² cells over the
//      bounding box of R's valid data, used when ≥ min_cell_valid of it is
//      valid) finds its best masked normalised cross-correlation within
//      ± search_radius_um of the place (θ, t₀) predicts (six cv::matchTemplate
//      correlations: values, squares and masks, so missing points count
//      exactly; the overlap must be ≥ half the cell's valid points).
//   3. Congruence at θ: the cells with ccf ≥ ccf_threshold, whose offset lies
//      within translation_tolerance_um of those cells' median offset. The θ
//      with the most congruent cells wins (ties: higher mean ccf, then the
//      smaller |θ − θ₀|, then the lower θ).
// Both directions are computed (the backward one from the forward's coarse
// registration inverted); the CMC count is the smaller of the two counts.
#include "toolmark/engine/cmc.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "areal_registration.h"
#include "cartridge/cmc_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

/// A working grid: values (0 where missing) and a 0/1 mask, CV_32F.
struct Grid {
  cv::Mat values, mask;
  double spacing = 0;
  cv::Point2d centre;  ///< centre of the scanned grid, pixels
};

Grid ToGrid(const Surface& s) {
  Grid g;
  g.spacing = s.spacing_x_um;
  g.values = cv::Mat::zeros(s.values.size(), CV_32F);
  g.mask = cv::Mat::zeros(s.values.size(), CV_32F);
  for (int y = 0; y < s.values.rows; ++y)
    for (int x = 0; x < s.values.cols; ++x) {
      const double v = s.values.at<double>(y, x);
      if (!std::isfinite(v)) continue;
      g.values.at<float>(y, x) = static_cast<float>(v);
      g.mask.at<float>(y, x) = 1.0f;
    }
  g.centre = {0.5 * (s.values.cols - 1), 0.5 * (s.values.rows - 1)};
  return g;
}

struct Registration {
  double theta_deg = 0;
  cv::Point2d t_px;  ///< translation in reference pixels
};

/// O warped into R's frame, padded by `pad` pixels on every side.
Grid WarpInto(const Grid& other, const Grid& ref, const Registration& reg, int pad) {
  const double rad = reg.theta_deg * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  // q = Rot(θ)(p − c_O) + c_R + t + pad
  const double tx = ref.centre.x + reg.t_px.x + pad - (c * other.centre.x - s * other.centre.y);
  const double ty = ref.centre.y + reg.t_px.y + pad - (s * other.centre.x + c * other.centre.y);
  const cv::Matx23d forward(c, -s, tx, s, c, ty);
  const cv::Size size(ref.values.cols + 2 * pad, ref.values.rows + 2 * pad);
  cv::Mat weighted, mask;
  cv::warpAffine(other.values.mul(other.mask), weighted, forward, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 0);
  cv::warpAffine(other.mask, mask, forward, size, cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  Grid out;
  out.spacing = ref.spacing;
  out.values = cv::Mat::zeros(size, CV_32F);
  out.mask = cv::Mat::zeros(size, CV_32F);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const float m = mask.at<float>(y, x);
      if (m < 0.5f) continue;
      out.values.at<float>(y, x) = weighted.at<float>(y, x) / m;
      out.mask.at<float>(y, x) = 1.0f;
    }
  return out;
}

struct CellRect {
  int row, col;
  cv::Rect rect;
  double valid_fraction;
};

std::vector<CellRect> Cells(const Grid& ref, const CmcOptions& o) {
  cv::Mat nonzero;
  cv::findNonZero(ref.mask > 0.5f, nonzero);
  std::vector<CellRect> cells;
  if (nonzero.empty()) return cells;
  const cv::Rect box = cv::boundingRect(nonzero);
  const int n = o.cells_per_side;
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      const int x0 = box.x + c * box.width / n, x1 = box.x + (c + 1) * box.width / n;
      const int y0 = box.y + r * box.height / n, y1 = box.y + (r + 1) * box.height / n;
      if (x1 - x0 < 3 || y1 - y0 < 3) continue;
      const cv::Rect rect(x0, y0, x1 - x0, y1 - y0);
      const double valid = cv::countNonZero(ref.mask(rect) > 0.5f) / static_cast<double>(rect.area());
      if (valid >= o.min_cell_valid) cells.push_back({r, c, rect, valid});
    }
  }
  return cells;
}

/// The warped other with the integral images of its values, squares and mask
/// (box sums for cells without missing points).
struct Warped {
  Grid grid;
  cv::Mat sum, sum_squares, sum_mask;  ///< CV_64F integral images
};

Warped WithIntegrals(Grid grid) {
  Warped w;
  w.grid = std::move(grid);
  cv::integral(w.grid.values, w.sum, w.sum_squares, CV_64F, CV_64F);
  cv::integral(w.grid.mask, w.sum_mask, CV_64F);
  return w;
}

double BoxSum(const cv::Mat& integral, int x, int y, int w, int h) {
  return integral.at<double>(y + h, x + w) - integral.at<double>(y, x + w) - integral.at<double>(y + h, x) +
         integral.at<double>(y, x);
}

/// Best masked NCC of one cell within its search window of the warped other.
/// The six overlap sums come from cv::matchTemplate; when the cell has no
/// missing point, the three that only involve the cell's mask are box sums,
/// and when the window has none either, the other two are the cell's totals.
/// Cross-correlation (cv::TM_CCORR) of a small template over an image,
/// summed directly in double: for the quick score's small cells, where
/// matchTemplate's DFT costs more than the sums (float results differ from
/// the DFT's in the last bits; the quick score only orders candidates).
void DirectCcorr(const cv::Mat& image, const cv::Mat& templ, cv::Mat* out) {
  const int rows = image.rows - templ.rows + 1, cols = image.cols - templ.cols + 1;
  out->create(rows, cols, CV_32F);
  std::vector<double> acc(static_cast<std::size_t>(cols));
  for (int y = 0; y < rows; ++y) {
    std::fill(acc.begin(), acc.end(), 0.0);
    // Output columns innermost (contiguous: the compiler vectorises it);
    // every output sums its products in the same (ty, tx) order.
    for (int ty = 0; ty < templ.rows; ++ty) {
      const float* w = templ.ptr<float>(ty);
      const float* row = image.ptr<float>(y + ty);
      for (int tx = 0; tx < templ.cols; ++tx) {
        const double wt = w[tx];
        const float* a = row + tx;
        for (int x = 0; x < cols; ++x) acc[static_cast<std::size_t>(x)] += wt * a[x];
      }
    }
    float* o = out->ptr<float>(y);
    for (int x = 0; x < cols; ++x) o[x] = static_cast<float>(acc[static_cast<std::size_t>(x)]);
  }
}

/// TM_CCORR by matchTemplate, or summed directly (DirectCcorr).
void Ccorr(const cv::Mat& image, const cv::Mat& templ, cv::Mat* out, bool direct) {
  if (direct)
    DirectCcorr(image, templ, out);
  else
    cv::matchTemplate(image, templ, *out, cv::TM_CCORR);
}

CmcCell RegisterCell(const Grid& ref, const Warped& w, const CellRect& cell, int pad, bool direct) {
  CmcCell out;
  out.row = cell.row, out.col = cell.col;
  out.valid_fraction = cell.valid_fraction;
  out.x_um = (cell.rect.x + 0.5 * (cell.rect.width - 1)) * ref.spacing;
  out.y_um = (cell.rect.y + 0.5 * (cell.rect.height - 1)) * ref.spacing;
  out.side_um = 0.5 * (cell.rect.width + cell.rect.height) * ref.spacing;
  const cv::Mat a = ref.values(cell.rect), ma = ref.mask(cell.rect), a2 = a.mul(a);
  const cv::Rect window(cell.rect.x, cell.rect.y, cell.rect.width + 2 * pad, cell.rect.height + 2 * pad);
  const cv::Mat b = w.grid.values(window), mb = w.grid.mask(window);
  const int cell_valid = cv::countNonZero(ma > 0.5f);
  const bool cell_full = cell_valid == cell.rect.area();
  const bool window_full =
      BoxSum(w.sum_mask, window.x, window.y, window.width, window.height) >= window.area() - 0.5;
  const int rows = 2 * pad + 1, cols = 2 * pad + 1;
  cv::Mat sab, sa, saa, sb, sbb, n;
  Ccorr(b, a, &sab, direct);
  if (cell_full) {
    sb.create(rows, cols, CV_32F), sbb.create(rows, cols, CV_32F), n.create(rows, cols, CV_32F);
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x) {
        const int bx = window.x + x, by = window.y + y;
        sb.at<float>(y, x) = static_cast<float>(BoxSum(w.sum, bx, by, cell.rect.width, cell.rect.height));
        sbb.at<float>(y, x) =
            static_cast<float>(BoxSum(w.sum_squares, bx, by, cell.rect.width, cell.rect.height));
        n.at<float>(y, x) = static_cast<float>(BoxSum(w.sum_mask, bx, by, cell.rect.width, cell.rect.height));
      }
  } else {
    Ccorr(b, ma, &sb, direct);
    Ccorr(b.mul(b), ma, &sbb, direct);
    Ccorr(mb, ma, &n, direct);
  }
  if (window_full) {
    sa = cv::Mat(rows, cols, CV_32F, cv::Scalar(cv::sum(a)[0]));
    saa = cv::Mat(rows, cols, CV_32F, cv::Scalar(cv::sum(a2)[0]));
  } else {
    Ccorr(mb, a, &sa, direct);
    Ccorr(mb, a2, &saa, direct);
  }
  const double min_overlap = std::max(9.0, 0.5 * cell_valid);
  double best = -2;
  cv::Point at(pad, pad);
  for (int y = 0; y < n.rows; ++y)
    for (int x = 0; x < n.cols; ++x) {
      const double count = std::round(n.at<float>(y, x));
      if (count < min_overlap) continue;
      const double sa_ = sa.at<float>(y, x), sb_ = sb.at<float>(y, x);
      const double va = saa.at<float>(y, x) - sa_ * sa_ / count, vb = sbb.at<float>(y, x) - sb_ * sb_ / count;
      if (va <= 1e-6 * saa.at<float>(y, x) || vb <= 1e-6 * sbb.at<float>(y, x)) continue;
      const double r = std::clamp((sab.at<float>(y, x) - sa_ * sb_ / count) / std::sqrt(va * vb), -1.0, 1.0);
      if (r > best) best = r, at = {x, y};
    }
  out.ccf = best < -1 ? -1.0 : best;
  out.dx_um = (at.x - pad) * ref.spacing;
  out.dy_um = (at.y - pad) * ref.spacing;
  return out;
}

/// Congruent cells at one rotation (sets `congruent`), and their count.
int Congruence(std::vector<CmcCell>* cells, const CmcOptions& o) {
  std::vector<double> xs, ys;
  for (const CmcCell& c : *cells)
    if (c.ccf >= o.ccf_threshold) xs.push_back(c.dx_um), ys.push_back(c.dy_um);
  if (xs.empty()) return 0;
  const double mx = detail::Median(&xs), my = detail::Median(&ys);
  int count = 0;
  for (CmcCell& c : *cells) {
    c.congruent = c.ccf >= o.ccf_threshold && std::abs(c.dx_um - mx) <= o.translation_tolerance_um &&
                  std::abs(c.dy_um - my) <= o.translation_tolerance_um;
    count += c.congruent;
  }
  return count;
}

double MeanCongruentCcf(const std::vector<CmcCell>& cells) {
  double sum = 0;
  int n = 0;
  for (const CmcCell& c : cells)
    if (c.congruent) sum += c.ccf, ++n;
  return n ? sum / n : 0.0;
}

/// Registers the reference's cells in `other` at the coarse registration's
/// angle (refine = false) or at every angle within ± angle_half_range_deg.
CmcDirection RegisterDirection(const Grid& ref, const Grid& other, const Registration& coarse,
                               const CmcOptions& o, bool refine, bool direct = false) {
  const std::vector<CellRect> cells = Cells(ref, o);
  const int pad = std::max(1, static_cast<int>(std::lround(o.search_radius_um / ref.spacing)));
  const int steps =
      refine ? static_cast<int>(std::floor(o.angle_half_range_deg / o.angle_step_deg + 1e-9)) : 0;
  std::vector<double> angles;
  for (int k = -steps; k <= steps; ++k) angles.push_back(coarse.theta_deg + k * o.angle_step_deg);
  std::vector<CmcDirection> at(angles.size());
  tbb::parallel_for(std::size_t{0}, angles.size(), [&](std::size_t k) {
    const Registration reg{angles[k], coarse.t_px};
    const Warped warped = WithIntegrals(WarpInto(other, ref, reg, pad));
    CmcDirection& d = at[k];
    d.rotation_deg = angles[k];
    d.cells_used = static_cast<int>(cells.size());
    for (const CellRect& cell : cells) d.cells.push_back(RegisterCell(ref, warped, cell, pad, direct));
    d.count = Congruence(&d.cells, o);
  });
  std::size_t best = 0;
  for (std::size_t k = 1; k < at.size(); ++k) {
    const double mk = MeanCongruentCcf(at[k].cells), mb = MeanCongruentCcf(at[best].cells);
    const double dk = std::abs(angles[k] - coarse.theta_deg), db = std::abs(angles[best] - coarse.theta_deg);
    if (at[k].count > at[best].count || (at[k].count == at[best].count && (mk > mb || (mk == mb && dk < db))))
      best = k;
  }
  CmcDirection d = std::move(at[best]);
  // Registration of the whole surface: the coarse translation corrected by the
  // congruent cells' median offset (content found dx further on in the warped
  // other means t = t₀ − dx); each cell's match in the other's grid.
  std::vector<double> xs, ys;
  for (const CmcCell& c : d.cells)
    if (c.congruent) xs.push_back(c.dx_um), ys.push_back(c.dy_um);
  const double mx = xs.empty() ? 0.0 : detail::Median(&xs), my = ys.empty() ? 0.0 : detail::Median(&ys);
  d.shift_x_um = coarse.t_px.x * ref.spacing - mx;
  d.shift_y_um = coarse.t_px.y * ref.spacing - my;
  const double rad = d.rotation_deg * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  for (CmcCell& cell : d.cells) {
    // p_O = Rot(−θ)(p_R − c_R − t) + c_O, in pixels, with t including the cell's own offset.
    const double qx = (cell.x_um + cell.dx_um) / ref.spacing - ref.centre.x - coarse.t_px.x;
    const double qy = (cell.y_um + cell.dy_um) / ref.spacing - ref.centre.y - coarse.t_px.y;
    cell.other_x_um = (c * qx + s * qy + other.centre.x) * ref.spacing;
    cell.other_y_um = (-s * qx + c * qy + other.centre.y) * ref.spacing;
  }
  d.rotation_deg = std::remainder(d.rotation_deg, 360.0);
  return d;
}

/// The inverse of p_R = Rot(θ)(p_O − c_O) + c_R + t: p_O = Rot(−θ)(p_R − c_R) + c_O − Rot(−θ) t.
Registration Inverse(const Registration& r) {
  const double rad = -r.theta_deg * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  return {-r.theta_deg, {-(c * r.t_px.x - s * r.t_px.y), -(s * r.t_px.x + c * r.t_px.y)}};
}

/// Correlation of the whole registered surfaces: O warped by `reg` into R's
/// frame, each of R's cells correlated with what lies under it there (no
/// search of its own: every cell at the one registration); the mean over
/// the cells with at least half their points covered, weighted by the points.
/// Second: the share of R's valid points in those cells that O covers.
std::pair<double, double> SurfaceCorrelation(const Grid& ref, const Grid& other, const Registration& reg,
                                             const std::vector<CmcCell>& cells) {
  const Grid w = WarpInto(other, ref, reg, 0);
  double sum = 0, weight = 0, covered = 0, valid = 0;
  for (const CmcCell& c : cells) {
    const int half = static_cast<int>(std::lround(0.5 * c.side_um / ref.spacing));
    const int cx = static_cast<int>(std::lround(c.x_um / ref.spacing));
    const int cy = static_cast<int>(std::lround(c.y_um / ref.spacing));
    const cv::Rect rect = cv::Rect(cx - half, cy - half, 2 * half + 1, 2 * half + 1) &
                          cv::Rect(0, 0, ref.values.cols, ref.values.rows);
    double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, here = 0;
    for (int y = rect.y; y < rect.y + rect.height; ++y)
      for (int x = rect.x; x < rect.x + rect.width; ++x) {
        if (ref.mask.at<float>(y, x) < 0.5f) continue;
        ++here;
        if (w.mask.at<float>(y, x) < 0.5f) continue;
        const double va = ref.values.at<float>(y, x), vb = w.values.at<float>(y, x);
        n += 1, sa += va, sb += vb, saa += va * va, sbb += vb * vb, sab += va * vb;
      }
    valid += here, covered += n;
    if (n < std::max(9.0, 0.5 * here)) continue;
    const double var_a = saa - sa * sa / n, var_b = sbb - sb * sb / n;
    if (var_a <= 0 || var_b <= 0) continue;
    sum += n * std::clamp((sab - sa * sb / n) / std::sqrt(var_a * var_b), -1.0, 1.0), weight += n;
  }
  return {weight > 0 ? sum / weight : 0.0, valid > 0 ? covered / valid : 0.0};
}

/// The rigid registration (p_R = Rot(θ)(p_O − c_O) + c_R + t) that fits the
/// congruent cells' matches best in least squares (2-D Kabsch), and the RMS
/// distance (µm) of the cells from it. False with fewer than 3 congruent cells.
bool FitCongruentCells(const Grid& ref, const Grid& other, const CmcDirection& d, Registration* fit,
                       double* rms_um) {
  std::vector<cv::Point2d> pr, po;
  for (const CmcCell& c : d.cells)
    if (c.congruent) {
      pr.emplace_back(c.x_um / ref.spacing, c.y_um / ref.spacing);
      po.emplace_back(c.other_x_um / ref.spacing, c.other_y_um / ref.spacing);
    }
  if (pr.size() < 3) return false;
  cv::Point2d mr(0, 0), mo(0, 0);
  for (std::size_t i = 0; i < pr.size(); ++i) mr += pr[i], mo += po[i];
  mr *= 1.0 / static_cast<double>(pr.size()), mo *= 1.0 / static_cast<double>(po.size());
  double sin_sum = 0, cos_sum = 0;
  for (std::size_t i = 0; i < pr.size(); ++i) {
    const cv::Point2d a = po[i] - mo, b = pr[i] - mr;
    cos_sum += a.x * b.x + a.y * b.y, sin_sum += a.x * b.y - a.y * b.x;
  }
  const double theta = std::atan2(sin_sum, cos_sum), c = std::cos(theta), s = std::sin(theta);
  const cv::Point2d om = mo - other.centre;
  fit->theta_deg = theta * 180.0 / CV_PI;
  fit->t_px = mr - ref.centre - cv::Point2d(c * om.x - s * om.y, s * om.x + c * om.y);
  double squares = 0;
  for (std::size_t i = 0; i < pr.size(); ++i) {
    const cv::Point2d o = po[i] - other.centre;
    const cv::Point2d at = cv::Point2d(c * o.x - s * o.y, s * o.x + c * o.y) + ref.centre + fit->t_px;
    squares += (at - pr[i]).dot(at - pr[i]);
  }
  *rms_um = std::sqrt(squares / static_cast<double>(pr.size())) * ref.spacing;
  return true;
}

/// The features behind the count (CmcFeatures) of a finished comparison.
CmcFeatures MeasureFeatures(const Grid& ga, const Grid& gb, const CmcResult& r) {
  CmcFeatures f;
  std::vector<double> all;
  double congruent_sum = 0, squares = 0;
  int congruent = 0;
  for (const CmcDirection* d : {&r.forward, &r.backward}) {
    std::vector<double> xs, ys;
    for (const CmcCell& c : d->cells) {
      all.push_back(c.ccf);
      if (!c.congruent) continue;
      congruent_sum += c.ccf, ++congruent;
      xs.push_back(c.dx_um), ys.push_back(c.dy_um);
    }
    if (xs.empty()) continue;
    std::vector<double> mx = xs, my = ys;
    const double cx = detail::Median(&mx), cy = detail::Median(&my);
    for (std::size_t i = 0; i < xs.size(); ++i)
      squares += (xs[i] - cx) * (xs[i] - cx) + (ys[i] - cy) * (ys[i] - cy);
  }
  f.congruent_ccf_mean = congruent ? congruent_sum / congruent : 0.0;
  f.translation_rms_um = congruent ? std::sqrt(squares / congruent) : 0.0;
  f.cell_ccf_median = all.empty() ? 0.0 : detail::Median(&all);
  f.rotation_disagreement_deg =
      std::abs(std::remainder(r.forward.rotation_deg + r.backward.rotation_deg, 360.0));
  // Both directions (A's cells in B, B's in A), averaged: the same pair
  // gives the same features whichever scan is A.
  int fitted = 0;
  for (const auto& [d, ref, other] : {std::tuple{&r.forward, &ga, &gb}, std::tuple{&r.backward, &gb, &ga}}) {
    Registration at{d->rotation_deg, {d->shift_x_um / ref->spacing, d->shift_y_um / ref->spacing}};
    double rms = 0;
    if (FitCongruentCells(*ref, *other, *d, &at, &rms)) f.fit_rms_um += rms, ++fitted;
    const auto [ccf, overlap] = SurfaceCorrelation(*ref, *other, at, d->cells);
    f.surface_ccf += 0.5 * ccf;
    f.surface_overlap += 0.5 * overlap;
  }
  if (fitted > 0) f.fit_rms_um /= fitted;
  return f;
}

}  // namespace

namespace detail {

CmcPrepared PrepareCmc(const Surface& surface, const CmcOptions& options) {
  CartridgeCase item = PrepareCartridgeCase(surface, options);
  CmcPrepared p;
  p.face = std::move(item.face);
  p.firing_pin = std::move(item.firing_pin);
  p.registration = MakeArealComparator(options.registration_spacing_um)->Prepare(p.face.surface);
  p.polar = MakePolarSignature(p.face);
  p.embedding = BreechFaceEmbedding(p.polar);
  return p;
}

namespace {

/// The coarse registrations a comparison screens: the polar signatures' best
/// rotations with the centres aligned (CmcOptions::polar_coarse), else — or
/// where a scan has no usable ring — the areal full-circle registration's.
std::vector<Registration> CoarseRegistrations(const CmcPrepared& a, const CmcPrepared& b, const Grid& ga,
                                              const Grid& gb, const CmcOptions& options, int count) {
  std::vector<Registration> out;
  if (options.polar_coarse) {
    for (const auto& rotation : PolarRotations(a.polar, b.polar, count, 12.0)) {
      // B's marks sit β further round than A's, so B maps into A by θ = −β,
      // and the centres must meet: t = centre_A − c_A − Rot(θ)(centre_B − c_B).
      const double theta = -rotation.first, rad = theta * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
      if (std::abs(theta) > options.max_rotation_deg + 1e-9) continue;
      const cv::Point2d ob = b.polar.centre_px - gb.centre;
      out.push_back(
          {theta, a.polar.centre_px - ga.centre - cv::Point2d(c * ob.x - s * ob.y, s * ob.x + c * ob.y)});
    }
  }
  if (out.empty()) {
    for (const Comparison& r :
         RegisterArealCandidates(*a.registration, *b.registration, count, true, options.max_rotation_deg))
      out.push_back({r.rotation_deg, {r.shift_x_um / options.spacing_um, r.shift_y_um / options.spacing_um}});
  }
  return out;
}

}  // namespace

QuickCmc QuickCmcCount(const CmcPrepared& a, const CmcPrepared& b, const CmcOptions& options) {
  QuickCmc best;
  const Grid ga = ToGrid(a.face.surface), gb = ToGrid(b.face.surface);
  bool first = true;
  for (const Registration& reg : CoarseRegistrations(a, b, ga, gb, options, options.coarse_candidates)) {
    // The quick screen's cells are small (50 µm grid): their correlations are summed directly.
    const CmcDirection d = RegisterDirection(ga, gb, reg, options, false, true);
    if (first || d.count > best.count) best = {d.count, std::remainder(reg.theta_deg, 360.0)};
    first = false;
  }
  return best;
}

CmcResult CompareCmcPrepared(const CmcPrepared& a, const CmcPrepared& b, const CmcOptions& options) {
  Check(std::abs(a.face.surface.spacing_x_um - b.face.surface.spacing_x_um) < 1e-9 &&
            std::abs(a.face.surface.spacing_x_um - options.spacing_um) < 1e-9,
        "CMC: breech faces must be preprocessed at the CMC working spacing");
  const Grid ga = ToGrid(a.face.surface), gb = ToGrid(b.face.surface);
  // Screening: every coarse candidate's cells at its own angle (forward);
  // the best `refined_candidates` are refined over ± angle_half_range_deg in
  // both directions, and the one with the most CMCs wins (ties: the earlier,
  // i.e. better screened, candidate).
  const std::vector<Registration> forward =
      CoarseRegistrations(a, b, ga, gb, options, options.coarse_candidates);
  std::vector<std::pair<int, std::size_t>> screened;  // (−count, candidate index)
  for (std::size_t k = 0; k < forward.size(); ++k)
    screened.emplace_back(-RegisterDirection(ga, gb, forward[k], options, false).count, k);
  std::stable_sort(screened.begin(), screened.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  CmcResult r;
  std::size_t won = 0;
  for (std::size_t i = 0; i < screened.size() && static_cast<int>(i) < options.refined_candidates; ++i) {
    const Registration& reg = forward[screened[i].second];
    CmcResult candidate;
    candidate.forward = RegisterDirection(ga, gb, reg, options, true);
    candidate.backward = RegisterDirection(gb, ga, Inverse(reg), options, true);
    candidate.count = std::min(candidate.forward.count, candidate.backward.count);
    if (i == 0 || candidate.count > r.count) r = std::move(candidate), won = i;
  }
  r.features = MeasureFeatures(ga, gb, r);
  for (std::size_t i = 0; i < screened.size(); ++i) {
    if (i == won)
      r.features.screen_count = -screened[i].first;
    else
      r.features.rival_count = std::max(r.features.rival_count, -screened[i].first);
  }
  r.score = r.count;
  if (options.use_firing_pin && a.firing_pin.present && b.firing_pin.present) {
    // The firing pins, judged against the breech face's rotation: a pin
    // sector counts only where it agrees with the breech face.
    r.firing_pin = CompareFiringPins(a.firing_pin, b.firing_pin, r.forward.rotation_deg, options.firing_pin);
    if (r.firing_pin.compared) r.score += r.firing_pin.congruent_sectors;
  } else {
    r.firing_pin.note = !options.use_firing_pin ? "firing-pin comparison off"
                        : a.firing_pin.present  ? "B: " + b.firing_pin.note
                                                : "A: " + a.firing_pin.note;
  }
  r.identification = r.score >= options.decision_threshold;
  return r;
}

}  // namespace detail

CartridgeCase PrepareCartridgeCase(const Surface& scan, const CmcOptions& options) {
  BreechFaceOptions bo;
  bo.spacing_um = options.spacing_um;
  CartridgeCase c;
  c.face = PreprocessBreechFace(scan, bo);
  if (options.use_firing_pin) c.firing_pin = ExtractFiringPin(scan, c.face, options.firing_pin);
  return c;
}

CmcResult CompareCartridgeCases(const CartridgeCase& a, const CartridgeCase& b, const CmcOptions& options) {
  detail::CmcPrepared pa, pb;
  pa.face = a.face;
  pb.face = b.face;
  pa.firing_pin = a.firing_pin;
  pb.firing_pin = b.firing_pin;
  const auto registrar = detail::MakeArealComparator(options.registration_spacing_um);
  pa.registration = registrar->Prepare(a.face.surface);
  pb.registration = registrar->Prepare(b.face.surface);
  pa.polar = detail::MakePolarSignature(a.face);
  pb.polar = detail::MakePolarSignature(b.face);
  return detail::CompareCmcPrepared(pa, pb, options);
}

CmcResult CompareCmc(const BreechFace& a, const BreechFace& b, const CmcOptions& options) {
  detail::CmcPrepared pa, pb;
  pa.face = a;
  pb.face = b;
  const auto registrar = detail::MakeArealComparator(options.registration_spacing_um);
  pa.registration = registrar->Prepare(a.surface);
  pb.registration = registrar->Prepare(b.surface);
  pa.polar = detail::MakePolarSignature(a);
  pb.polar = detail::MakePolarSignature(b);
  return detail::CompareCmcPrepared(pa, pb, options);
}

}  // namespace toolmark
