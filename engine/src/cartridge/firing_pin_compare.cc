// Firing-pin impressions: the comparison (CompareFiringPins). The algorithm is
// described in the header comment of firing_pin.cc; see also docs/firing_pin.md.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cartridge/firing_pin_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/firing_pin.h"

namespace toolmark {
namespace {

using detail::kNaN;
using detail::firing_pin::CheckOptions;
using detail::firing_pin::Fill;
using detail::firing_pin::Filled;
using detail::firing_pin::Format;
using detail::firing_pin::Grid;
using detail::firing_pin::kMinRings;
using detail::firing_pin::PolarGrid;

constexpr double kMinOverlap = 0.5;  ///< of the reference's valid weight, for a θ to count
constexpr int kShiftSteps = 2;       ///< centre search: angle steps tried either side of the peak

/// Wraps degrees into (−180, 180].
double Wrap(double deg) {
  const double w = std::remainder(deg, 360.0);
  return w <= -180.0 ? w + 360.0 : w;
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
