// The vector index (toolmark/index/vector_index.h): exactness of the flat
// index, recall of HNSW and IVF against exact search, filters inside the search,
// add / replace / remove, persistence (identical results after a reload,
// corrupted and truncated files refused), automatic kind, determinism.
#include "toolmark/index/vector_index.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {
namespace fs = std::filesystem;

/// n unit vectors of `dims` around `clusters` random centres (so that
/// neighbours are meaningful), seeded.
std::vector<float> Vectors(std::size_t n, int dims, int clusters, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(static_cast<std::size_t>(clusters * dims));
  for (float& c : centres) c = normal(rng);
  std::vector<float> out(n * static_cast<std::size_t>(dims));
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = i % static_cast<std::size_t>(clusters);
    double norm = 0;
    for (int d = 0; d < dims; ++d) {
      float& v = out[i * static_cast<std::size_t>(dims) + static_cast<std::size_t>(d)];
      v = centres[c * static_cast<std::size_t>(dims) + static_cast<std::size_t>(d)] + 0.7f * normal(rng);
      norm += static_cast<double>(v) * v;
    }
    for (int d = 0; d < dims; ++d)
      out[i * static_cast<std::size_t>(dims) + static_cast<std::size_t>(d)] /=
          static_cast<float>(std::sqrt(norm));
  }
  return out;
}

std::vector<VectorId> Ids(std::size_t n, VectorId first = 1000) {
  std::vector<VectorId> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = first + static_cast<VectorId>(i) * 3;
  return ids;
}

/// Exact top k by brute force (ties: smaller id), among ids `accept` takes.
std::vector<VectorId> BruteForce(const std::vector<VectorId>& ids, const std::vector<float>& vectors,
                                 int dims, const float* q, std::size_t k,
                                 const VectorFilter* accept = nullptr) {
  std::vector<std::pair<float, VectorId>> all;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (accept && !(*accept)(ids[i])) continue;
    float dot = 0;
    for (int d = 0; d < dims; ++d)
      dot += vectors[i * static_cast<std::size_t>(dims) + static_cast<std::size_t>(d)] * q[d];
    all.emplace_back(-dot, ids[i]);
  }
  std::sort(all.begin(), all.end());
  std::vector<VectorId> out;
  for (std::size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].second);
  return out;
}

std::vector<VectorId> HitIds(const std::vector<VectorHit>& hits) {
  std::vector<VectorId> out;
  for (const VectorHit& h : hits) out.push_back(h.id);
  return out;
}

/// How many of the exact list's ids a search's list holds.
std::size_t Shared(const std::vector<VectorId>& exact, const std::vector<VectorId>& got) {
  std::size_t n = 0;
  for (VectorId id : exact) n += static_cast<std::size_t>(std::count(got.begin(), got.end(), id));
  return n;
}

const float* Row(const std::vector<float>& v, std::size_t i, int dims) {
  return v.data() + i * static_cast<std::size_t>(dims);
}

TEST(VectorIndex, FlatIsExact) {
  constexpr int kDims = 64;
  const std::vector<float> v = Vectors(3000, kDims, 50, 1);
  const std::vector<VectorId> ids = Ids(3000);
  VectorIndexOptions o;
  o.kind = VectorIndexKind::kFlat;
  o.whiten_at = 0;  // raw inner products (whitening: its own tests)
  VectorIndex index(kDims, o);
  index.Add(ids, v);
  EXPECT_EQ(index.size(), 3000u);
  EXPECT_EQ(index.kind(), VectorIndexKind::kFlat);
  const std::vector<float> queries = Vectors(20, kDims, 50, 2);
  for (std::size_t q = 0; q < 20; ++q) {
    const std::vector<VectorHit> hits = index.Search(Row(queries, q, kDims), 10);
    ASSERT_EQ(hits.size(), 10u);
    EXPECT_EQ(HitIds(hits), BruteForce(ids, v, kDims, Row(queries, q, kDims), 10));
    for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].similarity, hits[i].similarity);
  }
  // A stored vector finds itself first, with similarity 1.
  const std::vector<VectorHit> self = index.Search(Row(v, 17, kDims), 1);
  ASSERT_EQ(self.size(), 1u);
  EXPECT_EQ(self[0].id, ids[17]);
  EXPECT_NEAR(self[0].similarity, 1.0f, 1e-5);
}

TEST(VectorIndex, HnswRecallAgainstExactSearch) {
  constexpr int kDims = 64;
  const std::vector<float> v = Vectors(20000, kDims, 400, 3);
  const std::vector<VectorId> ids = Ids(20000);
  VectorIndexOptions o;
  o.kind = VectorIndexKind::kHnsw;
  o.whiten_at = 0;
  VectorIndex index(kDims, o);
  index.Add(ids, v);
  EXPECT_EQ(index.kind(), VectorIndexKind::kHnsw);
  const std::vector<float> queries = Vectors(100, kDims, 400, 4);
  std::size_t found = 0;
  for (std::size_t q = 0; q < 100; ++q) {
    const std::vector<VectorId> exact = BruteForce(ids, v, kDims, Row(queries, q, kDims), 10);
    const std::vector<VectorId> got = HitIds(index.Search(Row(queries, q, kDims), 10));
    found += Shared(exact, got);
  }
  const double recall = static_cast<double>(found) / 1000;
  std::printf("HNSW recall@10 against exact search (20,000 vectors, 64 dims): %.3f\n", recall);
  EXPECT_GE(recall, 0.95);
}

/// IVF options for small test sets: trained from 256 vectors on, PCA to
/// `reduced` dimensions (default: all of them, a rotation).
VectorIndexOptions IvfOptions(int dims, int reduced = 0) {
  VectorIndexOptions o;
  o.kind = VectorIndexKind::kIvf;
  o.ivf_min_train = 256;
  o.ivf_dims = reduced > 0 ? reduced : dims;
  o.whiten_at = 0;
  return o;
}

/// n unit vectors of `dims` whose energy lies in `rank` random directions
/// (clustered there) plus a little isotropic noise, as embeddings'
/// spectra decay; seeded.
std::vector<float> LowRankVectors(std::size_t n, int dims, int rank, int clusters, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> basis(static_cast<std::size_t>(rank * dims));
  for (float& b : basis) b = normal(rng) / std::sqrt(static_cast<float>(dims));
  const std::vector<float> low = Vectors(n, rank, clusters, seed + 1);
  std::vector<float> out(n * static_cast<std::size_t>(dims));
  for (std::size_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int d = 0; d < dims; ++d) {
      float v = 0.02f * normal(rng);
      for (int r = 0; r < rank; ++r)
        v += low[i * static_cast<std::size_t>(rank) + static_cast<std::size_t>(r)] *
             basis[static_cast<std::size_t>(r * dims + d)];
      out[i * static_cast<std::size_t>(dims) + static_cast<std::size_t>(d)] = v;
      norm += static_cast<double>(v) * v;
    }
    for (int d = 0; d < dims; ++d)
      out[i * static_cast<std::size_t>(dims) + static_cast<std::size_t>(d)] /=
          static_cast<float>(std::sqrt(norm));
  }
  return out;
}

/// Options for `kind` on small test sets; whitened from `whiten_at` vectors (0: never).
/// (Sketch: re-ranks the nearest 200, so that test sets of a few thousand use the sketches.)
VectorIndexOptions OptionsFor(VectorIndexKind kind, int dims, std::size_t whiten_at = 0) {
  VectorIndexOptions o = kind == VectorIndexKind::kIvf ? IvfOptions(dims) : VectorIndexOptions();
  o.kind = kind;
  o.whiten_at = whiten_at;
  o.sketch_rerank = 200;
  return o;
}

constexpr VectorIndexKind kKinds[] = {VectorIndexKind::kFlat, VectorIndexKind::kHnsw, VectorIndexKind::kIvf,
                                      VectorIndexKind::kSketch};

TEST(VectorIndex, IvfRecallAgainstExactSearch) {
  constexpr int kDims = 64;
  const std::vector<float> all = LowRankVectors(20100, kDims, 24, 400, 3);
  const std::vector<float> v(all.begin(), all.begin() + 20000 * kDims);
  const std::vector<float> queries(all.begin() + 20000 * kDims, all.end());
  const std::vector<VectorId> ids = Ids(20000);
  VectorIndex index(kDims, IvfOptions(kDims, 32));
  index.Add(ids, v);
  EXPECT_EQ(index.kind(), VectorIndexKind::kIvf);
  std::size_t found = 0;
  for (std::size_t q = 0; q < 100; ++q) {
    const std::vector<VectorId> exact = BruteForce(ids, v, kDims, Row(queries, q, kDims), 10);
    const std::vector<VectorId> got = HitIds(index.Search(Row(queries, q, kDims), 10));
    found += Shared(exact, got);
  }
  const double recall = static_cast<double>(found) / 1000;
  std::printf("IVF (PCA 64 -> 32) recall@10 against exact search (20,000 vectors): %.3f; %zu bytes\n", recall,
              index.MemoryBytes());
  EXPECT_GE(recall, 0.9);
  // Smaller than the vectors themselves (20,000 × 64 floats): it keeps 32 of 64 dimensions.
  EXPECT_LT(index.MemoryBytes(), std::size_t{20000} * kDims * sizeof(float));
}

/// A sketch index of `bits` bits a vector re-ranking `rerank`, unwhitened.
VectorIndexOptions SketchOptions(int bits, std::size_t rerank) {
  VectorIndexOptions o;
  o.kind = VectorIndexKind::kSketch;
  o.whiten_at = 0;
  o.sketch_bits = bits;
  o.sketch_rerank = rerank;
  return o;
}

/// Sketches against exact search: the nearest 500 of 20,000 by Hamming
/// distance, re-ranked exactly, hold nearly all of the exact top 10; the
/// similarities are exact; more bits or a deeper re-ranking never do worse
/// here.
TEST(VectorIndex, SketchRecallAgainstExactSearch) {
  constexpr int kDims = 64;
  const std::vector<float> v = Vectors(20000, kDims, 400, 3);
  const std::vector<VectorId> ids = Ids(20000);
  const std::vector<float> queries = Vectors(100, kDims, 400, 4);
  std::vector<double> recalls;
  for (const auto& [bits, rerank] : {std::pair{64, 500}, std::pair{256, 500}, std::pair{256, 2000}}) {
    VectorIndex index(kDims, SketchOptions(bits, rerank));
    index.Add(ids, v);
    ASSERT_EQ(index.kind(), VectorIndexKind::kSketch);
    std::size_t found = 0;
    for (std::size_t q = 0; q < 100; ++q) {
      const float* query = Row(queries, q, kDims);
      const std::vector<VectorId> exact = BruteForce(ids, v, kDims, query, 10);
      const std::vector<VectorHit> hits = index.Search(query, 10);
      ASSERT_EQ(hits.size(), 10u);
      for (const VectorHit& h : hits) {
        const std::size_t row = static_cast<std::size_t>((h.id - 1000) / 3);
        float dot = 0;
        for (int d = 0; d < kDims; ++d) dot += Row(v, row, kDims)[d] * query[d];
        EXPECT_NEAR(h.similarity, dot, 1e-5);
      }
      const std::vector<VectorId> got = HitIds(hits);
      found += Shared(exact, got);
    }
    recalls.push_back(static_cast<double>(found) / 1000);
    std::printf(
        "sketch %d bits, re-rank %d: recall@10 against exact search (20,000 vectors, 64 dims): %.3f; %zu "
        "bytes\n",
        bits, rerank, recalls.back(), index.MemoryBytes());
  }
  EXPECT_GE(recalls[1], 0.95);
  EXPECT_GE(recalls[1], recalls[0]);
  EXPECT_GE(recalls[2], recalls[1]);
  EXPECT_LT(recalls[0], 1.0);  // 64 bits and a shallow re-ranking do lose some: the measure can fail
}

/// A long list (a screening's deep list) from sketches: the search
/// re-ranks 8 times the list, however low sketch_rerank is set, so the
/// list holds nearly all of the exact one; re-ranking the list's own length
/// (what a search did before) kept far less.
TEST(VectorIndex, ASketchSearchForALongListReRanksEightTimesIt) {
  constexpr int kDims = 64;
  constexpr std::size_t kList = 250;
  const std::vector<float> v = Vectors(20000, kDims, 400, 3);
  const std::vector<VectorId> ids = Ids(20000);
  const std::vector<float> queries = Vectors(20, kDims, 400, 4);
  VectorIndex index(kDims, SketchOptions(256, 1));
  index.Add(ids, v);
  ASSERT_EQ(index.kind(), VectorIndexKind::kSketch);
  std::size_t found = 0;
  for (std::size_t q = 0; q < 20; ++q) {
    const float* query = Row(queries, q, kDims);
    const std::vector<VectorId> exact = BruteForce(ids, v, kDims, query, kList);
    const std::vector<VectorId> got = HitIds(index.Search(query, kList));
    ASSERT_EQ(got.size(), kList);
    found += Shared(exact, got);
  }
  const double recall = static_cast<double>(found) / (20.0 * kList);
  std::printf("sketch 256 bits, a list of %zu: recall against exact search: %.3f\n", kList, recall);
  EXPECT_GE(recall, 0.9);
}

TEST(VectorIndex, FiltersRunInsideTheSearch) {
  constexpr int kDims = 32;
  const std::vector<float> v = Vectors(5000, kDims, 100, 5);
  const std::vector<VectorId> ids = Ids(5000);
  const std::vector<float> queries = Vectors(10, kDims, 100, 6);
  // Half the ids, and a selective filter that takes 1% of them.
  const VectorFilter even = [](VectorId id) { return id % 2 == 0; };
  const VectorFilter rare = [](VectorId id) { return id % 97 == 0; };
  for (VectorIndexKind kind : kKinds) {
    SCOPED_TRACE(VectorIndexKindName(kind));
    VectorIndex index(kDims, OptionsFor(kind, kDims));
    index.Add(ids, v);
    EXPECT_EQ(index.kind(), kind);
    for (std::size_t q = 0; q < 10; ++q) {
      const float* query = Row(queries, q, kDims);
      for (const VectorFilter* f : {&even, &rare}) {
        const std::vector<VectorHit> hits = index.Search(query, 20, f);
        ASSERT_EQ(hits.size(), 20u);  // still k hits: filtered inside, not after
        for (const VectorHit& h : hits) EXPECT_TRUE((*f)(h.id)) << h.id;
        const std::vector<VectorId> exact = BruteForce(ids, v, kDims, query, 20, f);
        // (HNSW and sketch answer a filter that leaves fewer vectors than
        // they would look at exactly.)
        if (kind == VectorIndexKind::kFlat || (kind != VectorIndexKind::kIvf && f == &rare)) {
          EXPECT_EQ(HitIds(hits), exact);
        } else if (f == &rare) {  // IVF: every list searched, in the reduced space
          const std::vector<VectorId> got = HitIds(hits);
          EXPECT_GE(Shared(exact, got), 16u);
        } else if (kind == VectorIndexKind::kSketch) {  // re-ranked exactly: what it finds is in order
          const std::vector<VectorId> got = HitIds(hits);
          EXPECT_GE(Shared(exact, got), 18u);
          for (std::size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].similarity, hits[i].similarity);
        }
      }
      // A filter nothing passes: no hits.
      const VectorFilter none = [](VectorId) { return false; };
      EXPECT_TRUE(index.Search(query, 5, &none).empty());
    }
  }
}

TEST(VectorIndex, AddReplaceRemove) {
  constexpr int kDims = 16;
  for (VectorIndexKind kind : kKinds) {
    SCOPED_TRACE(VectorIndexKindName(kind));
    const std::vector<float> v = Vectors(3000, kDims, 30, 7);
    const std::vector<VectorId> ids = Ids(3000);
    VectorIndex index(kDims, OptionsFor(kind, kDims));
    index.Add(ids, v);
    // Remove: never returned again.
    EXPECT_TRUE(index.Remove(ids[5]));
    EXPECT_FALSE(index.Remove(ids[5]));
    EXPECT_FALSE(index.Contains(ids[5]));
    EXPECT_EQ(index.size(), 2999u);
    for (const VectorHit& h : index.Search(Row(v, 5, kDims), 50)) EXPECT_NE(h.id, ids[5]);
    // Replace: the id now has the vector of item 9.
    index.Add({ids[7]}, std::vector<float>(Row(v, 9, kDims), Row(v, 9, kDims) + kDims));
    EXPECT_EQ(index.size(), 2999u);
    const std::vector<VectorHit> hits = index.Search(Row(v, 9, kDims), 2);
    ASSERT_EQ(hits.size(), 2u);
    const double tolerance =
        kind == VectorIndexKind::kIvf ? 0.05 : 1e-5;  // IVF: reduced (a rotation here) and approximate
    EXPECT_NEAR(hits[0].similarity, 1.0f, tolerance);
    EXPECT_NEAR(hits[1].similarity, 1.0f, tolerance);
    EXPECT_EQ(std::min(hits[0].id, hits[1].id), ids[7]);
    // Removing most of them compacts the index; what is left still searches exactly.
    for (std::size_t i = 100; i < 3000; ++i) index.Remove(ids[i]);
    EXPECT_EQ(index.size(), 99u);
    std::vector<VectorId> kept_ids;
    std::vector<float> kept;
    for (std::size_t i = 0; i < 100; ++i) {
      if (i == 5) continue;
      kept_ids.push_back(ids[i]);
      const float* row = i == 7 ? Row(v, 9, kDims) : Row(v, i, kDims);
      kept.insert(kept.end(), row, row + kDims);
    }
    const std::vector<float> q = Vectors(1, kDims, 30, 8);
    const std::vector<VectorId> exact = BruteForce(kept_ids, kept, kDims, q.data(), 10);
    const std::vector<VectorId> got = HitIds(index.Search(q.data(), 10));
    if (kind != VectorIndexKind::kIvf) {
      EXPECT_EQ(got, exact);
    } else {  // approximate, but every one of the 99 is reachable
      ASSERT_EQ(got.size(), 10u);
      EXPECT_GE(Shared(exact, got), 8u);
    }
  }
}

TEST(VectorIndex, AutomaticKindFollowsSize) {
  constexpr int kDims = 8;
  VectorIndexOptions o;
  o.approximate_above = 500;
  VectorIndex index(kDims, o);
  EXPECT_EQ(index.kind(), VectorIndexKind::kFlat);
  const std::vector<float> v = Vectors(800, kDims, 10, 9);
  const std::vector<VectorId> ids = Ids(800);
  index.Add(std::vector<VectorId>(ids.begin(), ids.begin() + 400),
            std::vector<float>(v.begin(), v.begin() + 400 * kDims));
  EXPECT_EQ(index.kind(), VectorIndexKind::kFlat);
  index.Add(std::vector<VectorId>(ids.begin() + 400, ids.end()),
            std::vector<float>(v.begin() + 400 * kDims, v.end()));
  EXPECT_EQ(index.kind(), VectorIndexKind::kFlat);  // a search would re-rank them all anyway
  // IVF, when chosen: flat until ivf_min_train vectors.
  VectorIndexOptions small = o;
  small.kind = VectorIndexKind::kIvf;
  small.ivf_min_train = 500;
  VectorIndex grown(kDims, small);
  grown.Add(std::vector<VectorId>(ids.begin(), ids.begin() + 400),
            std::vector<float>(v.begin(), v.begin() + 400 * kDims));
  EXPECT_EQ(grown.kind(), VectorIndexKind::kFlat);
  grown.Add(std::vector<VectorId>(ids.begin() + 400, ids.end()),
            std::vector<float>(v.begin() + 400 * kDims, v.end()));
  EXPECT_EQ(grown.kind(), VectorIndexKind::kIvf);
  EXPECT_EQ(grown.size(), 800u);
  EXPECT_EQ(grown.Search(Row(v, 650, kDims), 1).at(0).id, ids[650]);
  // Once IVF, it stays IVF when it shrinks (it holds no full vectors to go back).
  for (std::size_t i = 0; i < 700; ++i) grown.Remove(ids[i]);
  EXPECT_EQ(grown.kind(), VectorIndexKind::kIvf);
  EXPECT_EQ(grown.size(), 100u);
  EXPECT_EQ(grown.Search(Row(v, 750, kDims), 1).at(0).id, ids[750]);
  // Auto above approximate_above: sketches, once there are more vectors
  // than a search re-ranks; back to flat when it shrinks (it keeps the full
  // vectors).
  VectorIndexOptions sketched = o;
  sketched.sketch_rerank = 600;
  VectorIndex auto_sketch(kDims, sketched);
  auto_sketch.Add(ids, v);
  EXPECT_EQ(auto_sketch.kind(), VectorIndexKind::kSketch);
  EXPECT_EQ(auto_sketch.Search(Row(v, 650, kDims), 1).at(0).id, ids[650]);
  for (std::size_t i = 0; i < 300; ++i) auto_sketch.Remove(ids[i]);
  EXPECT_EQ(auto_sketch.kind(), VectorIndexKind::kFlat);
  EXPECT_EQ(auto_sketch.Search(Row(v, 650, kDims), 1).at(0).id, ids[650]);
  EXPECT_EQ(ParseVectorIndexKind("sketch"), VectorIndexKind::kSketch);
  EXPECT_EQ(ParseVectorIndexKind("hnsw"), VectorIndexKind::kHnsw);
  EXPECT_EQ(ParseVectorIndexKind("ivf"), VectorIndexKind::kIvf);
  EXPECT_THROW(ParseVectorIndexKind("annoy"), Error);
}

TEST(VectorIndex, SaveLoadGivesIdenticalResults) {
  constexpr int kDims = 32;
  const testing::TempDir temp;
  const std::string dir = temp.path().string();
  const std::vector<float> v = Vectors(4000, kDims, 60, 10);
  const std::vector<VectorId> ids = Ids(4000);
  const std::vector<float> queries = Vectors(10, kDims, 60, 11);
  for (const std::size_t whiten_at : {std::size_t{0}, std::size_t{1500}})
    for (VectorIndexKind kind : kKinds) {
      SCOPED_TRACE(std::string(VectorIndexKindName(kind)) + (whiten_at > 0 ? ", whitened" : ""));
      const VectorIndexOptions o = OptionsFor(kind, kDims, whiten_at);
      VectorIndex index(kDims, o);
      index.Add(ids, v);
      index.Remove(ids[3]);
      const std::string path = dir + "/index-" + VectorIndexKindName(kind) + ".tmvi";
      index.Save(path);
      const VectorIndex loaded = VectorIndex::Load(path, o);
      EXPECT_EQ(loaded.kind(), kind);
      EXPECT_EQ(loaded.size(), index.size());
      EXPECT_FALSE(loaded.Contains(ids[3]));
      for (std::size_t q = 0; q < 10; ++q) {
        const std::vector<VectorHit> a = index.Search(Row(queries, q, kDims), 15);
        const std::vector<VectorHit> b = loaded.Search(Row(queries, q, kDims), 15);
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
          EXPECT_EQ(a[i].id, b[i].id);
          EXPECT_EQ(a[i].similarity, b[i].similarity);
        }
      }
      // Rebuilt from the same vectors in the same order: the same results.
      // (IVF and the whitening are fitted on the first vectors the index
      // holds, so their rebuild repeats the same adds and removals; flat and
      // HNSW are rebuilt from the live vectors alone.)
      VectorIndex rebuilt(kDims, o);
      std::vector<VectorId> live_ids(ids.begin(), ids.end());
      std::vector<float> live(v.begin(), v.end());
      if (kind == VectorIndexKind::kIvf || whiten_at > 0) {
        rebuilt.Add(live_ids, live);
        rebuilt.Remove(ids[3]);
      } else {
        live_ids.erase(live_ids.begin() + 3);
        live.erase(live.begin() + 3 * kDims, live.begin() + 4 * kDims);
        rebuilt.Add(live_ids, live);
      }
      for (std::size_t q = 0; q < 10; ++q)
        EXPECT_EQ(HitIds(rebuilt.Search(Row(queries, q, kDims), 15)),
                  HitIds(loaded.Search(Row(queries, q, kDims), 15)));
    }
}

TEST(VectorIndex, CorruptedTruncatedOrMissingFilesAreRefused) {
  constexpr int kDims = 16;
  const testing::TempDir temp;
  const std::string dir = temp.path().string();
  for (const std::size_t whiten_at : {std::size_t{0}, std::size_t{200}})
    for (VectorIndexKind kind : {VectorIndexKind::kFlat, VectorIndexKind::kIvf, VectorIndexKind::kSketch}) {
      SCOPED_TRACE(std::string(VectorIndexKindName(kind)) + (whiten_at > 0 ? ", whitened" : ""));
      VectorIndex index(kDims, OptionsFor(kind, kDims, whiten_at));
      index.Add(Ids(500), Vectors(500, kDims, 10, 12));
      ASSERT_EQ(index.kind(), kind);
      const std::string path = dir + "/index.tmvi";
      index.Save(path);
      const std::string bytes = testing::ReadFile(path);
      const auto write = [&](const std::string& name, const std::string& content) {
        testing::WriteFile(dir + "/" + name, content);
        return dir + "/" + name;
      };
      const auto refused = [&](const std::string& p) {
        try {
          VectorIndex::Load(p, OptionsFor(kind, kDims, whiten_at));
          return std::string("loaded");
        } catch (const Error& e) {
          return std::string(e.what());
        }
      };
      // Every single flipped byte (a sample across the whole file) is caught.
      for (std::size_t at = 0; at < bytes.size(); at += std::max<std::size_t>(1, bytes.size() / 97)) {
        std::string bad = bytes;
        bad[at] = static_cast<char>(bad[at] ^ 0x5a);
        const std::string why = refused(write("flipped.tmvi", bad));
        EXPECT_NE(why, "loaded") << "byte " << at;
        EXPECT_EQ(why.find('\n'), std::string::npos);
      }
      for (std::size_t keep :
           {std::size_t{0}, std::size_t{7}, std::size_t{40}, bytes.size() / 2, bytes.size() - 1})
        EXPECT_NE(refused(write("short.tmvi", bytes.substr(0, keep))), "loaded") << keep;
      EXPECT_NE(refused(write("long.tmvi", bytes + "x")), "loaded");
      EXPECT_NE(refused(dir + "/missing.tmvi"), "loaded");
      // A file of the format before whitening: refused (the caller rebuilds).
      std::string old = bytes;
      old[6] = '1';
      EXPECT_NE(refused(write("old.tmvi", old)).find("earlier version"), std::string::npos);
      EXPECT_EQ(refused(path), "loaded");
    }
}

/// An IVF index saved when IVF was the automatic choice above 500,000 is
/// refused under kAuto (the caller rebuilds it, as sketches), and still
/// loads when IVF is asked for.
TEST(VectorIndex, AnIvfFileIsRebuiltUnderAuto) {
  constexpr int kDims = 16;
  const testing::TempDir temp;
  const std::string path = temp.path().string() + "/index.tmvi";
  VectorIndex index(kDims, OptionsFor(VectorIndexKind::kIvf, kDims));
  index.Add(Ids(500), Vectors(500, kDims, 10, 12));
  ASSERT_EQ(index.kind(), VectorIndexKind::kIvf);
  index.Save(path);
  try {
    VectorIndex::Load(path, VectorIndexOptions());
    ADD_FAILURE() << "loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no longer the automatic choice"), std::string::npos) << e.what();
  }
  EXPECT_EQ(VectorIndex::Load(path, OptionsFor(VectorIndexKind::kIvf, kDims)).kind(), VectorIndexKind::kIvf);
}

TEST(VectorIndex, BadInputThrowsOneLineErrors) {
  EXPECT_THROW(VectorIndex(0), Error);
  VectorIndexOptions bad;
  bad.hnsw_neighbours = 1;
  EXPECT_THROW(VectorIndex(8, bad), Error);
  // Sketch options: bits that are not whole 64-bit words, or nothing to re-rank.
  for (int bits : {0, 100, 8192}) {
    VectorIndexOptions sketch;
    sketch.sketch_bits = bits;
    try {
      VectorIndex index(8, sketch);
      ADD_FAILURE() << bits << " bits accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("multiple of 64"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
  VectorIndexOptions no_rerank;
  no_rerank.sketch_rerank = 0;
  EXPECT_THROW(VectorIndex(8, no_rerank), Error);
  VectorIndex index(4);
  EXPECT_THROW(index.Add({1, 2}, std::vector<float>(7, 0.5f)), Error);
  EXPECT_THROW(index.Add({1}, {0.5f, std::numeric_limits<float>::quiet_NaN(), 0.5f, 0.5f}), Error);
  EXPECT_EQ(index.size(), 0u);  // nothing half-added
  index.Add({1}, {0.5f, 0.5f, 0.5f, 0.5f});
  const float nan_query[] = {0.5f, std::numeric_limits<float>::infinity(), 0.5f, 0.5f};
  EXPECT_THROW(index.Search(nan_query, 1), Error);
  EXPECT_TRUE(VectorIndex(4).Search(nan_query, 3).empty());  // empty index: nothing to find
}

TEST(VectorIndex, DeterministicWithAnyThreadCount) {
  constexpr int kDims = 32;
  const std::vector<float> v = Vectors(6000, kDims, 80, 13);
  const std::vector<VectorId> ids = Ids(6000);
  const std::vector<float> queries = Vectors(20, kDims, 80, 14);
  std::vector<std::vector<VectorHit>> first;
  for (const std::size_t whiten_at : {std::size_t{0}, std::size_t{3000}})
    for (VectorIndexKind kind : kKinds)
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::string(VectorIndexKindName(kind)) + (whiten_at > 0 ? ", whitened" : ""));
        omp_set_num_threads(threads);
        VectorIndex index(kDims, OptionsFor(kind, kDims, whiten_at));
        index.Add(ids, v);
        if (threads == 1) first.clear();
        for (std::size_t q = 0; q < 20; ++q) {
          const std::vector<VectorHit> hits = index.Search(Row(queries, q, kDims), 10);
          if (threads == 1) {
            first.push_back(hits);
            continue;
          }
          ASSERT_EQ(hits.size(), first[q].size());
          for (std::size_t i = 0; i < hits.size(); ++i) {
            EXPECT_EQ(hits[i].id, first[q][i].id);
            EXPECT_EQ(hits[i].similarity, first[q][i].similarity);
          }
        }
      }
}

/// The situation whitening is for: every vector carries large components
/// along a few shared "nuisance" directions (an offset common to all, and
/// amplitudes that vary from item to item, as the rings' power spectrum does
/// in the cartridge-case embedding), and a pair of items shares a weaker
/// signature of its own. By raw cosine the nuisance decides and the partner
/// is lost among distractors; centred and whitened, the signature decides.
TEST(VectorIndex, WhiteningFindsPartnersThatSharedComponentsHide) {
  constexpr int kDims = 64, kNuisance = 4, kPairs = 40, kDistractors = 4000;
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> directions(static_cast<std::size_t>(kNuisance * kDims));
  for (float& d : directions) d = normal(rng) / std::sqrt(static_cast<float>(kDims));
  const auto item = [&](const std::vector<float>* signature) {
    std::vector<float> x(kDims, 0.0f);
    for (int k = 0; k < kNuisance; ++k) {
      const float a = (k == 0 ? 3.0f : 0.0f) + 1.5f * normal(rng);
      for (int d = 0; d < kDims; ++d) x[d] += a * directions[static_cast<std::size_t>(k * kDims + d)];
    }
    for (int d = 0; d < kDims; ++d) x[d] += 0.12f * normal(rng) + (signature ? (*signature)[d] : 0.0f);
    return x;
  };
  std::vector<VectorId> ids;
  std::vector<float> all;
  for (int i = 0; i < kDistractors; ++i) {
    const std::vector<float> x = item(nullptr);
    ids.push_back(static_cast<VectorId>(ids.size()));
    all.insert(all.end(), x.begin(), x.end());
  }
  std::vector<std::vector<float>> queries;
  std::vector<VectorId> partners;
  for (int p = 0; p < kPairs; ++p) {
    std::vector<float> signature(kDims);
    for (float& s : signature) s = 0.35f * normal(rng);
    const std::vector<float> stored = item(&signature);
    partners.push_back(static_cast<VectorId>(ids.size()));
    ids.push_back(partners.back());
    all.insert(all.end(), stored.begin(), stored.end());
    queries.push_back(item(&signature));
  }
  const auto found = [&](std::size_t whiten_at) {
    VectorIndex index(kDims, OptionsFor(VectorIndexKind::kFlat, kDims, whiten_at));
    index.Add(ids, all);
    int in_top = 0;
    for (int p = 0; p < kPairs; ++p)
      for (const VectorHit& h : index.Search(queries[static_cast<std::size_t>(p)].data(), 10))
        in_top += h.id == partners[static_cast<std::size_t>(p)];
    return in_top;
  };
  const int raw = found(0), whitened = found(2000);
  std::printf("partners in the top 10 of %d items: raw %d of %d, whitened %d of %d\n", kDistractors + kPairs,
              raw, kPairs, whitened, kPairs);
  EXPECT_LE(raw, kPairs / 2);            // the data shows the problem …
  EXPECT_GE(whitened, kPairs * 9 / 10);  // … and the whitening solves it
}

/// The whitening is fitted once, on the first whiten_at vectors: an index
/// grown one vector at a time and one given everything at once (a database
/// rebuilt from its stored features) are the same; it maps to whiten_dims.
TEST(VectorIndex, WhiteningIsFittedOnceOnTheFirstVectors) {
  constexpr int kDims = 32;
  const std::vector<float> v = Vectors(1200, kDims, 40, 15);
  const std::vector<VectorId> ids = Ids(1200);
  const std::vector<float> queries = Vectors(10, kDims, 40, 16);
  VectorIndexOptions o = OptionsFor(VectorIndexKind::kFlat, kDims, 500);
  o.whiten_dims = 16;
  VectorIndex once(kDims, o), grown(kDims, o), unfitted(kDims, o);
  once.Add(ids, v);
  for (std::size_t i = 0; i < ids.size(); ++i)
    grown.Add({ids[i]}, std::vector<float>(Row(v, i, kDims), Row(v, i, kDims) + kDims));
  unfitted.Add(std::vector<VectorId>(ids.begin(), ids.begin() + 499),
               std::vector<float>(v.begin(), v.begin() + 499 * kDims));
  EXPECT_LT(once.MemoryBytes() - 1200 * 16 * sizeof(float), 1200 * kDims * sizeof(float));  // 16 of 32 kept
  for (std::size_t q = 0; q < 10; ++q) {
    const std::vector<VectorHit> a = once.Search(Row(queries, q, kDims), 10);
    const std::vector<VectorHit> b = grown.Search(Row(queries, q, kDims), 10);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].id, b[i].id);
      EXPECT_EQ(a[i].similarity, b[i].similarity);
    }
    // Below whiten_at: raw inner products, exactly.
    const std::vector<float> first(v.begin(), v.begin() + 499 * kDims);
    EXPECT_EQ(HitIds(unfitted.Search(Row(queries, q, kDims), 10)),
              BruteForce(std::vector<VectorId>(ids.begin(), ids.begin() + 499), first, kDims,
                         Row(queries, q, kDims), 10));
  }
  // A stored vector still finds itself first, at similarity 1 (unit length after the map).
  const std::vector<VectorHit> self = once.Search(Row(v, 700, kDims), 1);
  ASSERT_EQ(self.size(), 1u);
  EXPECT_EQ(self[0].id, ids[700]);
  EXPECT_NEAR(self[0].similarity, 1.0f, 1e-5);
}

}  // namespace
}  // namespace toolmark::index
