// Areal registration by masked normalised cross-correlation: shared by the
// "baseline" comparator (baseline/, which is this method at 25 µm) and the
// CMC's coarse registration (cartridge/, on its own grid).
//
// Areal marks (breech faces and 2D intensity images)
//   Prepare:
//     1. Resample to a working spacing of 25 µm with cv::resize INTER_AREA,
//        NaN-aware: values·mask and mask are resampled separately and divided;
//        a working cell is valid when at least half of its area was valid.
//     2. Remove the least-squares plane of the valid cells (tilt).
//     3. Gaussian high-pass: subtract a copy smoothed with σ = 250 µm by
//        normalised convolution (G*(v·m) / G*m), so form and waviness do not
//        dominate the correlation.
//     4. Crop to the bounding box of the valid cells; keep values (0 where
//        missing) and the 0/1 mask.
//     Intensity images go through the same pipeline: grey levels are treated
//     as heights (the high-pass removes illumination gradients; the masked NCC
//     is invariant to gain and offset).
//   Compare:
//     Rotations of B about the centre of its scanned area: every 6° over 360°,
//     then ±6° in 1.5° steps around the two best coarse angles. For each
//     rotation the masked normalised cross-correlation over every translation
//     whose overlap is at least 30% of the smaller valid area is computed with
//     FFTs (cv::dft) of values, squared values and masks (sums over the
//     overlap of a, b, a², b², ab and the overlap count, each a correlation of
//     zero-padded arrays). Score = the maximum NCC, in [-1, 1] (-1 when no
//     translation is admissible). Rotations run in parallel (TBB); the best is
//     then taken in a fixed order, ties going to the lowest angle in [0°, 360°)
//     and then to the lowest (row, column) shift, so the result does not
//     depend on the thread count.
//   Registration: B, rotated by rotation_deg (counter-clockwise in the (x, y)
//   frame of the surface) about the centre of its scanned area, has that
//   centre at A's centre + (shift_x_um, shift_y_um). rotation_deg in
//   (-180, 180]; the shift is quantised to the 25 µm working grid.
//
#include "areal_registration.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>
#include <vector>

#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

// ------------------------------------------------------------ areal: prepare

constexpr double kWorkingSpacingUm = 25.0;   ///< areal working grid spacing of "baseline", µm
constexpr double kHighPassSigmaUm = 250.0;   ///< σ of the removed smooth form, µm
constexpr double kMinOverlapFraction = 0.3;  ///< of the smaller valid area
constexpr int kMinValidCells = 64;           ///< valid working cells needed
constexpr double kAngleStepDeg = 1.5;        ///< fine rotation step
constexpr int kAngleSteps = 240;             ///< 360° / kAngleStepDeg
constexpr int kCoarseEvery = 4;              ///< coarse step = 4 × 1.5° = 6°
constexpr int kRefineCandidates = 2;         ///< coarse angles refined
constexpr int kRefineHalfSteps = 4;          ///< refine ±4 × 1.5° = ±6°

/// A working grid: values (0 where missing) and a 0/1 mask, both CV_64FC1.
struct MaskedGrid {
  cv::Mat values;
  cv::Mat mask;
};

/// An areal mark prepared for Compare.
class ArealMark : public PreparedMark {
 public:
  MaskedGrid grid;                        ///< high-passed, cropped working grid
  cv::Point2d centre;                     ///< centre of the scanned area in grid (cell) coordinates
  int valid_cells = 0;                    ///< number of valid cells in grid
  double spacing_um = kWorkingSpacingUm;  ///< of grid
};

/// Splits a surface into values (0 where NaN) and a 0/1 mask.
MaskedGrid SplitValid(const cv::Mat& values) {
  MaskedGrid g{cv::Mat::zeros(values.size(), CV_64F), cv::Mat::zeros(values.size(), CV_64F)};
  for (int y = 0; y < values.rows; ++y) {
    const double* in = values.ptr<double>(y);
    double* v = g.values.ptr<double>(y);
    double* m = g.mask.ptr<double>(y);
    for (int x = 0; x < values.cols; ++x) {
      if (!std::isfinite(in[x])) continue;
      v[x] = in[x];
      m[x] = 1.0;
    }
  }
  return g;
}

/// Resamples a masked grid to `size` (INTER_AREA), NaN-aware; a cell is valid
/// when at least half of its area was.
MaskedGrid ResampleMasked(const MaskedGrid& in, cv::Size size) {
  MaskedGrid area;
  cv::resize(in.values, area.values, size, 0, 0, cv::INTER_AREA);
  cv::resize(in.mask, area.mask, size, 0, 0, cv::INTER_AREA);
  MaskedGrid out{cv::Mat::zeros(size, CV_64F), cv::Mat::zeros(size, CV_64F)};
  for (int y = 0; y < size.height; ++y) {
    for (int x = 0; x < size.width; ++x) {
      const double m = area.mask.at<double>(y, x);
      if (m < 0.5) continue;
      out.values.at<double>(y, x) = area.values.at<double>(y, x) / m;
      out.mask.at<double>(y, x) = 1.0;
    }
  }
  return out;
}

/// Subtracts the least-squares plane of the valid cells (in place).
void RemovePlane(MaskedGrid* g) {
  std::array<double, 9> ata{};
  std::array<double, 3> atb{};
  const double cx = 0.5 * (g->values.cols - 1), cy = 0.5 * (g->values.rows - 1);
  for (int y = 0; y < g->values.rows; ++y)
    for (int x = 0; x < g->values.cols; ++x)
      if (g->mask.at<double>(y, x) > 0)
        Accumulate3({1.0, x - cx, y - cy}, g->values.at<double>(y, x), &ata, &atb);
  const std::array<double, 3> p = SolveNormal3(ata, atb);
  for (int y = 0; y < g->values.rows; ++y)
    for (int x = 0; x < g->values.cols; ++x)
      if (g->mask.at<double>(y, x) > 0)
        g->values.at<double>(y, x) -= p[0] + p[1] * (x - cx) + p[2] * (y - cy);
}

/// Gaussian smoothing with zero outside the grid; σ in cells.
cv::Mat GaussianZeroBorder(const cv::Mat& src, double sigma) {
  const std::vector<double> k = GaussianKernel1d(sigma);
  const cv::Mat kernel(static_cast<int>(k.size()), 1, CV_64F, const_cast<double*>(k.data()));
  cv::Mat out;
  cv::sepFilter2D(src, out, CV_64F, kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_CONSTANT);
  return out;
}

/// Subtracts the normalised-convolution Gaussian smooth (σ in cells) from the
/// valid cells (in place); missing cells stay 0.
void HighPass(MaskedGrid* g, double sigma) {
  const cv::Mat num = GaussianZeroBorder(g->values, sigma);
  const cv::Mat den = GaussianZeroBorder(g->mask, sigma);
  for (int y = 0; y < g->values.rows; ++y)
    for (int x = 0; x < g->values.cols; ++x) {
      if (g->mask.at<double>(y, x) <= 0) continue;
      const double d = den.at<double>(y, x);
      if (d > 1e-9) g->values.at<double>(y, x) -= num.at<double>(y, x) / d;
    }
}

/// Bounding box of the valid cells (empty when none).
cv::Rect ValidBounds(const cv::Mat& mask) {
  cv::Mat nonzero;
  cv::findNonZero(mask > 0, nonzero);
  return nonzero.empty() ? cv::Rect() : cv::boundingRect(nonzero);
}

std::shared_ptr<const PreparedMark> PrepareAreal(const Surface& surface, double spacing_um) {
  Check(surface.values.type() == CV_64FC1 && !surface.values.empty(),
        "baseline comparator: surface has no height values");
  Check(surface.spacing_x_um > 0 && surface.spacing_y_um > 0,
        "baseline comparator: surface spacing must be positive");
  const cv::Size size(
      std::max(1, static_cast<int>(std::lround(surface.SizeX() * surface.spacing_x_um / spacing_um))),
      std::max(1, static_cast<int>(std::lround(surface.SizeY() * surface.spacing_y_um / spacing_um))));
  MaskedGrid g = ResampleMasked(SplitValid(surface.values), size);
  const int valid = cv::countNonZero(g.mask);
  Check(valid >= kMinValidCells, "baseline comparator: too few valid points (" + std::to_string(valid) +
                                     " cells of " + std::to_string(static_cast<int>(spacing_um)) +
                                     " um, need " + std::to_string(kMinValidCells) + ")");
  RemovePlane(&g);
  HighPass(&g, kHighPassSigmaUm / spacing_um);
  const cv::Rect box = ValidBounds(g.mask);
  auto mark = std::make_shared<ArealMark>();
  mark->grid = {g.values(box).clone(), g.mask(box).clone()};
  mark->centre = {0.5 * (size.width - 1) - box.x, 0.5 * (size.height - 1) - box.y};
  mark->valid_cells = valid;
  mark->spacing_um = spacing_um;
  return mark;
}

// ------------------------------------------------------------ areal: compare

/// CCS-packed real DFTs of a masked grid zero-padded to a common size.
struct Spectra {
  cv::Mat values;   ///< DFT of v
  cv::Mat squares;  ///< DFT of v²
  cv::Mat mask;     ///< DFT of m
};

/// Real DFT (single precision: twice as fast, ample for sums over ≥ 30% of a
/// high-passed grid) of src zero-padded to `padded`.
cv::Mat PaddedDft(const cv::Mat& src, cv::Size padded) {
  cv::Mat big = cv::Mat::zeros(padded, CV_32F);
  src.convertTo(big(cv::Rect(0, 0, src.cols, src.rows)), CV_32F);
  cv::Mat out;
  cv::dft(big, out, 0, src.rows);
  return out;
}

Spectra ComputeSpectra(const MaskedGrid& g, cv::Size padded) {
  return {PaddedDft(g.values, padded), PaddedDft(g.values.mul(g.values), padded), PaddedDft(g.mask, padded)};
}

/// Circular cross-correlation r[s] = Σ_x f(x + s)·g(x) from the spectra.
cv::Mat Correlate(const cv::Mat& f_spectrum, const cv::Mat& g_spectrum) {
  cv::Mat product, out;
  cv::mulSpectrums(f_spectrum, g_spectrum, product, 0, /*conjB=*/true);
  cv::dft(product, out, cv::DFT_INVERSE | cv::DFT_SCALE | cv::DFT_REAL_OUTPUT);
  return out;
}

/// The overlap sums of the masked NCC for every circular shift.
struct OverlapSums {
  cv::Mat n, sa, sb, saa, sbb, sab;
};

OverlapSums ComputeOverlapSums(const Spectra& a, const Spectra& b) {
  return {Correlate(a.mask, b.mask),    Correlate(a.values, b.mask),  Correlate(a.mask, b.values),
          Correlate(a.squares, b.mask), Correlate(a.mask, b.squares), Correlate(a.values, b.values)};
}

/// The best translation for one rotation: shift s means B's canvas pixel q
/// lies on A's pixel q + s.
struct ShiftResult {
  double ncc = -2;  ///< below any NCC: no admissible shift
  cv::Point shift;
  double overlap_cells = 0;
};

/// Masked NCC at one circular index, or -2 when the overlap is too small or flat.
double MaskedNcc(const OverlapSums& s, int row, int col, double min_overlap, double* n_out) {
  const double n = std::round(s.n.at<float>(row, col));
  *n_out = n;
  if (n < min_overlap || n < 2) return -2;
  const double sa = double{s.sa.at<float>(row, col)}, sb = double{s.sb.at<float>(row, col)};
  const double va = double{s.saa.at<float>(row, col)} - sa * sa / n;
  const double vb = double{s.sbb.at<float>(row, col)} - sb * sb / n;
  if (va <= 1e-5 * double{s.saa.at<float>(row, col)} || vb <= 1e-5 * double{s.sbb.at<float>(row, col)})
    return -2;
  const double r = (double{s.sab.at<float>(row, col)} - sa * sb / n) / std::sqrt(va * vb);
  return std::clamp(r, -1.0, 1.0);
}

/// Scans the shifts in (row, column) order; the first maximum wins.
ShiftResult BestShift(const OverlapSums& s, cv::Size a_size, cv::Size b_size, double min_overlap) {
  ShiftResult best;
  const cv::Size padded = s.n.size();
  for (int dy = -(b_size.height - 1); dy <= a_size.height - 1; ++dy) {
    const int row = (dy + padded.height) % padded.height;
    for (int dx = -(b_size.width - 1); dx <= a_size.width - 1; ++dx) {
      double n = 0;
      const double r = MaskedNcc(s, row, (dx + padded.width) % padded.width, min_overlap, &n);
      if (r > best.ncc) best = {r, {dx, dy}, n};
    }
  }
  return best;
}

/// B rotated by `deg` (counter-clockwise in x, y) about `centre`, on a square
/// canvas of side `side` whose centre the rotation centre lands on.
MaskedGrid RotateGrid(const MaskedGrid& b, cv::Point2d centre, int side, double deg) {
  const double rad = deg * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  const double mid = 0.5 * (side - 1);
  // Inverse map: canvas q → source p = R⁻¹(q − mid) + centre.
  cv::Matx23d inverse(c, s, centre.x - c * mid - s * mid, -s, c, centre.y + s * mid - c * mid);
  MaskedGrid warped;
  const int flags = cv::INTER_LINEAR | cv::WARP_INVERSE_MAP;
  cv::warpAffine(b.values, warped.values, inverse, {side, side}, flags, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(b.mask, warped.mask, inverse, {side, side}, flags, cv::BORDER_CONSTANT, 0);
  MaskedGrid out{cv::Mat::zeros(side, side, CV_64F), cv::Mat::zeros(side, side, CV_64F)};
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      const double m = warped.mask.at<double>(y, x);
      if (m < 0.5) continue;
      out.values.at<double>(y, x) = warped.values.at<double>(y, x) / m;
      out.mask.at<double>(y, x) = 1.0;
    }
  return out;
}

/// Side of a square canvas that holds B's valid cells rotated by any angle
/// about its centre (sized by the farthest valid cell, so a round breech face
/// needs a smaller canvas than its bounding box's diagonal).
int CanvasSide(const ArealMark& b) {
  double radius2 = 0;
  for (int y = 0; y < b.grid.mask.rows; ++y)
    for (int x = 0; x < b.grid.mask.cols; ++x)
      if (b.grid.mask.at<double>(y, x) > 0)
        radius2 =
            std::max(radius2, (x - b.centre.x) * (x - b.centre.x) + (y - b.centre.y) * (y - b.centre.y));
  return 2 * static_cast<int>(std::ceil(std::sqrt(radius2))) + 3;
}

/// The shared, read-only inputs of every rotation of one comparison.
struct RotationSearch {
  const ArealMark& a;
  const ArealMark& b;
  Spectra a_spectra;
  cv::Size padded;
  int side = 0;
  double min_overlap = 0;
  double max_abs_deg = 180;  ///< only rotations within ± this are searched
  bool Allowed(int k) const {
    const double deg = k * kAngleStepDeg;
    return std::min(deg, 360 - deg) <= max_abs_deg + 1e-9;
  }
};

ShiftResult EvaluateRotation(const RotationSearch& search, int angle_index) {
  const MaskedGrid rotated =
      RotateGrid(search.b.grid, search.b.centre, search.side, angle_index * kAngleStepDeg);
  const Spectra b_spectra = ComputeSpectra(rotated, search.padded);
  return BestShift(ComputeOverlapSums(search.a_spectra, b_spectra), search.a.grid.values.size(),
                   {search.side, search.side}, search.min_overlap);
}

/// Evaluates the angle indices not yet in `results` (in parallel).
void EvaluateAngles(const RotationSearch& search, const std::vector<int>& angles,
                    std::vector<std::optional<ShiftResult>>* results) {
  std::vector<int> todo;
  for (int k : angles)
    if (!(*results)[static_cast<std::size_t>(k)]) todo.push_back(k);
  std::vector<ShiftResult> found(todo.size());
  tbb::parallel_for(std::size_t{0}, todo.size(),
                    [&](std::size_t i) { found[i] = EvaluateRotation(search, todo[i]); });
  for (std::size_t i = 0; i < todo.size(); ++i) (*results)[static_cast<std::size_t>(todo[i])] = found[i];
}

/// Angle indices of the best `count` evaluated results (ties: lowest index).
std::vector<int> TopAngles(const std::vector<std::optional<ShiftResult>>& results, int count) {
  std::vector<int> order;
  for (int k = 0; k < kAngleSteps; ++k)
    if (results[static_cast<std::size_t>(k)]) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return results[static_cast<std::size_t>(x)]->ncc > results[static_cast<std::size_t>(y)]->ncc;
  });
  const auto keep = std::min(order.size(), static_cast<std::size_t>(count));
  return {order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep)};
}

/// Coarse angles every 6°, then ±6° at 1.5° around the best `candidates` coarse ones.
std::vector<std::optional<ShiftResult>> SearchRotations(const RotationSearch& search,
                                                        int candidates = kRefineCandidates,
                                                        int half_steps = kRefineHalfSteps) {
  std::vector<std::optional<ShiftResult>> results(kAngleSteps);
  std::vector<int> coarse;
  for (int k = 0; k < kAngleSteps; k += kCoarseEvery)
    if (search.Allowed(k)) coarse.push_back(k);
  EvaluateAngles(search, coarse, &results);
  std::vector<int> fine;
  for (int centre : TopAngles(results, candidates))
    for (int d = -half_steps; d <= half_steps; ++d)
      if (const int k = ((centre + d) % kAngleSteps + kAngleSteps) % kAngleSteps; search.Allowed(k))
        fine.push_back(k);
  EvaluateAngles(search, fine, &results);
  return results;
}

/// Converts the best rotation and canvas shift into a Comparison.
Comparison ToComparison(const RotationSearch& search, int k, const ShiftResult& r) {
  Comparison c;
  c.score = r.ncc < -1 ? -1.0 : r.ncc;
  const double deg = k * kAngleStepDeg;
  c.rotation_deg = deg > 180 ? deg - 360 : deg;
  const double mid = 0.5 * (search.side - 1);
  c.shift_x_um = (mid + r.shift.x - search.a.centre.x) * search.a.spacing_um;
  c.shift_y_um = (mid + r.shift.y - search.a.centre.y) * search.a.spacing_um;
  c.overlap_fraction = r.ncc < -1 ? 0.0 : r.overlap_cells / search.a.valid_cells;
  return c;
}

RotationSearch MakeSearch(const ArealMark& a, const ArealMark& b) {
  const int side = CanvasSide(b);
  const cv::Size padded(cv::getOptimalDFTSize(a.grid.values.cols + side - 1),
                        cv::getOptimalDFTSize(a.grid.values.rows + side - 1));
  return {a,      b,    ComputeSpectra(a.grid, padded),
          padded, side, kMinOverlapFraction * std::min(a.valid_cells, b.valid_cells)};
}

Comparison CompareAreal(const ArealMark& a, const ArealMark& b) {
  const RotationSearch search = MakeSearch(a, b);
  const std::vector<std::optional<ShiftResult>> results = SearchRotations(search);
  int best = -1;
  for (int k = 0; k < kAngleSteps; ++k) {
    const auto& r = results[static_cast<std::size_t>(k)];
    if (r && (best < 0 || r->ncc > results[static_cast<std::size_t>(best)]->ncc)) best = k;
  }
  return ToComparison(search, best, *results[static_cast<std::size_t>(best)]);
}

/// The best registrations at `count` distinct rotations (local maxima at
/// least 12° apart), best first.
std::vector<Comparison> CompareArealCandidates(const ArealMark& a, const ArealMark& b, int count, bool refine,
                                               double max_abs_deg) {
  RotationSearch search = MakeSearch(a, b);
  search.max_abs_deg = max_abs_deg;
  // ±3° around each coarse candidate: the 6° coarse grid is within 3° of any angle.
  const std::vector<std::optional<ShiftResult>> results = SearchRotations(search, refine ? count : 0, 2);
  std::vector<int> order;
  for (int k = 0; k < kAngleSteps; ++k)
    if (results[static_cast<std::size_t>(k)]) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    return results[static_cast<std::size_t>(x)]->ncc > results[static_cast<std::size_t>(y)]->ncc;
  });
  std::vector<int> chosen;
  for (int k : order) {
    const bool near = std::any_of(chosen.begin(), chosen.end(), [&](int c) {
      const int d = std::abs(k - c) % kAngleSteps;
      return std::min(d, kAngleSteps - d) * kAngleStepDeg < 12.0;
    });
    if (!near) chosen.push_back(k);
    if (static_cast<int>(chosen.size()) == count) break;
  }
  std::vector<Comparison> out;
  for (int k : chosen) out.push_back(ToComparison(search, k, *results[static_cast<std::size_t>(k)]));
  return out;
}

class ArealComparator : public Comparator {
 public:
  explicit ArealComparator(double spacing_um) : spacing_um_(spacing_um) {}
  std::string Name() const override { return "baseline"; }
  std::shared_ptr<const PreparedMark> Prepare(const Surface& surface) const override {
    return PrepareAreal(surface, spacing_um_);
  }
  Comparison Compare(const PreparedMark& a, const PreparedMark& b) const override {
    const auto* pa = dynamic_cast<const ArealMark*>(&a);
    const auto* pb = dynamic_cast<const ArealMark*>(&b);
    Check(pa && pb && pa->spacing_um == pb->spacing_um,
          "baseline comparator: marks were not prepared by this comparator");
    return CompareAreal(*pa, *pb);
  }

 private:
  double spacing_um_;
};

}  // namespace

std::vector<Comparison> RegisterArealCandidates(const PreparedMark& a, const PreparedMark& b, int count,
                                                bool refine, double max_abs_deg) {
  const auto* pa = dynamic_cast<const ArealMark*>(&a);
  const auto* pb = dynamic_cast<const ArealMark*>(&b);
  Check(pa && pb && pa->spacing_um == pb->spacing_um,
        "areal registration: marks of the baseline comparator needed");
  return CompareArealCandidates(*pa, *pb, count, refine, max_abs_deg);
}

std::unique_ptr<Comparator> MakeArealComparator(double spacing_um) {
  return std::make_unique<ArealComparator>(spacing_um);
}

}  // namespace toolmark::detail
