// Vector index benchmarks (issue 21: the shortlist at 1,000,000 items), on
// 1,000,000 random unit vectors of 256 dimensions (the whitened embedding's
// size; no whitening here, so only the search's own cost is measured; recall
// on real partners is `toolmark bench --vectors`):
//   BM_VectorSearch/kind/bits — one query's shortlist of 100; kind 0 flat
//       (exact), 1 sketch (the nearest 4,096 sketches of `bits` bits
//       re-ranked exactly), 2 IVF (PCA 128, 96 of 4·√n lists), 3 sketch
//       with the whitening (a 512-dimensional query mapped to 256, as the
//       cartridge-case embedding is)
// Each index is built once (about a minute each) and kept for the run.
#include <benchmark/benchmark.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "toolmark/index/vector_index.h"

namespace {
using toolmark::index::VectorId;
using toolmark::index::VectorIndex;
using toolmark::index::VectorIndexKind;
using toolmark::index::VectorIndexOptions;

constexpr int kDims = 256;
constexpr std::size_t kVectors = 1000000;

const std::vector<float>& Data() {
  static const std::vector<float> data = [] {
    std::vector<float> v(kVectors * kDims);
    std::mt19937_64 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::size_t i = 0; i < kVectors; ++i) {
      double norm = 0;
      for (int d = 0; d < kDims; ++d) {
        float& x = v[i * kDims + static_cast<std::size_t>(d)];
        x = normal(rng);
        norm += static_cast<double>(x) * x;
      }
      for (int d = 0; d < kDims; ++d)
        v[i * kDims + static_cast<std::size_t>(d)] /= static_cast<float>(std::sqrt(norm));
    }
    return v;
  }();
  return data;
}

const VectorIndex& IndexFor(int kind, int bits) {
  static std::map<std::pair<int, int>, std::unique_ptr<VectorIndex>> built;
  std::unique_ptr<VectorIndex>& index = built[{kind, bits}];
  if (!index) {
    VectorIndexOptions o;
    o.kind = kind == 0   ? VectorIndexKind::kFlat
             : kind == 2 ? VectorIndexKind::kIvf
                         : VectorIndexKind::kSketch;
    o.whiten_at = kind == 3 ? 2000 : 0;
    if (bits > 0) o.sketch_bits = bits;
    o.ivf_min_train = kVectors;
    index = std::make_unique<VectorIndex>(kDims, o);
    std::vector<VectorId> ids(kVectors);
    for (std::size_t i = 0; i < kVectors; ++i) ids[i] = static_cast<VectorId>(i);
    index->Add(ids, Data());
  }
  return *index;
}

void BM_VectorSearch(benchmark::State& state) {
  const VectorIndex& index = IndexFor(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  std::size_t q = 0;
  for (auto _ : state) {
    const float* query = Data().data() + (q++ * 7919 % kVectors) * kDims;
    benchmark::DoNotOptimize(index.Search(query, 100));
  }
  state.counters["bytes_a_vector"] = static_cast<double>(index.MemoryBytes()) / kVectors;
}
BENCHMARK(BM_VectorSearch)
    ->Args({0, 0})
    ->Args({1, 256})
    ->Args({1, 512})
    ->Args({1, 1024})
    ->Args({2, 0})
    ->Args({3, 512})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace
