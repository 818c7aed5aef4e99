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
// Sketches (vector_sketch.h, kSketch): FAISS holds the vectors as for flat;
// a binary sketch of each is scanned first and the nearest few thousand by
// Hamming distance are re-ranked by exact inner products.
//
// The file format is in vector_index_file.cc.
#include "toolmark/index/vector_index.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>

#include "toolmark/engine/check.h"
#include "vector_index_impl.h"

namespace toolmark::index {
namespace {

constexpr std::size_t kFilterSample = 1024;  ///< positions sampled to estimate a filter's share
constexpr int kMaxSearchDepth = 4096;        ///< HNSW efSearch, however selective the filter

}  // namespace

const char* VectorIndexKindName(VectorIndexKind kind) {
  switch (kind) {
    case VectorIndexKind::kFlat:
      return "flat";
    case VectorIndexKind::kHnsw:
      return "hnsw";
    case VectorIndexKind::kIvf:
      return "ivf";
    case VectorIndexKind::kSketch:
      return "sketch";
    default:
      return "auto";
  }
}

VectorIndexKind ParseVectorIndexKind(const std::string& name) {
  if (name == "auto") return VectorIndexKind::kAuto;
  if (name == "flat") return VectorIndexKind::kFlat;
  if (name == "hnsw") return VectorIndexKind::kHnsw;
  if (name == "ivf") return VectorIndexKind::kIvf;
  if (name == "sketch") return VectorIndexKind::kSketch;
  throw Error("vector index: unknown kind '" + name + "' (auto, flat, hnsw, ivf or sketch)");
}

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
  detail::CheckSketchBits(options.sketch_bits);
  Check(options.sketch_rerank >= 1, "vector index: sketch re-ranking must keep at least 1 vector");
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
  if (m.sketch) m.sketch->Append(rows.data(), added);
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
  const PositionSelector selector(m.ids, m.live, filter);
  // Approximate kinds: estimate the filter's share on a fixed sample of
  // positions; a filter that leaves few vectors is answered exactly (cheap,
  // and a graph walk through mostly rejected vectors would miss some),
  // otherwise the search is widened by 1 / share.
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
  // A filter that leaves few vectors is answered exactly: cheap, and never
  // worse (sketch: no more than it would re-rank anyway).
  const double exact_below =
      m.kind == VectorIndexKind::kSketch ? static_cast<double>(m.SketchRerank(k)) : detail::kExactBelow;
  if (m.kind != VectorIndexKind::kFlat && share * static_cast<double>(m.position.size()) < exact_below)
    return m.Exhaustive(query, k, selector);
  if (m.kind == VectorIndexKind::kSketch) return m.SearchSketch(query, k, selector, filter != nullptr);
  std::vector<float> similarity(k);
  std::vector<faiss::Index::idx_t> label(k, -1);
  const auto kk = static_cast<faiss::Index::idx_t>(k);
  if (m.kind == VectorIndexKind::kHnsw) {
    faiss::SearchParametersHNSW params;
    params.sel = const_cast<PositionSelector*>(&selector);
    const double depth = std::max(m.options.hnsw_search_depth, static_cast<int>(k)) / std::max(share, 1e-3);
    params.efSearch =
        static_cast<int>(std::min<double>(kMaxSearchDepth, std::max<double>(depth, static_cast<double>(k))));
    m.faiss->search(1, query, kk, similarity.data(), label.data(), &params);
  } else {
    // No selector when nothing is filtered or dead: FAISS's fast path.
    faiss::SearchParameters params;
    params.sel = filter != nullptr || m.Dead() > 0 ? const_cast<PositionSelector*>(&selector) : nullptr;
    m.faiss->search(1, query, kk, similarity.data(), label.data(), &params);
  }
  for (std::size_t i = 0; i < k; ++i) {
    if (label[i] < 0 || !selector.is_member(label[i])) continue;
    hits.push_back({m.ids[static_cast<std::size_t>(label[i])], similarity[i]});
  }
  // A graph walk that came back short: exhaustive, so never worse.
  if (hits.size() < k && m.kind == VectorIndexKind::kHnsw) return m.Exhaustive(query, k, selector);
  return Impl::BestOf(std::move(hits), k);
}

std::size_t VectorIndex::MemoryBytes() const {
  const Impl& m = *impl_;
  std::size_t bytes =
      m.ids.size() * (sizeof(VectorId) + 1) + m.position.size() * (sizeof(VectorId) + 3 * sizeof(void*));
  if (m.whitening) bytes += m.whitening->MemoryBytes();
  if (m.sketch) bytes += m.sketch->MemoryBytes();
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

}  // namespace toolmark::index
