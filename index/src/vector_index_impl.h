// Private to toolmark::index: the vector index's state and its FAISS
// structures, shared by vector_index.cc (adding, searching) and
// vector_index_file.cc (Save, Load). See vector_index.cc for the layout.
#pragma once

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/distances.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "single_omp_thread.h"
#include "toolmark/index/vector_index.h"
#include "vector_sketch.h"
#include "vector_whitening.h"

namespace toolmark::index {
namespace detail {

constexpr std::size_t kMinCompactDead = 1024;  ///< compact when this many are dead …
constexpr double kCompactDeadShare = 0.25;     ///< … and this share of positions
constexpr std::size_t kIvfTrainMax = 65536;    ///< IVF: vectors its PCA and lists are trained on
/// IVF: one query's probed lists are scanned by all OpenMP threads (FAISS's
/// parallel_mode 1; per-thread heaps merged), so a single search uses every
/// core. The hits are re-sorted by (similarity, id) afterwards.
constexpr int kIvfParallelMode = 1;
constexpr double kExactBelow = 20000;  ///< HNSW, IVF: fewer accepted vectors are searched exhaustively
/// kSketch re-ranks at least this many nearest sketches a result asked for:
/// deep in a long list (a screening's 4,000) the sketch order is rough, and
/// re-ranking 8 times the list keeps what the exact order keeps far better
/// (docs/search-measured.md, "bullets screened by land codes").
constexpr std::size_t kSketchRerankPerResult = 8;

/// The inner product of two n-float vectors, summed in eight interleaved
/// partial sums and then in a fixed order: the same float for the same
/// vectors on every call (the compiler may use SIMD for the eight sums; no
/// reassociation beyond them). Several times faster than FAISS's scalar
/// reference loop, which this FAISS build falls back to.
inline float Dot(const float* a, const float* b, std::size_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j)
      s[j] += a[i + static_cast<std::size_t>(j)] * b[i + static_cast<std::size_t>(j)];
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail;
}

}  // namespace detail

struct VectorIndex::Impl {
  int dims = 0;
  VectorIndexOptions options;
  VectorIndexKind kind = VectorIndexKind::kFlat;
  std::unique_ptr<faiss::Index> faiss;
  std::vector<VectorId> ids;                           ///< by position
  std::vector<char> live;                              ///< by position
  std::unordered_map<VectorId, std::size_t> position;  ///< live ids only
  std::optional<detail::Whitening> whitening;          ///< fitted at options.whiten_at vectors
  std::optional<detail::Sketch> sketch;                ///< kSketch: the sketch of each position

  /// Dimensions of the vectors FAISS holds (the whitening's output, once fitted).
  int Stored() const { return whitening ? whitening->out_dims() : dims; }
  /// Rows as FAISS holds them: whitened (and of unit length) once fitted.
  std::vector<float> ToStored(const float* rows, std::size_t n) const {
    if (whitening) return whitening->Apply(rows, n);
    return std::vector<float>(rows, rows + n * static_cast<std::size_t>(dims));
  }
  /// Whether the whitening is due: enabled, not fitted, not IVF already (no
  /// full vectors to map), at whiten_at vectors or about to be made IVF.
  bool WhiteningDue(std::size_t live_count) const {
    return !whitening && options.whiten_at > 0 && kind != VectorIndexKind::kIvf &&
           (live_count >= options.whiten_at || Wanted(live_count) == VectorIndexKind::kIvf);
  }

  /// The full vectors FAISS holds, by position (flat, sketch and HNSW; null for IVF).
  const float* Vectors() const {
    if (const auto* flat = dynamic_cast<const faiss::IndexFlat*>(faiss.get())) return flat->get_xb();
    if (const auto* h = dynamic_cast<const faiss::IndexHNSW*>(faiss.get()))
      return dynamic_cast<const faiss::IndexFlat*>(h->storage)->get_xb();
    return nullptr;
  }

  /// Dead positions FAISS still holds.
  std::size_t Dead() const { return static_cast<std::size_t>(faiss->ntotal) - position.size(); }

  /// kIvf: the PCA + inverted lists (null otherwise).
  faiss::IndexPreTransform* Pre() const { return dynamic_cast<faiss::IndexPreTransform*>(faiss.get()); }
  faiss::IndexIVF* Ivf() const {
    faiss::IndexPreTransform* pre = Pre();
    return pre ? dynamic_cast<faiss::IndexIVF*>(pre->index) : nullptr;
  }

  /// Live vectors an IVF index is built at (auto: above approximate_above).
  std::size_t IvfThreshold() const {
    const std::size_t at = options.kind == VectorIndexKind::kIvf ? 0 : options.approximate_above + 1;
    return std::max({at, options.ivf_min_train, std::size_t{39}});
  }

  /// An IVF index (PCA, k-means lists) trained on the first
  /// IvfThreshold() of the n vectors, at most kIvfTrainMax of them, evenly
  /// spaced. So a database that grew past the threshold one item at a time
  /// and one rebuilt from its stored features in one go (both in id order)
  /// get the same index.
  std::unique_ptr<faiss::Index> TrainIvf(const float* all, std::size_t n) const {
    detail::SingleOmpThread single;
    const int stored = Stored();
    const std::size_t first = std::min(n, IvfThreshold());
    const std::size_t step = (first + detail::kIvfTrainMax - 1) / detail::kIvfTrainMax;
    // Each vector and its negative: the PCA's mean is then 0, so the
    // projection keeps inner products (an uncentred PCA: the directions of
    // most energy, not of most variance about the mean).
    std::vector<float> sample, both;
    for (std::size_t i = 0; i < first; i += step) {
      const float* row = all + i * static_cast<std::size_t>(stored);
      sample.insert(sample.end(), row, row + stored);
      both.insert(both.end(), row, row + stored);
      for (int d = 0; d < stored; ++d) both.push_back(-row[d]);
    }
    const std::size_t m = sample.size() / static_cast<std::size_t>(stored);
    const int reduced = std::min(stored, options.ivf_dims);
    auto pca = std::make_unique<faiss::PCAMatrix>(stored, reduced, 0.0f, false);
    pca->max_points_per_d =
        std::max<std::size_t>(pca->max_points_per_d, 2 * m / static_cast<std::size_t>(stored) + 1);
    pca->train(static_cast<faiss::Index::idx_t>(2 * m), both.data());
    std::fill(pca->mean.begin(), pca->mean.end(), 0.0f);  // exactly 0, not rounding noise
    pca->prepare_Ab();
    std::vector<float> y(m * static_cast<std::size_t>(reduced));
    pca->apply_noalloc(static_cast<faiss::Index::idx_t>(m), sample.data(), y.data());
    std::size_t lists = options.ivf_lists;
    if (lists == 0) lists = static_cast<std::size_t>(std::lround(4 * std::sqrt(static_cast<double>(first))));
    lists = std::clamp<std::size_t>(lists, 1, std::max<std::size_t>(1, m / 39));  // ≥ 39 points per centroid
    auto quantizer = std::make_unique<faiss::IndexFlatIP>(reduced);
    auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.release(), reduced, lists,
                                                     faiss::METRIC_INNER_PRODUCT);
    ivf->own_fields = true;
    ivf->parallel_mode = detail::kIvfParallelMode;
    ivf->cp.seed = 1234;
    ivf->train(static_cast<faiss::Index::idx_t>(m), y.data());
    auto pre = std::make_unique<faiss::IndexPreTransform>(pca.release(), ivf.release());
    pre->own_fields = true;
    pre->is_trained = true;
    return pre;
  }

  std::unique_ptr<faiss::Index> NewIndex(VectorIndexKind k) const {
    if (k == VectorIndexKind::kHnsw) {
      auto h = std::make_unique<faiss::IndexHNSWFlat>(Stored(), options.hnsw_neighbours,
                                                      faiss::METRIC_INNER_PRODUCT);
      h->hnsw.efConstruction = options.hnsw_build_depth;
      h->hnsw.efSearch = options.hnsw_search_depth;
      return h;
    }
    return std::make_unique<faiss::IndexFlatIP>(Stored());
  }

  VectorIndexKind Wanted(std::size_t live_count) const {
    // An IVF index holds no full vectors, so it stays IVF once built.
    if (kind == VectorIndexKind::kIvf) return kind;
    VectorIndexKind k = options.kind;
    if (k == VectorIndexKind::kAuto)
      k = live_count > options.approximate_above ? VectorIndexKind::kSketch : VectorIndexKind::kFlat;
    if (k == VectorIndexKind::kIvf && live_count < std::max<std::size_t>(options.ivf_min_train, 39))
      k = VectorIndexKind::kFlat;
    // Re-ranking every vector is what flat does.
    if (k == VectorIndexKind::kSketch && live_count <= options.sketch_rerank) k = VectorIndexKind::kFlat;
    return k;
  }

  /// Appends n vectors whose positions start at `first`.
  void AppendToFaiss(faiss::Index* index, const float* vectors, std::size_t n, std::size_t first) const {
    if (n == 0) return;
    detail::SingleOmpThread single;
    if (dynamic_cast<faiss::IndexPreTransform*>(index) != nullptr) {
      std::vector<faiss::Index::idx_t> labels(n);
      for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<faiss::Index::idx_t>(first + i);
      index->add_with_ids(static_cast<faiss::Index::idx_t>(n), vectors, labels.data());
    } else {
      index->add(static_cast<faiss::Index::idx_t>(n), vectors);
    }
  }

  /// Rebuilds FAISS from the live vectors in position order, as `k`;
  /// fits the whitening first when it is due (FAISS then holds the raw
  /// vectors: flat or HNSW, never IVF).
  void Rebuild(VectorIndexKind k) {
    std::vector<float> vectors;
    std::vector<VectorId> kept;
    vectors.reserve(position.size() * static_cast<std::size_t>(Stored()));
    std::vector<float> row(static_cast<std::size_t>(Stored()));
    for (std::size_t p = 0; p < ids.size(); ++p) {
      if (!live[p]) continue;
      faiss->reconstruct(static_cast<faiss::Index::idx_t>(p), row.data());
      vectors.insert(vectors.end(), row.begin(), row.end());
      kept.push_back(ids[p]);
    }
    if (WhiteningDue(kept.size())) {
      whitening = detail::Whitening::Fit(vectors.data(), std::min(kept.size(), options.whiten_at), dims,
                                         options.whiten_dims);
      vectors = whitening->Apply(vectors.data(), kept.size());
    }
    auto fresh = k == VectorIndexKind::kIvf ? TrainIvf(vectors.data(), kept.size()) : NewIndex(k);
    AppendToFaiss(fresh.get(), vectors.data(), kept.size(), 0);
    faiss = std::move(fresh);
    sketch.reset();
    if (k == VectorIndexKind::kSketch) {
      sketch.emplace(Stored(), options.sketch_bits);
      sketch->Append(vectors.data(), kept.size());
    }
    kind = k;
    ids = std::move(kept);
    live.assign(ids.size(), 1);
    position.clear();
    for (std::size_t p = 0; p < ids.size(); ++p) position[ids[p]] = p;
  }

  /// kIvf: the query reduced by the PCA, then the inverted lists (ivf_probe
  /// of them, widened by 1 / share for a filter; all of them when few vectors
  /// pass the filter or when the probed lists come back short).
  std::vector<VectorHit> SearchIvf(const float* query, std::size_t k, const faiss::IDSelector& selector,
                                   double share, bool filtered) const {
    // Without a filter and with no dead position in the lists, no selector
    // at all: FAISS then scans the lists on its fast path.
    const bool select = filtered || Dead() > 0;
    faiss::IndexPreTransform* pre = Pre();
    faiss::IndexIVF* ivf = Ivf();
    std::vector<float> reduced(static_cast<std::size_t>(ivf->d));
    pre->chain.front()->apply_noalloc(1, query, reduced.data());
    const double accepted = share * static_cast<double>(position.size());
    std::size_t probe =
        accepted < detail::kExactBelow
            ? ivf->nlist
            : static_cast<std::size_t>(static_cast<double>(options.ivf_probe) / std::max(share, 1e-3));
    probe = std::clamp<std::size_t>(probe, 1, ivf->nlist);
    std::vector<float> similarity(k);
    std::vector<faiss::Index::idx_t> label(k, -1);
    std::vector<VectorHit> hits;
    for (;;) {
      faiss::SearchParametersIVF params;
      params.sel = select ? const_cast<faiss::IDSelector*>(&selector) : nullptr;
      params.nprobe = probe;
      ivf->search(1, reduced.data(), static_cast<faiss::Index::idx_t>(k), similarity.data(), label.data(),
                  &params);
      hits.clear();
      for (std::size_t i = 0; i < k; ++i)
        if (label[i] >= 0 && selector.is_member(label[i]))
          hits.push_back({ids[static_cast<std::size_t>(label[i])], similarity[i]});
      if (hits.size() == k || probe == ivf->nlist) break;
      probe = ivf->nlist;  // short: every list
    }
    return BestOf(std::move(hits), k);
  }

  /// The best k hits among the candidates, best first (ties: smaller id first).
  static std::vector<VectorHit> BestOf(std::vector<VectorHit> hits, std::size_t k) {
    const auto better = [](const VectorHit& a, const VectorHit& b) {
      return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
    };
    const std::size_t keep = std::min(k, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep), hits.end(), better);
    hits.resize(keep);
    return hits;
  }

  /// The best k of `positions` by exact inner product with the query (flat,
  /// sketch and HNSW hold the full vectors), scored in parallel: each
  /// similarity depends on its vector alone. The rows may be scattered over
  /// the whole array, so each is prefetched a few positions ahead, and its
  /// cache and TLB misses overlap the scoring.
  std::vector<VectorHit> Rerank(const float* query, const std::vector<std::size_t>& positions,
                                std::size_t k) const {
    constexpr std::size_t kAhead = 6;
    const float* xb = Vectors();
    const auto stored = static_cast<std::size_t>(Stored());
    const std::size_t row_bytes = stored * sizeof(float);
    std::vector<VectorHit> hits(positions.size());
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, positions.size(), 256),
        [&](const tbb::blocked_range<std::size_t>& range) {
          for (std::size_t i = range.begin(); i != range.end(); ++i) {
            if (i + kAhead < range.end()) {
              const char* next = reinterpret_cast<const char*>(xb + positions[i + kAhead] * stored);
              for (std::size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(next + b);
            }
            hits[i] = {ids[positions[i]], detail::Dot(query, xb + positions[i] * stored, stored)};
          }
        });
    return BestOf(std::move(hits), k);
  }

  /// Exact inner products with every accepted position.
  std::vector<VectorHit> Exhaustive(const float* query, std::size_t k,
                                    const faiss::IDSelector& selector) const {
    std::vector<std::size_t> accepted;
    for (std::size_t p = 0; p < ids.size(); ++p)
      if (selector.is_member(static_cast<faiss::Index::idx_t>(p))) accepted.push_back(p);
    return Rerank(query, accepted, k);
  }

  /// kSketch: how many nearest sketches a search for `k` re-ranks exactly.
  std::size_t SketchRerank(std::size_t k) const {
    return std::max(options.sketch_rerank, detail::kSketchRerankPerResult * k);
  }

  /// kSketch: the Hamming distance to every live sketch, the nearest
  /// SketchRerank(k) that the selector accepts, re-ranked by exact inner
  /// product. Without a filter the selector is never asked (dead positions
  /// have no distance).
  std::vector<VectorHit> SearchSketch(const float* query, std::size_t k, const faiss::IDSelector& selector,
                                      bool filtered) const {
    std::function<bool(std::size_t)> accept;
    if (filtered)
      accept = [&selector](std::size_t p) { return selector.is_member(static_cast<faiss::Index::idx_t>(p)); };
    // 2 bytes a position, kept per thread (not faulted in again each
    // search). The isolation keeps this thread, while it waits for the
    // scan's tasks, from picking up another search that would use it.
    thread_local detail::Distances scratch;
    std::vector<std::size_t> nearest;
    tbb::this_task_arena::isolate([&] {
      sketch->Scan(query, live, &scratch);
      nearest = detail::NearestBySketch(scratch, SketchRerank(k), accept);
    });
    return Rerank(query, nearest, k);
  }

  void Maintain() {
    const VectorIndexKind wanted = Wanted(position.size());
    const std::size_t dead = Dead();
    const bool compact =
        dead >= detail::kMinCompactDead &&
        static_cast<double>(dead) >= detail::kCompactDeadShare * static_cast<double>(faiss->ntotal);
    if (kind == VectorIndexKind::kIvf) {
      if (!compact) return;
      // Drop the dead positions from the inverted lists (labels are positions).
      std::vector<faiss::Index::idx_t> gone;
      for (std::size_t p = 0; p < ids.size(); ++p)
        if (!live[p]) gone.push_back(static_cast<faiss::Index::idx_t>(p));
      const faiss::IDSelectorBatch selector(gone.size(), gone.data());
      detail::SingleOmpThread single;
      Pre()->remove_ids(selector);
      return;
    }
    if (wanted != kind || compact || WhiteningDue(position.size())) Rebuild(wanted);
  }
};

}  // namespace toolmark::index
