// The land comparator's screening code and score (land_screen.h,
// docs/search.md, "Screening").
//
// The land embedding pools kernel responses over the whole land, so where
// the striae sit is lost, and with it part of what separates two lands of
// one barrel from lands of others: measured on Hamby 44, the questioned
// lands E and X (one land of barrel 7, land score 0.98) ranked 291 and 625
// by the embedding among 12,000 synthetic lands. Their signatures aligned
// at the best shift rank each other first (docs/search-measured.md). The
// code keeps the signature at 4 µm in 4 bits a sample; the score is the
// land comparison's cross-correlation over the coarse samples, in integers.
#include "bullet/land_screen.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "packed_bytes.h"
#include "screen_cache.h"
#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

constexpr float kFormat = 1;
constexpr double kStepUm = 4.0;    ///< the code's sample step (whole samples of the signature's spacing)
constexpr int kMaxSamples = 8192;  ///< 32 mm at 4 µm
constexpr double kLevels = 2.5;    ///< steps a standard deviation spans (samples: −7…7 steps)
constexpr int kBits = 4;
constexpr int kMissing = 8;         ///< the nibble of a missing sample (−8)
constexpr std::size_t kHeader = 5;  ///< format, step, samples, valid, bits
constexpr double kMinShare = 0.5;   ///< as the land comparison's least overlap
constexpr int kMinOverlap = 10;     ///< samples
constexpr const char* kWhat = "land screen features";

/// A decoded code: the samples as 16-bit integers (0 where missing, so
/// their products sum exactly and vectorise), the valid mask, prefix sums
/// of the squares, and the missing samples' positions: the score's other
/// sums come from those in time proportional to the missing samples.
struct Code {
  float step_um = 0;
  int valid = 0;
  std::vector<std::int16_t> q;
  std::vector<std::uint8_t> m;
  std::vector<std::int32_t> squares;  ///< Σ q² over [0, i)
  std::vector<int> missing;           ///< ascending
};

[[noreturn]] void Fail(const std::string& what) { FailCode(kWhat, what); }

void Decode(const std::vector<float>& f, Code* c) {
  if (f.size() < kHeader) Fail("bad size");
  if (f[0] != kFormat) Fail("unknown format");
  if (!(std::isfinite(f[1]) && f[1] > 0 && f[1] <= 100)) Fail("bad step");
  c->step_um = f[1];
  const int n = WholeNumber(f[2], 0, kMaxSamples, kWhat, "sample count");
  c->valid = WholeNumber(f[3], 0, n, kWhat, "valid count");
  WholeNumber(f[4], kBits, kBits, kWhat, "bits");
  const auto size = static_cast<std::size_t>(n);
  const std::size_t bytes = (size + 1) / 2;
  if (f.size() != kHeader + (bytes + 2) / 3) Fail("bad size");
  c->q.assign(size, 0);
  c->m.assign(size, 0);
  c->squares.assign(size + 1, 0);
  c->missing.clear();
  int valid = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const float v = f[kHeader + i / 6];
    if (i % 6 == 0 && !IsPackedWord(v)) Fail("bad data");  // each word checked once
    const unsigned nibble = (static_cast<std::uint32_t>(v) >> (4 * (i % 6))) & 0x0fu;
    int q = 0;
    if (nibble == kMissing) {
      c->missing.push_back(static_cast<int>(i));
    } else {
      q = static_cast<int>(nibble & 7u) - static_cast<int>(nibble & 8u);
      c->q[i] = static_cast<std::int16_t>(q);
      c->m[i] = 1;
      ++valid;
    }
    c->squares[i + 1] = c->squares[i] + q * q;
  }
  if (valid != c->valid) Fail("valid count does not match the samples");
  // The nibbles after the last sample are written as zero.
  const std::size_t last = kHeader + (bytes + 2) / 3 - 1;
  if (f.size() > kHeader && size % 6 != 0 && (static_cast<std::uint32_t>(f[last]) >> (4 * (size % 6))) != 0)
    Fail("bad data");
}

/// Σ x·y over n 16-bit integers (exact; vectorised by the compiler, with
/// wider vectors where the processor has them: integer sums, so the same
/// number either way).
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define TOOLMARK_WIDER_VECTORS [[gnu::target_clones("avx2", "default")]]
#else
#define TOOLMARK_WIDER_VECTORS
#endif
TOOLMARK_WIDER_VECTORS std::int32_t Dot(const std::int16_t* x, const std::int16_t* y, int n) {
  std::int32_t s = 0;
  for (int i = 0; i < n; ++i) s += static_cast<std::int32_t>(x[i]) * y[i];
  return s;
}

}  // namespace

std::vector<float> EncodeLandScreen(const LandSignature& signature) {
  const std::vector<double>& v = signature.values;
  const double spacing = signature.spacing_um;
  Check(v.empty() || (std::isfinite(spacing) && spacing > 0 && spacing <= kStepUm * 25),
        std::string(kWhat) + ": the signature's spacing is unusable");
  const int block = v.empty() ? 1 : std::max(1, static_cast<int>(std::lround(kStepUm / spacing)));
  const std::size_t n = (v.size() + static_cast<std::size_t>(block) - 1) / static_cast<std::size_t>(block);
  Check(n <= static_cast<std::size_t>(kMaxSamples), std::string(kWhat) + ": a signature of " +
                                                        std::to_string(n) + " steps is longer than the " +
                                                        std::to_string(kMaxSamples) + " a land's code holds");
  std::vector<double> mean(n, 0);
  std::vector<char> ok(n, 0);
  double s = 0, ss = 0, count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0;
    int k = 0;
    for (std::size_t j = i * block; j < std::min(v.size(), (i + 1) * block); ++j)
      if (std::isfinite(v[j])) sum += v[j], ++k;
    if (2 * k < block) continue;
    mean[i] = sum / k;
    ok[i] = 1;
    s += mean[i], ss += mean[i] * mean[i], count += 1;
  }
  const double centre = count > 0 ? s / count : 0;
  const double sd = count > 1 ? std::sqrt(std::max(0.0, ss / count - centre * centre)) : 0;
  std::vector<std::uint8_t> bytes((n + 1) / 2, 0);
  for (std::size_t i = 0; i < n; ++i) {
    long q = kMissing;
    if (ok[i]) q = sd > 0 ? std::clamp(std::lround((mean[i] - centre) / sd * kLevels), -7L, 7L) : 0L;
    bytes[i / 2] |= static_cast<std::uint8_t>((static_cast<unsigned>(q) & 0x0fu) << (4 * (i % 2)));
  }
  std::vector<float> out{kFormat, static_cast<float>(block * (v.empty() ? kStepUm : spacing)),
                         static_cast<float>(n), static_cast<float>(count), kBits};
  PackBytes(bytes, &out);
  return out;
}

void CheckLandScreen(const std::vector<float>& code) {
  thread_local Code c;
  Decode(code, &c);
}

double LandScreenScore(const std::vector<float>& a_features, const std::vector<float>& b_features) {
  const Code& a = DecodedQuery(a_features, &Decode);
  thread_local Code b;  // reused: no allocation per candidate once grown
  Decode(b_features, &b);
  if (a.step_um != b.step_um) Fail("codes of different steps");
  const int least = std::min(a.valid, b.valid);
  if (least < 2) return -1;
  const int min_overlap = std::max(kMinOverlap, static_cast<int>(std::ceil(kMinShare * least)));
  const int na = static_cast<int>(a.q.size()), nb = static_cast<int>(b.q.size());
  double best = -1;
  // b shifted by `lag` samples: a[i] against b[i − lag]. Over the overlap,
  // with missing samples 0: Σ a·b directly; Σ a²·m_b, Σ m_a·b² and Σ m_a·m_b
  // from the prefix sums, corrected at the missing samples.
  for (int lag = -(nb - 1); lag < na; ++lag) {
    const int from = std::max(0, lag), to = std::min(na, nb + lag), len = to - from;
    if (len < min_overlap) continue;
    const int at = from - lag;
    const auto a_lo = std::lower_bound(a.missing.begin(), a.missing.end(), from);
    const auto a_hi = std::lower_bound(a_lo, a.missing.end(), to);
    const auto b_lo = std::lower_bound(b.missing.begin(), b.missing.end(), at);
    const auto b_hi = std::lower_bound(b_lo, b.missing.end(), at + len);
    std::int32_t aa = a.squares[to] - a.squares[from], bb = b.squares[at + len] - b.squares[at];
    auto count = static_cast<std::int32_t>(len - (a_hi - a_lo) - (b_hi - b_lo));
    for (auto p = a_lo; p != a_hi; ++p) {
      const int j = *p - lag;
      bb -= b.q[j] * b.q[j];
      count += b.m[j] == 0;  // missing on both sides: subtracted twice above
    }
    for (auto p = b_lo; p != b_hi; ++p) aa -= a.q[*p + lag] * a.q[*p + lag];
    if (count < min_overlap || aa <= 0 || bb <= 0) continue;
    const std::int32_t ab = Dot(&a.q[from], &b.q[at], len);
    const double r =
        ab / std::sqrt(static_cast<double>(aa) * bb) * std::sqrt(static_cast<double>(count) / least);
    best = std::max(best, r);
  }
  return best;
}

}  // namespace toolmark::detail
