// Breech-face preprocessing, steps 1-4: leveling, spikes, the λs and λc
// Gaussians and the working grid. See breech_face.cc and docs/breech_face.md.
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

std::string Format(const char* format, double a, double b, double c) {
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

}  // namespace toolmark::detail::breech_face
