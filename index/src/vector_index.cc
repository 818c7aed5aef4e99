// The vector index over FAISS. See toolmark/index/vector_index.h and
// docs/search.md.
//
// Layout: FAISS holds the vectors under their insertion positions; this
// class maps positions to ids and marks removed (or replaced) positions dead.
// Dead positions are excluded by the search's ID selector and dropped when
// the index is compacted (flat and HNSW: rebuilt from the live vectors, in
// position order, so the result does not depend on when it happens; IVF:
// removed from the inverted lists, whose labels are the positions). FAISS
// builds run with one OpenMP thread: the same adds give the same index.
//
// Whitening (vector_whitening.h): fitted on the first whiten_at vectors in
// position order; FAISS then holds mapped vectors, and queries are mapped.
//
// File format (Save/Load), host byte order (little-endian on every platform
// Toolmark builds on):
//   8 bytes  "TMVIDX2\n"
//   u32 dims, u32 kind (1 flat, 2 hnsw, 3 ivf), u64 positions n, u64 blob bytes b,
//   u64 whitening bytes w (0: none)
//   i64 ids[n], u8 live[n], b bytes of faiss::write_index, w bytes of the whitening
//   32 bytes SHA-256 of everything before it
// Load checks the size, magic, counts and SHA-256 before FAISS parses a byte.
#include "toolmark/index/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <omp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <unordered_map>

#include "single_omp_thread.h"
#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"
#include "vector_whitening.h"

namespace toolmark::index {
namespace {

constexpr char kMagic[8] = {'T', 'M', 'V', 'I', 'D', 'X', '2', '\n'};
constexpr char kMagicBeforeWhitening[8] = {'T', 'M', 'V', 'I', 'D', 'X', '1', '\n'};
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 40;  ///< 1 TiB: far above any real index
constexpr std::size_t kMinCompactDead = 1024;                ///< compact when this many are dead …
constexpr double kCompactDeadShare = 0.25;                   ///< … and this share of positions
constexpr std::size_t kFilterSample = 1024;  ///< positions sampled to estimate a filter's share
constexpr double kExactBelow = 20000;        ///< HNSW: fewer accepted vectors are searched exhaustively
constexpr int kMaxSearchDepth = 4096;        ///< HNSW efSearch, however selective the filter
constexpr std::size_t kIvfTrainMax = 65536;  ///< IVF: vectors its PCA and lists are trained on
/// IVF: one query's probed lists are scanned by all OpenMP threads (FAISS's
/// parallel_mode 1; per-thread heaps merged), so a single search uses every
/// core. The hits are re-sorted by (similarity, id) afterwards.
constexpr int kIvfParallelMode = 1;

using detail::SingleOmpThread;

template <typename T>
void Put(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T Get(const std::string& in, std::size_t* at) {
  T value;
  std::memcpy(&value, in.data() + *at, sizeof value);
  *at += sizeof value;
  return value;
}

std::string Sha256Raw(const char* data, std::size_t size) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data), size, digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace

const char* VectorIndexKindName(VectorIndexKind kind) {
  switch (kind) {
    case VectorIndexKind::kFlat:
      return "flat";
    case VectorIndexKind::kHnsw:
      return "hnsw";
    case VectorIndexKind::kIvf:
      return "ivf";
    default:
      return "auto";
  }
}

VectorIndexKind ParseVectorIndexKind(const std::string& name) {
  if (name == "auto") return VectorIndexKind::kAuto;
  if (name == "flat") return VectorIndexKind::kFlat;
  if (name == "hnsw") return VectorIndexKind::kHnsw;
  if (name == "ivf") return VectorIndexKind::kIvf;
  throw Error("vector index: unknown kind '" + name + "' (auto, flat, hnsw or ivf)");
}

struct VectorIndex::Impl {
  int dims = 0;
  VectorIndexOptions options;
  VectorIndexKind kind = VectorIndexKind::kFlat;
  std::unique_ptr<faiss::Index> faiss;
  std::vector<VectorId> ids;                           ///< by position
  std::vector<char> live;                              ///< by position
  std::unordered_map<VectorId, std::size_t> position;  ///< live ids only
  std::optional<detail::Whitening> whitening;          ///< fitted at options.whiten_at vectors

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
    SingleOmpThread single;
    const int stored = Stored();
    const std::size_t first = std::min(n, IvfThreshold());
    const std::size_t step = (first + kIvfTrainMax - 1) / kIvfTrainMax;
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
    ivf->parallel_mode = kIvfParallelMode;
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
      k = live_count > options.approximate_above ? VectorIndexKind::kIvf : VectorIndexKind::kFlat;
    if (k == VectorIndexKind::kIvf && live_count < std::max<std::size_t>(options.ivf_min_train, 39))
      k = VectorIndexKind::kFlat;
    return k;
  }

  /// Appends n vectors whose positions start at `first`.
  void AppendToFaiss(faiss::Index* index, const float* vectors, std::size_t n, std::size_t first) const {
    if (n == 0) return;
    SingleOmpThread single;
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
        accepted < kExactBelow
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
    std::sort(hits.begin(), hits.end(), [](const VectorHit& a, const VectorHit& b) {
      return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
    });
    return hits;
  }

  void Maintain() {
    const VectorIndexKind wanted = Wanted(position.size());
    const std::size_t dead = Dead();
    const bool compact = dead >= kMinCompactDead &&
                         static_cast<double>(dead) >= kCompactDeadShare * static_cast<double>(faiss->ntotal);
    if (kind == VectorIndexKind::kIvf) {
      if (!compact) return;
      // Drop the dead positions from the inverted lists (labels are positions).
      std::vector<faiss::Index::idx_t> gone;
      for (std::size_t p = 0; p < ids.size(); ++p)
        if (!live[p]) gone.push_back(static_cast<faiss::Index::idx_t>(p));
      const faiss::IDSelectorBatch selector(gone.size(), gone.data());
      SingleOmpThread single;
      Pre()->remove_ids(selector);
      return;
    }
    if (wanted != kind || compact || WhiteningDue(position.size())) Rebuild(wanted);
  }
};

namespace {

/// Accepts live positions whose id the caller's filter accepts.
class PositionSelector : public faiss::IDSelector {
 public:
  PositionSelector(const std::vector<VectorId>& ids, const std::vector<char>& live,
                   const VectorFilter* filter)
      : ids_(ids), live_(live), filter_(filter) {}
  bool is_member(faiss::Index::idx_t p) const override {
    const auto i = static_cast<std::size_t>(p);
    return i < ids_.size() && live_[i] && (filter_ == nullptr || (*filter_)(ids_[i]));
  }

 private:
  const std::vector<VectorId>& ids_;
  const std::vector<char>& live_;
  const VectorFilter* filter_;
};

}  // namespace

VectorIndex::VectorIndex(int dims, const VectorIndexOptions& options) : impl_(std::make_unique<Impl>()) {
  Check(dims >= 1 && dims <= 65536, "vector index: dimensions must be 1..65536");
  Check(options.hnsw_neighbours >= 2 && options.hnsw_neighbours <= 256 && options.hnsw_build_depth >= 1 &&
            options.hnsw_search_depth >= 1,
        "vector index: invalid HNSW options");
  Check(options.whiten_dims >= 1, "vector index: whitening dimensions must be at least 1");
  impl_->dims = dims;
  impl_->options = options;
  impl_->kind = impl_->Wanted(0);
  impl_->faiss = impl_->NewIndex(impl_->kind);
}

VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

int VectorIndex::dims() const { return impl_->dims; }
std::size_t VectorIndex::size() const { return impl_->position.size(); }
VectorIndexKind VectorIndex::kind() const { return impl_->kind; }
const VectorIndexOptions& VectorIndex::options() const { return impl_->options; }
bool VectorIndex::Contains(VectorId id) const { return impl_->position.count(id) > 0; }

void VectorIndex::Add(const std::vector<VectorId>& ids, const std::vector<float>& vectors) {
  Impl& m = *impl_;
  Check(vectors.size() == ids.size() * static_cast<std::size_t>(m.dims),
        "vector index: " + std::to_string(ids.size()) + " ids need " +
            std::to_string(ids.size() * static_cast<std::size_t>(m.dims)) + " values, got " +
            std::to_string(vectors.size()));
  for (float v : vectors) Check(std::isfinite(v), "vector index: a vector has a non-finite value");
  // Within one batch the last vector of an id wins.
  std::unordered_map<VectorId, std::size_t> last;
  for (std::size_t i = 0; i < ids.size(); ++i) last[ids[i]] = i;
  std::vector<float> rows;
  rows.reserve(vectors.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (last[ids[i]] != i) continue;
    if (const auto it = m.position.find(ids[i]); it != m.position.end()) {
      m.live[it->second] = 0;
      m.position.erase(it);
    }
    const std::size_t p = m.ids.size();
    m.ids.push_back(ids[i]);
    m.live.push_back(1);
    m.position[ids[i]] = p;
    rows.insert(rows.end(),
                vectors.begin() + static_cast<std::ptrdiff_t>(i * static_cast<std::size_t>(m.dims)),
                vectors.begin() + static_cast<std::ptrdiff_t>((i + 1) * static_cast<std::size_t>(m.dims)));
  }
  const std::size_t added = rows.size() / static_cast<std::size_t>(m.dims);
  if (m.whitening) rows = m.whitening->Apply(rows.data(), added);
  m.AppendToFaiss(m.faiss.get(), rows.data(), added, m.ids.size() - added);
  m.Maintain();
}

bool VectorIndex::Remove(VectorId id) {
  Impl& m = *impl_;
  const auto it = m.position.find(id);
  if (it == m.position.end()) return false;
  m.live[it->second] = 0;
  m.position.erase(it);
  m.Maintain();
  return true;
}

std::vector<VectorHit> VectorIndex::Search(const float* raw_query, std::size_t k,
                                           const VectorFilter* filter) const {
  const Impl& m = *impl_;
  std::vector<VectorHit> hits;
  k = std::min(k, m.position.size());
  if (k == 0) return hits;
  for (int i = 0; i < m.dims; ++i)
    Check(std::isfinite(raw_query[i]), "vector index: the query has a non-finite value");
  const std::vector<float> mapped = m.ToStored(raw_query, 1);
  const float* query = mapped.data();
  const auto stored = static_cast<std::size_t>(m.Stored());
  const PositionSelector selector(m.ids, m.live, filter);
  std::vector<float> similarity(k);
  std::vector<faiss::Index::idx_t> label(k, -1);
  const auto kk = static_cast<faiss::Index::idx_t>(k);
  // HNSW: estimate the filter's share on a fixed sample of positions; a
  // filter that leaves few vectors is answered exactly (cheap, and a graph
  // walk through mostly rejected vectors would miss some), otherwise the walk
  // is widened by 1 / share.
  double share = 1;
  if (m.kind != VectorIndexKind::kFlat && filter != nullptr) {
    const std::size_t step = std::max<std::size_t>(1, m.ids.size() / kFilterSample);
    std::size_t sampled = 0, accepted = 0;
    for (std::size_t p = 0; p < m.ids.size(); p += step) {
      if (!m.live[p]) continue;
      ++sampled;
      accepted += selector.is_member(static_cast<faiss::Index::idx_t>(p));
    }
    share = sampled > 0 ? static_cast<double>(accepted) / static_cast<double>(sampled) : 0;
  }
  if (m.kind == VectorIndexKind::kIvf) return m.SearchIvf(query, k, selector, share, filter != nullptr);
  const bool exact =
      m.kind == VectorIndexKind::kHnsw && share * static_cast<double>(m.position.size()) < kExactBelow;
  if (m.kind == VectorIndexKind::kHnsw && !exact) {
    faiss::SearchParametersHNSW params;
    params.sel = const_cast<PositionSelector*>(&selector);
    const double depth = std::max(m.options.hnsw_search_depth, static_cast<int>(k)) / std::max(share, 1e-3);
    params.efSearch =
        static_cast<int>(std::min<double>(kMaxSearchDepth, std::max<double>(depth, static_cast<double>(k))));
    m.faiss->search(1, query, kk, similarity.data(), label.data(), &params);
  } else if (m.kind == VectorIndexKind::kFlat) {
    // No selector when nothing is filtered or dead: FAISS's fast path.
    faiss::SearchParameters params;
    params.sel = filter != nullptr || m.Dead() > 0 ? const_cast<PositionSelector*>(&selector) : nullptr;
    m.faiss->search(1, query, kk, similarity.data(), label.data(), &params);
  }
  if (!exact) {
    for (std::size_t i = 0; i < k; ++i) {
      if (label[i] < 0 || !selector.is_member(label[i])) continue;
      hits.push_back({m.ids[static_cast<std::size_t>(label[i])], similarity[i]});
    }
  }
  if (exact || (hits.size() < k && m.kind == VectorIndexKind::kHnsw)) {
    // Exhaustive over the accepted vectors (also when a graph walk came back
    // short): exact, so never worse.
    const auto* storage =
        dynamic_cast<const faiss::IndexFlat*>(dynamic_cast<const faiss::IndexHNSW*>(m.faiss.get())->storage);
    const float* xb = storage->get_xb();
    hits.clear();
    for (std::size_t p = 0; p < m.ids.size(); ++p) {
      if (!selector.is_member(static_cast<faiss::Index::idx_t>(p))) continue;
      hits.push_back({m.ids[p], faiss::fvec_inner_product(query, xb + p * stored, stored)});
    }
    const auto better = [](const VectorHit& a, const VectorHit& b) {
      return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
    };
    const std::size_t keep = std::min(k, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(keep), hits.end(), better);
    hits.resize(keep);
    return hits;
  }
  std::sort(hits.begin(), hits.end(), [](const VectorHit& a, const VectorHit& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
  });
  return hits;
}

std::size_t VectorIndex::MemoryBytes() const {
  const Impl& m = *impl_;
  std::size_t bytes =
      m.ids.size() * (sizeof(VectorId) + 1) + m.position.size() * (sizeof(VectorId) + 3 * sizeof(void*));
  if (m.whitening) bytes += m.whitening->MemoryBytes();
  if (const faiss::IndexIVF* ivf = m.Ivf()) {
    for (std::size_t l = 0; l < ivf->nlist; ++l)
      bytes += ivf->invlists->list_size(l) * (ivf->code_size + sizeof(faiss::Index::idx_t));
    bytes += ivf->nlist * static_cast<std::size_t>(ivf->d) * sizeof(float);  // centroids
    bytes +=
        static_cast<std::size_t>(m.Stored()) * static_cast<std::size_t>(ivf->d + 1) * sizeof(float);  // PCA
    return bytes;
  }
  bytes += static_cast<std::size_t>(m.faiss->ntotal) * static_cast<std::size_t>(m.Stored()) * sizeof(float);
  if (const auto* h = dynamic_cast<const faiss::IndexHNSW*>(m.faiss.get())) {
    bytes += h->hnsw.neighbors.size() * sizeof(faiss::HNSW::storage_idx_t) +
             h->hnsw.offsets.size() * sizeof(std::size_t) + h->hnsw.levels.size() * sizeof(int) +
             h->hnsw.assign_probas.size() * sizeof(double) +
             h->hnsw.cum_nneighbor_per_level.size() * sizeof(int);
  }
  return bytes;
}

void VectorIndex::Save(const std::string& path) const {
  const Impl& m = *impl_;
  faiss::VectorIOWriter writer;
  faiss::write_index(m.faiss.get(), &writer);
  const std::string whitening = m.whitening ? m.whitening->Serialize() : std::string();
  std::string out;
  out.reserve(kHeaderBytes + m.ids.size() * 9 + writer.data.size() + SHA256_DIGEST_LENGTH);
  out.append(kMagic, sizeof kMagic);
  Put(&out, static_cast<std::uint32_t>(m.dims));
  Put(&out, static_cast<std::uint32_t>(m.kind == VectorIndexKind::kIvf    ? 3
                                       : m.kind == VectorIndexKind::kHnsw ? 2
                                                                          : 1));
  Put(&out, static_cast<std::uint64_t>(m.ids.size()));
  Put(&out, static_cast<std::uint64_t>(writer.data.size()));
  Put(&out, static_cast<std::uint64_t>(whitening.size()));
  for (VectorId id : m.ids) Put(&out, static_cast<std::int64_t>(id));
  out.append(m.live.data(), m.live.size());
  out.append(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
  out += whitening;
  out += Sha256Raw(out.data(), out.size());
  base::WriteFileAtomic(path, out);
}

VectorIndex VectorIndex::Load(const std::string& path, const VectorIndexOptions& options) {
  const std::string bytes = base::ReadFileBounded(path, kMaxFileBytes);
  const auto fail = [&](const std::string& why) { throw Error("vector index: " + path + ": " + why); };
  if (bytes.size() < kHeaderBytes + SHA256_DIGEST_LENGTH)
    fail("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagicBeforeWhitening, sizeof kMagic) == 0)
    fail("written by an earlier version (no whitening)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) fail("not a Toolmark vector index");
  std::size_t at = sizeof kMagic;
  const auto dims = Get<std::uint32_t>(bytes, &at);
  const auto kind = Get<std::uint32_t>(bytes, &at);
  const auto n = Get<std::uint64_t>(bytes, &at);
  const auto blob = Get<std::uint64_t>(bytes, &at);
  const auto white = Get<std::uint64_t>(bytes, &at);
  if (dims < 1 || dims > 65536 || kind < 1 || kind > 3) fail("bad header");
  const std::uint64_t rest = bytes.size() - kHeaderBytes - SHA256_DIGEST_LENGTH;
  if (n > rest / 9 || blob > rest - 9 * n || white != rest - 9 * n - blob)
    fail("sizes do not add up (truncated or corrupted)");
  const std::size_t body = bytes.size() - SHA256_DIGEST_LENGTH;
  if (Sha256Raw(bytes.data(), body) != bytes.substr(body)) fail("checksum mismatch (corrupted)");

  VectorIndex index(static_cast<int>(dims), options);
  Impl& m = *index.impl_;
  m.ids.resize(n);
  for (auto& id : m.ids) id = Get<std::int64_t>(bytes, &at);
  m.live.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
  at += n;
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                     bytes.begin() + static_cast<std::ptrdiff_t>(at + blob));
  try {
    m.faiss.reset(faiss::read_index(&reader));
  } catch (const std::exception& e) {
    fail(std::string("FAISS could not read it: ") + e.what());
  }
  at += blob;
  if (white > 0) {
    try {
      m.whitening = detail::Whitening::Deserialize(bytes.substr(at, white), static_cast<int>(dims));
    } catch (const Error& e) {
      fail(e.what());
    }
  }
  const bool hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(m.faiss.get()) != nullptr;
  const bool flat = dynamic_cast<faiss::IndexFlatIP*>(m.faiss.get()) != nullptr;
  const faiss::IndexPreTransform* pre = m.Pre();
  const bool ivf = pre != nullptr && pre->chain.size() == 1 &&
                   dynamic_cast<const faiss::PCAMatrix*>(pre->chain.front()) != nullptr &&
                   dynamic_cast<const faiss::IndexIVFFlat*>(pre->index) != nullptr &&
                   pre->chain.front()->d_out == pre->index->d;
  // IVF: the lists may have dropped dead positions, so they hold at most n.
  const bool count_ok = kind == 3 ? m.faiss->ntotal <= static_cast<faiss::Index::idx_t>(n)
                                  : m.faiss->ntotal == static_cast<faiss::Index::idx_t>(n);
  const int stored = m.Stored();
  if (!(kind == 3 ? ivf : kind == 2 ? hnsw : flat) || m.faiss->d != stored || !count_ok)
    fail("the FAISS index does not match the header");
  if (hnsw) dynamic_cast<faiss::IndexHNSWFlat*>(m.faiss.get())->hnsw.efSearch = options.hnsw_search_depth;
  if (ivf) m.Ivf()->parallel_mode = kIvfParallelMode;  // not in FAISS's file
  m.kind = kind == 3 ? VectorIndexKind::kIvf : kind == 2 ? VectorIndexKind::kHnsw : VectorIndexKind::kFlat;
  for (std::size_t p = 0; p < n; ++p) {
    if (m.live[p] != 0 && m.live[p] != 1) fail("bad live flag");
    if (!m.live[p]) continue;
    if (!m.position.emplace(m.ids[p], p).second) fail("an id appears twice");
  }
  m.Maintain();
  return index;
}

}  // namespace toolmark::index
