// Scan orientation: dihedral transforms, the striae direction from the
// gradient structure tensor, and the land orientation decision. See
// docs/orientation.md.
#include "toolmark/engine/orientation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeg = 180.0 / M_PI;
/// Concentration of the direction density's kernel, exp(κ (cos 2Δ − 1)):
/// about ±10° wide at half height.
constexpr double kPeakKappa = 8.0;
/// Tiles within this of the peak direction support it (degrees).
constexpr double kSupportDeg = 15.0;

struct Named {
  Orientation o;
  const char* name;
};
constexpr Named kNames[] = {
    {Orientation::kUpright, "upright"}, {Orientation::kTransposed, "transposed"},
    {Orientation::kRot90, "rot90"},     {Orientation::kRot180, "rot180"},
    {Orientation::kRot270, "rot270"},   {Orientation::kFlipX, "flip-x"},
    {Orientation::kFlipY, "flip-y"},    {Orientation::kAntiTransposed, "antitransposed"}};

/// The transform's inverse (quarter turns swap; the rest are involutions).
Orientation Inverse(Orientation o) {
  if (o == Orientation::kRot90) return Orientation::kRot270;
  if (o == Orientation::kRot270) return Orientation::kRot90;
  return o;
}

/// Applies transform `o` to the grid (values, spacing, origin).
Surface Apply(const Surface& in, Orientation o) {
  Surface out = in;  // metadata, kind
  out.values = cv::Mat();
  switch (o) {
    case Orientation::kUpright:
      out.values = in.values.clone();
      break;
    case Orientation::kTransposed:
      cv::transpose(in.values, out.values);
      break;
    case Orientation::kRot90:
      cv::rotate(in.values, out.values, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    case Orientation::kRot180:
      cv::rotate(in.values, out.values, cv::ROTATE_180);
      break;
    case Orientation::kRot270:
      cv::rotate(in.values, out.values, cv::ROTATE_90_CLOCKWISE);
      break;
    case Orientation::kFlipX:
      cv::flip(in.values, out.values, 1);
      break;
    case Orientation::kFlipY:
      cv::flip(in.values, out.values, 0);
      break;
    case Orientation::kAntiTransposed: {
      cv::Mat t;
      cv::transpose(in.values, t);
      cv::rotate(t, out.values, cv::ROTATE_180);
      break;
    }
  }
  if (SwapsAxes(o)) {
    std::swap(out.spacing_x_um, out.spacing_y_um);
    std::swap(out.origin_x_um, out.origin_y_um);
  }
  return out;
}

/// The values of `v` with NaN as 0, and the mask of valid points (1/0), float32.
void Split(const cv::Mat& v, cv::Mat* filled, cv::Mat* mask) {
  filled->create(v.size(), CV_32F);
  mask->create(v.size(), CV_32F);
  for (int r = 0; r < v.rows; ++r) {
    const float* in = v.ptr<float>(r);
    float* f = filled->ptr<float>(r);
    float* m = mask->ptr<float>(r);
    for (int c = 0; c < v.cols; ++c) {
      const bool ok = std::isfinite(in[c]);
      m[c] = ok ? 1.0f : 0.0f;
      f[c] = ok ? in[c] : 0.0f;
    }
  }
}

/// NaN-aware Gaussian smoothing of `v` (float32, NaN = missing) with σ in
/// points: Σ w·v / Σ w over valid points; NaN where the point is missing or
/// under min_weight of the kernel's weight is valid. Wide kernels run on a
/// grid `coarsen` times coarser (area-averaged down, linear back up: the
/// result is smooth at that scale anyway).
cv::Mat SmoothNaN(const cv::Mat& v, double sigma, double min_weight, int coarsen = 1) {
  cv::Mat filled, mask, num, den;
  Split(v, &filled, &mask);
  if (coarsen > 1 && v.cols / coarsen >= 8 && v.rows / coarsen >= 8) {
    const cv::Size small(v.cols / coarsen, v.rows / coarsen);
    cv::Mat fs, ms;
    cv::resize(filled, fs, small, 0, 0, cv::INTER_AREA);
    cv::resize(mask, ms, small, 0, 0, cv::INTER_AREA);
    cv::GaussianBlur(fs, fs, cv::Size(0, 0), sigma / coarsen, sigma / coarsen, cv::BORDER_CONSTANT);
    cv::GaussianBlur(ms, ms, cv::Size(0, 0), sigma / coarsen, sigma / coarsen, cv::BORDER_CONSTANT);
    cv::resize(fs, num, v.size(), 0, 0, cv::INTER_LINEAR);
    cv::resize(ms, den, v.size(), 0, 0, cv::INTER_LINEAR);
  } else {
    cv::GaussianBlur(filled, num, cv::Size(0, 0), sigma, sigma, cv::BORDER_CONSTANT);
    cv::GaussianBlur(mask, den, cv::Size(0, 0), sigma, sigma, cv::BORDER_CONSTANT);
  }
  cv::Mat out(v.size(), CV_32F);
  const auto nan = std::numeric_limits<float>::quiet_NaN();
  for (int r = 0; r < v.rows; ++r) {
    const float* n = num.ptr<float>(r);
    const float* d = den.ptr<float>(r);
    const float* m = mask.ptr<float>(r);
    float* o = out.ptr<float>(r);
    for (int c = 0; c < v.cols; ++c) o[c] = m[c] > 0 && d[c] >= min_weight ? n[c] / d[c] : nan;
  }
  return out;
}

/// The scan on an isotropic float32 working grid of spacing *grid_um (at
/// least min_grid_um; NaN-aware area averaging: a point is valid where at
/// least half its area was).
cv::Mat WorkingGrid(const Surface& s, const StriaeOptions& o, double* grid_um) {
  double w = std::max({s.spacing_x_um, s.spacing_y_um, o.min_grid_um});
  const double width_um = s.values.cols * s.spacing_x_um, height_um = s.values.rows * s.spacing_y_um;
  const double points = width_um * height_um / (w * w);
  if (points > o.max_points) w *= std::sqrt(points / o.max_points);
  *grid_um = w;
  const int cols = std::max(1, static_cast<int>(std::lround(width_um / w)));
  const int rows = std::max(1, static_cast<int>(std::lround(height_um / w)));
  cv::Mat values;
  s.values.convertTo(values, CV_32F);
  if (cols == s.values.cols && rows == s.values.rows) return values;
  cv::Mat filled, mask, num, den;
  Split(values, &filled, &mask);
  cv::resize(filled, num, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  cv::resize(mask, den, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  cv::Mat out(rows, cols, CV_32F);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const float d = den.at<float>(r, c);
      out.at<float>(r, c) = d >= 0.5f ? num.at<float>(r, c) / d : std::numeric_limits<float>::quiet_NaN();
    }
  return out;
}

/// Angle of a structure tensor's dominant gradient direction (radians from
/// +x towards +y) and its coherence.
void TensorDirection(double jxx, double jxy, double jyy, double* theta, double* coherence) {
  const double trace = jxx + jyy;
  *theta = 0.5 * std::atan2(2 * jxy, jxx - jyy);
  *coherence = trace > 0 ? std::sqrt((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy) / trace : 0.0;
}

/// (−90, 90]
double Wrap90(double deg) {
  while (deg <= -90) deg += 180;
  while (deg > 90) deg -= 180;
  return deg;
}

std::string Fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

/// "along y (angle +2.1°, coherence 0.71)"
std::string Describe(const StriaeDirection& d) {
  if (d.axis == StriaeDirection::Axis::kUndetermined) return "undetermined (" + d.reason + ")";
  const std::string where =
      d.axis == StriaeDirection::Axis::kOblique ? "oblique" : std::string("along ") + StriaeAxisName(d.axis);
  return where + Fmt(" (%+.1f deg from y; support %.0f%%, coherence %.2f)", d.angle_deg, 100 * d.support,
                     d.coherence);
}

}  // namespace

const char* OrientationName(Orientation o) {
  for (const Named& n : kNames)
    if (n.o == o) return n.name;
  return "upright";
}

std::optional<Orientation> ParseOrientation(const std::string& text) {
  for (const Named& n : kNames)
    if (text == n.name) return n.o;
  if (text == "transpose") return Orientation::kTransposed;
  if (text == "rot-90") return Orientation::kRot270;
  if (text == "rot-270") return Orientation::kRot90;
  return std::nullopt;
}

std::vector<std::string> OrientationNames() {
  std::vector<std::string> out;
  for (const Named& n : kNames) out.emplace_back(n.name);
  return out;
}

bool SwapsAxes(Orientation o) {
  return o == Orientation::kTransposed || o == Orientation::kRot90 || o == Orientation::kRot270 ||
         o == Orientation::kAntiTransposed;
}

Surface ToUpright(const Surface& stored, Orientation stored_as) { return Apply(stored, Inverse(stored_as)); }

Surface FromUpright(const Surface& upright, Orientation stored_as) { return Apply(upright, stored_as); }

const char* StriaeAxisName(StriaeDirection::Axis axis) {
  switch (axis) {
    case StriaeDirection::Axis::kAlongY:
      return "y";
    case StriaeDirection::Axis::kAlongX:
      return "x";
    case StriaeDirection::Axis::kOblique:
      return "oblique";
    case StriaeDirection::Axis::kUndetermined:
      break;
  }
  return "undetermined";
}

/// One tile's direction: its structure tensor's angle and coherence.
struct TileDirection {
  double theta, coherence;
};

/// The directions of band's tiles of tile × tile cells (the last row and
/// column of tiles take the remainder), from central-difference gradients;
/// tiles with too little valid data are left out.
std::vector<TileDirection> TileDirections(const cv::Mat& band, int tile) {
  const int tiles_x = std::max(1, band.cols / tile), tiles_y = std::max(1, band.rows / tile);
  const int tw = band.cols / tiles_x, th = band.rows / tiles_y;
  std::vector<TileDirection> tiles;
  for (int ty = 0; ty < tiles_y; ++ty) {
    for (int tx = 0; tx < tiles_x; ++tx) {
      double jxx = 0, jxy = 0, jyy = 0;
      int used = 0;
      const int r0 = ty * th, r1 = ty == tiles_y - 1 ? band.rows : r0 + th;
      const int c0 = tx * tw, c1 = tx == tiles_x - 1 ? band.cols : c0 + tw;
      for (int r = std::max(1, r0); r < std::min(band.rows - 1, r1); ++r) {
        const float* up = band.ptr<float>(r - 1);
        const float* mid = band.ptr<float>(r);
        const float* down = band.ptr<float>(r + 1);
        for (int c = std::max(1, c0); c < std::min(band.cols - 1, c1); ++c) {
          const double gx = 0.5 * (static_cast<double>(mid[c + 1]) - mid[c - 1]);
          const double gy = 0.5 * (static_cast<double>(down[c]) - up[c]);
          if (!std::isfinite(gx) || !std::isfinite(gy)) continue;
          jxx += gx * gx, jxy += gx * gy, jyy += gy * gy;
          ++used;
        }
      }
      const double trace = jxx + jyy;
      if (used < 64 || 2 * used < (r1 - r0) * (c1 - c0) || !(trace > 0)) continue;
      TileDirection t{};
      TensorDirection(jxx, jxy, jyy, &t.theta, &t.coherence);
      tiles.push_back(t);
    }
  }
  return tiles;
}

/// The peak of the tiles' directions, each tile weighted by its coherence²
/// (strongly directional tiles count, isotropic ones hardly): a kernel
/// density over doubled angles, evaluated every degree.
double PeakDirection(const std::vector<TileDirection>& tiles) {
  double peak = 0, best = -1;
  for (int k = -89; k <= 90; ++k) {
    const double phi = k / kDeg;
    double density = 0;
    for (const TileDirection& t : tiles)
      density += t.coherence * t.coherence * std::exp(kPeakKappa * (std::cos(2 * (t.theta - phi)) - 1));
    if (density > best) best = density, peak = phi;
  }
  return peak;
}

StriaeDirection MeasureStriaeDirection(const Surface& s, const StriaeOptions& o) {
  StriaeDirection d;
  d.angle_deg = kNaN;
  if (s.values.empty() || s.values.type() != CV_64FC1 || !(s.spacing_x_um > 0) || !(s.spacing_y_um > 0)) {
    d.reason = "no values";
    return d;
  }
  const cv::Mat grid = WorkingGrid(s, o, &d.grid_um);
  const double w = d.grid_um;
  const auto tile = static_cast<int>(std::max(16.0, std::round(o.tile_um / w)));
  if (grid.cols < 8 || grid.rows < 8) {
    d.reason = "too small to measure";
    return d;
  }
  // Band-pass: noise (λs, at least 2.5 grid steps) and form (λc) out.
  const double sigma_s = detail::GaussianSigmaForCutoff(std::max(o.lambda_s_um, 2.5 * w)) / w;
  const double sigma_c = detail::GaussianSigmaForCutoff(o.lambda_c_um) / w;
  const cv::Mat low = SmoothNaN(grid, std::max(sigma_s, 0.5), 0.5);
  const cv::Mat form = SmoothNaN(low, sigma_c, o.min_form_weight, std::max(1, static_cast<int>(sigma_c / 4)));
  const cv::Mat band = low - form;  // NaN propagates
  // Central-difference gradients, summed per tile into structure tensors.
  const std::vector<TileDirection> tiles = TileDirections(band, tile);
  d.tiles = static_cast<int>(tiles.size());
  if (tiles.empty()) {
    d.reason = "too little valid data to measure";
    return d;
  }
  // The peak of the tiles' directions (coherence²-weighted).
  const double peak = PeakDirection(tiles);
  double total = 0;
  for (const TileDirection& t : tiles) total += t.coherence * t.coherence;
  // Support: the weight of the tiles within ±15° of the peak; their mean
  // coherence and their mean direction (doubled angles) refine it.
  double support = 0, coherence = 0, across = 0, vc = 0, vs = 0;
  int supporting = 0;
  for (const TileDirection& t : tiles) {
    const double off = std::abs(Wrap90((t.theta - peak) * kDeg));
    const double weight = t.coherence * t.coherence;
    if (off <= kSupportDeg) {
      support += weight, coherence += t.coherence, ++supporting;
      vc += weight * std::cos(2 * (t.theta - peak)), vs += weight * std::sin(2 * (t.theta - peak));
    }
    if (off >= 90 - kSupportDeg) across += weight;
  }
  d.support = total > 0 ? support / total : 0.0;
  d.support_across = total > 0 ? across / total : 0.0;
  d.coherence = supporting > 0 ? coherence / supporting : 0.0;
  const double theta = peak + 0.5 * std::atan2(vs, vc);
  // Striae run perpendicular to the dominant gradient; from +y towards +x
  // that is −θ (θ measured from +x towards +y).
  d.angle_deg = Wrap90(-theta * kDeg);
  if (d.support < o.min_support || d.coherence < o.min_coherence) {
    d.reason = Fmt("no dominant direction: %.0f%% of the directional texture within 15 deg of one direction "
                   "(%.0f%% needed), coherence %.2f",
                   100 * d.support, 100 * o.min_support, d.coherence) +
               Fmt(" (%.2f needed)", o.min_coherence);
    d.angle_deg = kNaN;
    return d;
  }
  const double from_y = std::abs(d.angle_deg);
  d.axis = from_y <= o.axis_tolerance_deg        ? StriaeDirection::Axis::kAlongY
           : from_y >= 90 - o.axis_tolerance_deg ? StriaeDirection::Axis::kAlongX
                                                 : StriaeDirection::Axis::kOblique;
  d.reason = "striae " + Describe(d);
  return d;
}

LandOrientation ResolveLandOrientation(const Surface& stored, std::optional<Orientation> stated,
                                       const StriaeOptions& options) {
  return ResolveLandOrientation(std::move(stated), MeasureStriaeDirection(stored, options));
}

LandOrientation ResolveLandOrientation(std::optional<Orientation> stated, const StriaeDirection& measured) {
  using Axis = StriaeDirection::Axis;
  LandOrientation r;
  r.measured = measured;
  const StriaeDirection& m = r.measured;
  if (stated) {
    const Axis expected = SwapsAxes(*stated) ? Axis::kAlongX : Axis::kAlongY;
    const bool measured_axis = m.axis == Axis::kAlongX || m.axis == Axis::kAlongY;
    Check(!measured_axis || m.axis == expected,
          std::string("orientation stated as ") + OrientationName(*stated) + ", but the striae run " +
              Describe(m) + " of the stored scan, which that orientation does not make upright (check it)");
    r.stored_as = *stated;
    r.settled = true;
    r.source = "stated";
    r.note = std::string("stored ") + OrientationName(*stated) + " (stated)" +
             (*stated == Orientation::kUpright ? "" : ": turned upright") + "; striae " + Describe(m);
    return r;
  }
  switch (m.axis) {
    case Axis::kAlongY:
      r.stored_as = Orientation::kUpright;
      r.settled = true;
      r.source = "data";
      r.note = "upright as stored: striae " + Describe(m);
      break;
    case Axis::kAlongX:
      r.stored_as = Orientation::kTransposed;
      r.settled = false;
      r.source = "data (assumed)";
      r.note = "striae run " + Describe(m) +
               ": turned upright as a transpose; the data cannot tell a transpose (or rot270) from "
               "rot90 (or antitransposed), which mirrors the profile across the land: state "
               "--orientation or a manifest 'orientation' column to settle it";
      break;
    case Axis::kOblique:
    case Axis::kUndetermined:
      r.stored_as = Orientation::kUpright;
      r.settled = false;
      r.source = "none";
      r.note = "striae direction " + Describe(m) +
               ": taken as stored (upright assumed); state --orientation to settle it";
      break;
  }
  return r;
}

bool LooksLikeLandScan(const Surface& s, const StriaeDirection& m) {
  const double x_um = s.values.cols * s.spacing_x_um, y_um = s.values.rows * s.spacing_y_um;
  const bool along_x = m.axis == StriaeDirection::Axis::kAlongX;
  if (x_um >= 2.0 * y_um) return !along_x;
  return along_x && y_um >= 2.0 * x_um;
}

}  // namespace toolmark
