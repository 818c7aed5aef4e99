// Private to toolmark::index: binary sketches of the stored vectors, the
// first pass of the kSketch vector index (see vector_index.h and
// docs/search.md).
//
// A vector's sketch is the signs of its coordinates after fixed
// pseudo-random orthogonal transforms: per block, three rounds of a random
// sign flip followed by a Walsh–Hadamard transform of the vector padded with
// zeros to a power of two. The share of differing bits between two sketches
// estimates the angle between the vectors (sign random projections,
// Charikar 2002), so the Hamming distance ranks the stored vectors roughly
// as their inner products would, at a popcount per 64 bits. The search scans
// every sketch, keeps the nearest few thousand and re-ranks those by exact
// inner products. The transforms are made from std::mt19937_64 (whose output
// the C++ standard defines) with a fixed seed, so every build computes the
// same sketches; the sketches are derived from the stored vectors and never
// written to a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace toolmark::index::detail {

/// A query's distance to every position, and how many positions lie at each
/// distance.
struct Distances {
  std::vector<std::uint16_t> distance;  ///< by position; Sketch::kFar for dead ones
  std::vector<std::size_t> count;       ///< positions at distance 0, 1, …, bits
  std::size_t live = 0;                 ///< positions not at kFar
  std::vector<std::size_t> per_chunk;   ///< Sketch::Scan's scratch: counts of each chunk

  /// Counts the given distances (each at most `bits`, or kFar).
  static Distances Of(std::vector<std::uint16_t> distance, int bits);
};

/// Throws toolmark::Error unless `bits` is a multiple of 64 from 64 to 4096.
void CheckSketchBits(int bits);

class Sketch {
 public:
  /// Sketches of `dims`-float vectors in `bits` bits (a multiple of 64,
  /// 64..4096). Throws toolmark::Error for anything else.
  Sketch(int dims, int bits);

  int bits() const { return bits_; }
  /// Sketches held (one per position).
  std::size_t size() const { return codes_.size() / static_cast<std::size_t>(words_); }
  std::size_t MemoryBytes() const { return codes_.size() * sizeof(std::uint64_t) + signs_.size(); }

  /// Appends the sketches of n rows (dims floats each), in order. Rows are
  /// sketched in parallel; each sketch depends on its row alone.
  void Append(const float* rows, std::size_t n);

  /// The Hamming distance from the sketch of `query` to each held sketch
  /// (kFar where live[p] is 0), and their counts; in parallel. `out`'s
  /// memory is reused (a search keeps one per thread: no page faults).
  void Scan(const float* query, const std::vector<char>& live, Distances* out) const;

  static constexpr std::uint16_t kFar = 0xFFFF;

 private:
  /// `work`: padded_ floats of scratch, reused across rows.
  void Encode(const float* row, std::uint64_t* out, std::vector<float>* work) const;

  int dims_ = 0;
  int padded_ = 0;  ///< dims rounded up to a power of two
  int bits_ = 0;
  int words_ = 0;
  int blocks_ = 0;                  ///< transforms: bits / padded, rounded up
  std::vector<signed char> signs_;  ///< blocks × rounds × padded, ±1
  std::vector<std::uint64_t> codes_;
};

/// The positions of the `want` smallest distances (ties: lower position
/// first) among those `accept` accepts (all when empty), ordered by
/// (distance, position). Positions at Sketch::kFar are never returned.
/// `accept` (thread-safe) is asked only about positions that could be among
/// the nearest. Parallel, with the same answer for any thread count.
std::vector<std::size_t> NearestBySketch(const Distances& d, std::size_t want,
                                         const std::function<bool(std::size_t)>& accept);

}  // namespace toolmark::index::detail
