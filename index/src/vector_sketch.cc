// Binary sketches for the kSketch vector index; see vector_sketch.h.
#include "vector_sketch.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "toolmark/engine/check.h"

namespace toolmark::index::detail {
namespace {

constexpr int kRounds = 3;                              ///< sign flip + Walsh–Hadamard rounds per block
constexpr std::uint64_t kSeed = 0x746f6f6c6d61726bULL;  ///< "toolmark": fixed, so every build agrees
constexpr std::size_t kGrain = 16384;                   ///< positions per parallel task

/// In-place unnormalised Walsh–Hadamard transform of n (a power of two)
/// floats. Additions and subtractions only, in a fixed order.
void Fwht(float* x, int n) {
  for (int h = 1; h < n; h *= 2)
    for (int i = 0; i < n; i += 2 * h)
      for (int j = i; j < i + h; ++j) {
        const float a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

/// Hamming distances of one range of sketches to q (kFar for dead
/// positions), counted by distance into count[0..bits]. Compiled twice (with
/// and without the POPCNT instruction) and chosen when the program loads:
/// the same integers either way.
__attribute__((target_clones("popcnt", "default"))) void HammingRange(
    const std::uint64_t* codes, const std::uint64_t* q, int words, const char* live, std::size_t begin,
    std::size_t end, std::uint16_t* distance, std::size_t* count) {
  for (std::size_t p = begin; p < end; ++p) {
    if (!live[p]) {
      distance[p] = Sketch::kFar;
      continue;
    }
    const std::uint64_t* c = codes + p * static_cast<std::size_t>(words);
    int d = 0;
    for (int w = 0; w < words; ++w) d += __builtin_popcountll(c[w] ^ q[w]);
    distance[p] = static_cast<std::uint16_t>(d);
    ++count[d];
  }
}

/// Positions [Begin(c), End(c)) of the c-th of Count() fixed chunks of n.
struct Chunks {
  std::size_t n;
  std::size_t Count() const { return (n + kGrain - 1) / kGrain; }
  std::size_t Begin(std::size_t c) const { return c * kGrain; }
  std::size_t End(std::size_t c) const { return std::min(n, (c + 1) * kGrain); }
};

}  // namespace

void CheckSketchBits(int bits) {
  Check(bits >= 64 && bits <= 4096 && bits % 64 == 0,
        "vector index: sketch bits must be a multiple of 64 from 64 to 4096");
}

Sketch::Sketch(int dims, int bits) : dims_(dims), bits_(bits) {
  Check(dims >= 1 && dims <= 65536, "vector index: sketch dimensions must be 1..65536");
  CheckSketchBits(bits);
  padded_ = 1;
  while (padded_ < dims_) padded_ *= 2;
  words_ = bits_ / 64;
  blocks_ = (bits_ + padded_ - 1) / padded_;
  std::mt19937_64 rng(kSeed);
  signs_.resize(static_cast<std::size_t>(blocks_) * kRounds * static_cast<std::size_t>(padded_));
  for (signed char& s : signs_) s = (rng() >> 63) != 0 ? 1 : -1;
}

void Sketch::Encode(const float* row, std::uint64_t* out, std::vector<float>* work) const {
  std::vector<float>& x = *work;
  x.resize(static_cast<std::size_t>(padded_));
  std::fill(out, out + words_, 0);
  for (int b = 0; b < blocks_; ++b) {
    std::copy(row, row + dims_, x.begin());
    std::fill(x.begin() + dims_, x.end(), 0.0f);
    for (int r = 0; r < kRounds; ++r) {
      const signed char* s = signs_.data() + (static_cast<std::size_t>(b) * kRounds + r) * padded_;
      for (int i = 0; i < padded_; ++i)
        if (s[i] < 0) x[static_cast<std::size_t>(i)] = -x[static_cast<std::size_t>(i)];
      Fwht(x.data(), padded_);
    }
    for (int i = 0; i < padded_; ++i) {
      const int bit = b * padded_ + i;
      if (bit >= bits_) break;
      if (x[static_cast<std::size_t>(i)] > 0) out[bit / 64] |= std::uint64_t{1} << (bit % 64);
    }
  }
}

void Sketch::Append(const float* rows, std::size_t n) {
  const std::size_t first = size();
  codes_.resize((first + n) * static_cast<std::size_t>(words_));
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kGrain / 16),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      std::vector<float> work;
                      for (std::size_t i = range.begin(); i != range.end(); ++i)
                        Encode(rows + i * static_cast<std::size_t>(dims_),
                               codes_.data() + (first + i) * static_cast<std::size_t>(words_), &work);
                    });
}

Distances Distances::Of(std::vector<std::uint16_t> distance, int bits) {
  Distances d;
  d.count.assign(static_cast<std::size_t>(bits) + 1, 0);
  for (std::uint16_t x : distance) {
    if (x == Sketch::kFar) continue;
    Check(x <= bits, "vector index: a sketch distance beyond the sketch's bits");
    ++d.count[x];
    ++d.live;
  }
  d.distance = std::move(distance);
  return d;
}

void Sketch::Scan(const float* query, const std::vector<char>& live, Distances* out) const {
  std::vector<std::uint64_t> q(static_cast<std::size_t>(words_));
  std::vector<float> work;
  Encode(query, q.data(), &work);
  const Chunks chunks{std::min(size(), live.size())};
  const auto levels = static_cast<std::size_t>(bits_) + 1;
  Distances& d = *out;
  d.distance.resize(chunks.n);
  d.per_chunk.assign(chunks.Count() * levels, 0);  // summed below, in any order: integers
  tbb::parallel_for(std::size_t{0}, chunks.Count(), [&](std::size_t c) {
    HammingRange(codes_.data(), q.data(), words_, live.data(), chunks.Begin(c), chunks.End(c),
                 d.distance.data(), d.per_chunk.data() + c * levels);
  });
  d.count.assign(levels, 0);
  for (std::size_t c = 0; c < chunks.Count(); ++c)
    for (std::size_t l = 0; l < levels; ++l) d.count[l] += d.per_chunk[c * levels + l];
  d.live = 0;
  for (std::size_t x : d.count) d.live += x;
}

std::vector<std::size_t> NearestBySketch(const Distances& d, std::size_t want,
                                         const std::function<bool(std::size_t)>& accept) {
  const int bits = static_cast<int>(d.count.size()) - 1;
  const Chunks chunks{d.distance.size()};
  std::vector<std::pair<std::uint16_t, std::size_t>> picked;  // (distance, position)
  std::vector<std::vector<std::pair<std::uint16_t, std::size_t>>> nearer(chunks.Count());
  std::vector<std::vector<std::size_t>> tied(chunks.Count());
  std::size_t target = std::min(want, d.live);
  while (target > 0) {
    // Every position nearer than `level`, and the first `quota` at `level`
    // in position order: the `target` nearest, ties to the lower position.
    std::size_t below = 0;
    int level = 0;
    while (level < bits && below + d.count[static_cast<std::size_t>(level)] < target)
      below += d.count[static_cast<std::size_t>(level++)];
    const std::size_t quota = target - below;
    tbb::parallel_for(std::size_t{0}, chunks.Count(), [&](std::size_t c) {
      nearer[c].clear();
      tied[c].clear();
      for (std::size_t p = chunks.Begin(c); p < chunks.End(c); ++p) {
        const int x = d.distance[p];
        if (x < level && (!accept || accept(p)))
          nearer[c].emplace_back(static_cast<std::uint16_t>(x), p);
        else if (x == level)
          tied[c].push_back(p);
      }
    });
    picked.clear();
    for (const auto& part : nearer) picked.insert(picked.end(), part.begin(), part.end());
    std::size_t left = quota;
    for (const auto& part : tied)
      for (std::size_t i = 0; i < part.size() && left > 0; ++i, --left)
        if (!accept || accept(part[i])) picked.emplace_back(static_cast<std::uint16_t>(level), part[i]);
    if (picked.size() >= want || target >= d.live) break;
    // Too few accepted: widen by the share the filter let through.
    const std::size_t seen = below + quota - left;
    const double share =
        static_cast<double>(std::max<std::size_t>(picked.size(), 1)) / static_cast<double>(seen);
    const auto wider = static_cast<std::size_t>(std::ceil(1.25 * static_cast<double>(want) / share));
    target = std::min(d.live, std::max(2 * target, wider));
  }
  std::sort(picked.begin(), picked.end());
  if (picked.size() > want) picked.resize(want);
  std::vector<std::size_t> out;
  out.reserve(picked.size());
  for (const auto& [x, p] : picked) out.push_back(p);
  return out;
}

}  // namespace toolmark::index::detail
