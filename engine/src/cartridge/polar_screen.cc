// The CMC's screening code and score (polar_screen.h, docs/search.md,
// "Screening").
//
// The polar signature (cmc_polar.cc) holds each ring's Fourier transform
// along the angle; PolarRotations sums the rings' cross-spectra and finds the
// rotation where the rings agree best. That agreement separates known matches
// where the rotation-invariant embedding does not (measured: the DFSC scans
// among synthetic distractors, docs/search-measured.md), but a whole
// signature is 240 KB and its comparison tens of microseconds. Kept here:
// every second ring (100 µm apart) and the lowest kFrequencies angular
// frequencies, as signed bytes scaled per ring. The score is the same
// correlation over those frequencies, evaluated at 256 angles.
#include "cartridge/polar_screen.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "packed_bytes.h"
#include "screen_cache.h"
#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

constexpr float kFormat = 1;
constexpr int kFrequencies = 32;
constexpr int kScreenRingStep = 2;
constexpr int kMaxSlots = 64;  ///< rings up to 6.4 mm from the centre (the signature's reach: 6 mm)
constexpr int kScoreAngles = 256;
constexpr double kLevels = 2.5;     ///< quantisation steps a ring's RMS part spans (parts: −7…7 steps)
constexpr std::size_t kHeader = 6;  ///< format, K, angles, ring step, first ring, ring slots
constexpr int kSlotBytes = 1 + kFrequencies;  ///< weight, then (re, im) as two 4-bit parts a frequency
constexpr const char* kWhat = "cmc screen features";

/// A decoded code, on the stack (no allocation: scored thousands of times a query).
struct Code {
  int angles = 0, first = 0, slots = 0;
  std::array<float, kMaxSlots> weight;                              ///< the first `slots` are set
  std::array<std::array<float, 2 * kFrequencies>, kMaxSlots> part;  ///< re, im of k = 1…K
};

[[noreturn]] void Fail(const std::string& what) { FailCode(kWhat, what); }

/// A signed 4-bit part (two's complement in a nibble; −8 is never written).
int Nibble(unsigned v) { return static_cast<int>(v & 7u) - static_cast<int>(v & 8u); }

void Decode(const std::vector<float>& f, Code* c) {
  if (f.size() < kHeader) Fail("bad size");
  if (f[0] != kFormat) Fail("unknown format");
  WholeNumber(f[1], kFrequencies, kFrequencies, kWhat, "frequency count");
  c->angles = WholeNumber(f[2], 2 * kFrequencies + 1, 1 << 16, kWhat, "angle count");
  WholeNumber(f[3], kScreenRingStep, kScreenRingStep, kWhat, "ring step");
  c->first = WholeNumber(f[4], 0, kMaxSlots * kScreenRingStep, kWhat, "first ring");
  if (c->first % kScreenRingStep != 0) Fail("bad first ring");
  c->slots = WholeNumber(f[5], 0, kMaxSlots, kWhat, "ring count");
  const auto n = static_cast<std::size_t>(c->slots);
  const std::size_t bytes = n * kSlotBytes;
  if (f.size() != kHeader + n + (bytes + 2) / 3) Fail("bad size");
  const auto byte = [&](std::size_t i) {
    const float v = f[kHeader + n + i / 3];
    if (!IsPackedWord(v)) Fail("bad data");
    return (static_cast<std::uint32_t>(v) >> (8 * (i % 3))) & 0xffu;
  };
  for (std::size_t slot = 0; slot < n; ++slot) {
    const float scale = f[kHeader + slot];
    if (!(std::isfinite(scale) && scale >= 0)) Fail("bad ring scale");
    const std::size_t at = slot * kSlotBytes;
    c->weight[slot] = static_cast<float>(byte(at)) / 255.0f;
    const float step = scale / static_cast<float>(kLevels);
    for (int k = 0; k < kFrequencies; ++k) {
      const std::uint32_t b = byte(at + 1 + static_cast<std::size_t>(k));
      if ((b & 0x0fu) == 8u || (b >> 4) == 8u) Fail("bad data");
      c->part[slot][static_cast<std::size_t>(2 * k)] = static_cast<float>(Nibble(b)) * step;
      c->part[slot][static_cast<std::size_t>(2 * k + 1)] = static_cast<float>(Nibble(b >> 4)) * step;
    }
  }
}

/// cos and sin of k·θ_j for k = 1…K and the kScoreAngles angles θ_j.
struct Trig {
  std::array<double, kScoreAngles * kFrequencies> c{}, s{};
  Trig() {
    for (int j = 0; j < kScoreAngles; ++j)
      for (int k = 1; k <= kFrequencies; ++k) {
        const double t = 2 * M_PI * j * k / kScoreAngles;
        c[static_cast<std::size_t>(j * kFrequencies + k - 1)] = std::cos(t);
        s[static_cast<std::size_t>(j * kFrequencies + k - 1)] = std::sin(t);
      }
  }
};

unsigned Quantised(float v, float step) {
  const long q = step > 0 ? std::clamp(std::lround(v / step), -7L, 7L) : 0L;
  return static_cast<unsigned>(q) & 0x0fu;
}

}  // namespace

std::vector<float> EncodePolarScreen(const PolarSignature& polar) {
  const cv::Mat& s = polar.spectra;
  const int angles = s.empty() ? 512 : s.cols;
  int first = -1, last = -1;
  if (!s.empty() && s.cols > 2 * kFrequencies)
    for (int r = 0; r < std::min(s.rows, kMaxSlots * kScreenRingStep); r += kScreenRingStep)
      if (polar.weight[static_cast<std::size_t>(r)] > 0) {
        if (first < 0) first = r;
        last = r;
      }
  const int slots = first < 0 ? 0 : (last - first) / kScreenRingStep + 1;
  std::vector<float> out{kFormat,
                         kFrequencies,
                         static_cast<float>(angles),
                         kScreenRingStep,
                         static_cast<float>(std::max(first, 0)),
                         static_cast<float>(slots)};
  std::vector<std::uint8_t> bytes;
  for (int i = 0; i < slots; ++i) {
    const int r = first + i * kScreenRingStep;
    const auto* f = s.ptr<cv::Vec2f>(r);
    double squares = 0;
    for (int k = 1; k <= kFrequencies; ++k) squares += double{f[k][0]} * f[k][0] + double{f[k][1]} * f[k][1];
    const auto rms = static_cast<float>(std::sqrt(squares / (2 * kFrequencies)));
    out.push_back(rms);
    const float step = rms / static_cast<float>(kLevels);
    bytes.push_back(
        static_cast<std::uint8_t>(std::lround(255.0f * polar.weight[static_cast<std::size_t>(r)])));
    for (int k = 1; k <= kFrequencies; ++k)
      bytes.push_back(static_cast<std::uint8_t>(Quantised(f[k][0], step) | (Quantised(f[k][1], step) << 4)));
  }
  PackBytes(bytes, &out);
  return out;
}

void CheckPolarScreen(const std::vector<float>& code) {
  thread_local Code c;  // 16 KB: not on the stack of every thread that checks
  Decode(code, &c);
}

double PolarScreenScore(const std::vector<float>& a_features, const std::vector<float>& b_features) {
  const Code& a = DecodedQuery(a_features, &Decode);
  Code b;
  Decode(b_features, &b);
  if (a.angles != b.angles) Fail("codes of signatures with different angle counts");
  std::array<double, kFrequencies> re{}, im{};
  double norm = 0;
  const int from = std::max(a.first, b.first);
  const int to = std::min(a.first + a.slots * kScreenRingStep, b.first + b.slots * kScreenRingStep);
  for (int r = from; r < to; r += kScreenRingStep) {
    const auto ia = static_cast<std::size_t>((r - a.first) / kScreenRingStep);
    const auto ib = static_cast<std::size_t>((r - b.first) / kScreenRingStep);
    const double wa = a.weight[ia], wb = b.weight[ib];
    if (wa <= 0 || wb <= 0) continue;
    const auto& pa = a.part[ia];
    const auto& pb = b.part[ib];
    for (std::size_t k = 0; k < kFrequencies; ++k) {
      const double ar = pa[2 * k], ai = pa[2 * k + 1], br = pb[2 * k], bi = pb[2 * k + 1];
      re[k] += br * ar + bi * ai;  // F_b · conj(F_a), as PolarRotations
      im[k] += bi * ar - br * ai;
    }
    norm += std::sqrt(wa * wb);
  }
  if (!(norm > 0)) return 0;
  static const Trig trig;
  double best = -1e300;
  for (std::size_t j = 0; j < kScoreAngles; ++j) {
    const double* c = &trig.c[j * kFrequencies];
    const double* s = &trig.s[j * kFrequencies];
    double sum = 0;
    for (std::size_t k = 0; k < kFrequencies; ++k) sum += re[k] * c[k] - im[k] * s[k];
    best = std::max(best, 2 * sum);
  }
  // A ring standardised over its valid share w has Σ_k |F(k)|² = angles² · w,
  // so a ring with itself over all frequencies would score 1.
  return best / (norm * a.angles * a.angles);
}

}  // namespace toolmark::detail
