// Land-to-land comparison: FFT alignment of two signatures with missing data,
// then features at the best lag. See docs/bullets.md.
#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bullet/land_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace detail {
namespace {

constexpr double kStriaThreshold = 0.5;   ///< a stria's extremum exceeds this many σ
constexpr double kRoughLambdaUm = 50.0;   ///< rough_cor: wavelengths below this
constexpr double kMinOverlapShare = 0.5;  ///< overlap ≥ this share of the shorter valid length

std::vector<Stria> FindStriae(const std::vector<double>& v, double sigma) {
  std::vector<Stria> out;
  const int n = static_cast<int>(v.size());
  for (int i = 0; i < n;) {
    if (!std::isfinite(v[static_cast<std::size_t>(i)]) || v[static_cast<std::size_t>(i)] == 0) {
      ++i;
      continue;
    }
    const int type = v[static_cast<std::size_t>(i)] > 0 ? 1 : -1;
    Stria s{i, i, i, type, 0};
    int j = i;
    for (; j < n; ++j) {
      const double x = v[static_cast<std::size_t>(j)];
      if (!std::isfinite(x) || x * type <= 0) break;
      if (x * type > s.height) s.height = x * type, s.at = j;
    }
    s.end = j;
    s.height /= sigma;
    if (s.height >= kStriaThreshold) out.push_back(s);
    i = j;
  }
  return out;
}

double StandardDeviation(const std::vector<double>& v) {
  double n = 0, s = 0, ss = 0;
  for (double x : v) {
    if (std::isfinite(x)) n += 1, s += x, ss += x * x;
  }
  if (n < 2) return 0;
  return std::sqrt(std::max(0.0, (ss - s * s / n) / (n - 1)));
}

cv::Mat PaddedDft(const std::vector<double>& v, int size, int power) {
  cv::Mat row = cv::Mat::zeros(1, size, CV_64F);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) continue;
    row.at<double>(0, static_cast<int>(i)) = power == 0 ? 1.0 : power == 1 ? v[i] : v[i] * v[i];
  }
  cv::Mat out;
  cv::dft(row, out);
  return out;
}

/// Σ_i f[i] g[i − lag] for every lag (index lag mod size), from CCS spectra.
cv::Mat Correlate(const cv::Mat& f, const cv::Mat& g) {
  cv::Mat product, out;
  cv::mulSpectrums(f, g, product, 0, true);
  cv::dft(product, out, cv::DFT_INVERSE | cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);
  return out;
}

struct Moments {
  double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  double Pearson() const {
    const double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (n < 2 || va <= 1e-12 * saa || vb <= 1e-12 * sbb) return -2;
    return std::clamp((sab - sa * sb / n) / std::sqrt(va * vb), -1.0, 1.0);
  }
};

/// Moments of a[i], b[i − lag] over the common finite points (direct).
Moments DirectMoments(const std::vector<double>& a, const std::vector<double>& b, std::ptrdiff_t lag) {
  Moments m;
  const auto na = static_cast<std::ptrdiff_t>(a.size()), nb = static_cast<std::ptrdiff_t>(b.size());
  for (std::ptrdiff_t i = std::max<std::ptrdiff_t>(0, lag); i < std::min(na, nb + lag); ++i) {
    const double x = a[static_cast<std::size_t>(i)], y = b[static_cast<std::size_t>(i - lag)];
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    m.n += 1, m.sa += x, m.sb += y, m.saa += x * x, m.sbb += y * y, m.sab += x * y;
  }
  return m;
}

/// The lag of maximum NaN-aware correlation (ties: lowest lag); false when no
/// lag has enough overlap.
bool BestLag(const PreparedSignature& a, const PreparedSignature& b, std::ptrdiff_t* lag) {
  const int size = std::max(a.dft_size, b.dft_size);
  PreparedSignature resized;  // spectra of the one with the smaller size, at `size`
  const PreparedSignature* pa = &a;
  const PreparedSignature* pb = &b;
  if (a.dft_size != size || b.dft_size != size) {
    const PreparedSignature& small = a.dft_size != size ? a : b;
    resized.signature.values = small.signature.values;
    EnsureSpectra(&resized, size);
    (a.dft_size != size ? pa : pb) = &resized;
  }
  const auto na = static_cast<std::ptrdiff_t>(a.signature.values.size());
  const auto nb = static_cast<std::ptrdiff_t>(b.signature.values.size());
  const double min_overlap =
      std::max(10.0, kMinOverlapShare * std::min(a.signature.valid, b.signature.valid));
  const auto index = [&](std::ptrdiff_t l) { return static_cast<int>(l >= 0 ? l : size + l); };
  const cv::Mat sab = Correlate(pa->f_value, pb->f_value);
  double best = -2;
  if (a.complete && b.complete) {
    // No missing values: every sum but Σab comes from prefix sums.
    const auto at = [](const std::vector<double>& prefix, std::ptrdiff_t i) {
      return prefix[static_cast<std::size_t>(i)];
    };
    for (std::ptrdiff_t l = -(nb - 1); l <= na - 1; ++l) {
      const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, l), hi = std::min(na, nb + l);
      Moments m;
      m.n = static_cast<double>(hi - lo);
      if (m.n < min_overlap) continue;
      m.sa = at(a.prefix, hi) - at(a.prefix, lo);
      m.saa = at(a.prefix_squares, hi) - at(a.prefix_squares, lo);
      m.sb = at(b.prefix, hi - l) - at(b.prefix, lo - l);
      m.sbb = at(b.prefix_squares, hi - l) - at(b.prefix_squares, lo - l);
      m.sab = sab.at<double>(0, index(l));
      const double r = m.Pearson();
      if (r > best) best = r, *lag = l;
    }
    return best > -2;
  }
  const cv::Mat n = Correlate(pa->f_mask, pb->f_mask);
  const cv::Mat sa = Correlate(pa->f_value, pb->f_mask), sb = Correlate(pa->f_mask, pb->f_value);
  const cv::Mat saa = Correlate(pa->f_square, pb->f_mask), sbb = Correlate(pa->f_mask, pb->f_square);
  for (std::ptrdiff_t l = -(nb - 1); l <= na - 1; ++l) {
    const int k = index(l);
    Moments m;
    m.n = std::round(n.at<double>(0, k));
    if (m.n < min_overlap) continue;
    m.sa = sa.at<double>(0, k), m.sb = sb.at<double>(0, k);
    m.saa = saa.at<double>(0, k), m.sbb = sbb.at<double>(0, k), m.sab = sab.at<double>(0, k);
    const double r = m.Pearson();
    if (r > best) best = r, *lag = l;
  }
  return best > -2;
}

void StriaeFeatures(const PreparedSignature& a, const PreparedSignature& b, std::ptrdiff_t lag,
                    double overlap_mm, LandFeatures* f) {
  // Overlap range in A's indices: where both signatures have data.
  const auto na = static_cast<std::ptrdiff_t>(a.signature.values.size());
  const auto nb = static_cast<std::ptrdiff_t>(b.signature.values.size());
  const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, lag), hi = std::min(na, nb + lag);
  const auto inside = [&](std::ptrdiff_t i) {
    return i >= lo && i < hi && std::isfinite(a.signature.values[static_cast<std::size_t>(i)]) &&
           std::isfinite(b.signature.values[static_cast<std::size_t>(i - lag)]);
  };
  struct Event {
    std::ptrdiff_t at;
    bool matched;
  };
  std::vector<Event> events;
  std::vector<char> b_matched(b.striae.size(), 0);
  double sum_peaks = 0;
  int matches = 0, mismatches = 0;
  for (const Stria& sa : a.striae) {
    if (!inside(sa.at)) continue;
    bool matched = false;
    for (std::size_t k = 0; k < b.striae.size() && !matched; ++k) {
      const Stria& sb = b.striae[k];
      if (b_matched[k] || sb.type != sa.type) continue;
      const std::ptrdiff_t b_at = sb.at + lag;
      if (sa.at >= sb.begin + lag && sa.at < sb.end + lag && b_at >= sa.begin && b_at < sa.end) {
        matched = true;
        b_matched[k] = 1;
        sum_peaks += 0.5 * (sa.height + sb.height);
      }
    }
    events.push_back({sa.at, matched});
    matched ? ++matches : ++mismatches;
  }
  for (std::size_t k = 0; k < b.striae.size(); ++k) {
    const std::ptrdiff_t at = b.striae[k].at + lag;
    if (b_matched[k] || !inside(at)) continue;
    events.push_back({at, false});
    ++mismatches;
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& x, const Event& y) { return x.at < y.at; });
  int run_match = 0, run_miss = 0;
  for (const Event& e : events) {
    run_match = e.matched ? run_match + 1 : 0;
    run_miss = e.matched ? 0 : run_miss + 1;
    f->cms = std::max(f->cms, static_cast<double>(run_match));
    f->cnms = std::max(f->cnms, static_cast<double>(run_miss));
  }
  f->matches_per_mm = matches / overlap_mm;
  f->mismatches_per_mm = mismatches / overlap_mm;
  f->sum_peaks_per_mm = sum_peaks / overlap_mm;
}

}  // namespace

int SignatureDftSize(std::size_t n) {
  // 2^k or 3·2^(k−1), the first ≥ 2n: few distinct sizes, all fast.
  int size = 64;
  while (true) {
    if (static_cast<std::size_t>(size) >= 2 * n) return size;
    if (static_cast<std::size_t>(size + size / 2) >= 2 * n) return size + size / 2;
    size *= 2;
  }
}

void EnsureSpectra(PreparedSignature* p, int size) {
  if (p->dft_size == size) return;
  p->dft_size = size;
  p->f_mask = PaddedDft(p->signature.values, size, 0);
  p->f_value = PaddedDft(p->signature.values, size, 1);
  p->f_square = PaddedDft(p->signature.values, size, 2);
}

PreparedSignature PrepareSignature(LandSignature signature) {
  Check(!signature.values.empty() && signature.spacing_um > 0, "land comparison: empty signature");
  PreparedSignature p;
  p.signature = std::move(signature);
  const std::vector<double>& v = p.signature.values;
  p.sigma = StandardDeviation(v);
  Check(p.sigma > 0, "land comparison: the signature is flat");
  std::vector<char> finite(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) finite[i] = std::isfinite(v[i]);
  const std::vector<double> smooth =
      NormalizedConvolution(v, GaussianSigmaForCutoff(kRoughLambdaUm) / p.signature.spacing_um, finite);
  p.rough.resize(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) p.rough[i] = v[i] - smooth[i];
  p.striae = FindStriae(v, p.sigma);
  p.complete = std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  if (p.complete) {
    p.prefix.assign(v.size() + 1, 0.0);
    p.prefix_squares.assign(v.size() + 1, 0.0);
    for (std::size_t i = 0; i < v.size(); ++i) {
      p.prefix[i + 1] = p.prefix[i] + v[i];
      p.prefix_squares[i + 1] = p.prefix_squares[i] + v[i] * v[i];
    }
  }
  EnsureSpectra(&p, SignatureDftSize(v.size()));
  return p;
}

LandFeatures CompareSignatures(const PreparedSignature& a, const PreparedSignature& b) {
  Check(std::abs(a.signature.spacing_um - b.signature.spacing_um) < 1e-9 * a.signature.spacing_um,
        "land comparison: signatures have different spacings");
  LandFeatures f;
  std::ptrdiff_t lag = 0;
  if (!BestLag(a, b, &lag)) return f;  // no admissible overlap: ccf −1, everything else 0
  const double ws = a.signature.spacing_um;
  const Moments m = DirectMoments(a.signature.values, b.signature.values, lag);
  f.ccf = std::max(-1.0, m.Pearson());
  f.rough_cor = std::max(-1.0, DirectMoments(a.rough, b.rough, lag).Pearson());
  f.lag_um = a.signature.start_um - b.signature.start_um + static_cast<double>(lag) * ws;
  f.overlap_um = m.n * ws;
  f.overlap_fraction = m.n / std::min(a.signature.valid, b.signature.valid);
  const double ma = m.sa / m.n, mb = m.sb / m.n;
  const double sda = std::sqrt(std::max(1e-30, m.saa / m.n - ma * ma));
  const double sdb = std::sqrt(std::max(1e-30, m.sbb / m.n - mb * mb));
  // rms of the centred difference, relative to the larger amplitude.
  const double cov = m.sab / m.n - ma * mb;
  f.distance = std::sqrt(std::max(0.0, sda * sda + sdb * sdb - 2 * cov)) / std::max(sda, sdb);
  f.amplitude_ratio = std::min(sda, sdb) / std::max(sda, sdb);
  StriaeFeatures(a, b, lag, f.overlap_um / 1000.0, &f);
  return f;
}

}  // namespace detail

std::vector<double> LandFeatures::Vector() const {
  return {ccf, rough_cor, overlap_fraction, distance, amplitude_ratio, matches_per_mm, mismatches_per_mm,
          cms, cnms,      sum_peaks_per_mm};
}

std::vector<std::string> LandFeatureNames() {
  return {"ccf",
          "rough_cor",
          "overlap_fraction",
          "distance",
          "amplitude_ratio",
          "matches_per_mm",
          "mismatches_per_mm",
          "cms",
          "cnms",
          "sum_peaks_per_mm"};
}

LandFeatures CompareLandSignatures(const LandSignature& a, const LandSignature& b) {
  return detail::CompareSignatures(detail::PrepareSignature(a), detail::PrepareSignature(b));
}

std::vector<std::vector<LandFeatures>> CompareLandSignatureSets(const std::vector<LandSignature>& a,
                                                                const std::vector<LandSignature>& b) {
  std::vector<detail::PreparedSignature> pa, pb;
  for (const LandSignature& s : a) pa.push_back(detail::PrepareSignature(s));
  for (const LandSignature& s : b) pb.push_back(detail::PrepareSignature(s));
  std::vector<std::vector<LandFeatures>> out(a.size(), std::vector<LandFeatures>(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) out[i][j] = detail::CompareSignatures(pa[i], pb[j]);
  return out;
}

}  // namespace toolmark
