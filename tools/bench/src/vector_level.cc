// The vector index alone at many vectors; see vector_level.h.
#include "vector_level.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/core.hpp>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "stats.h"
#include "toolmark/engine/check.h"
#include "toolmark/index/vector_index.h"

namespace toolmark::bench {
namespace {

/// The vectors the vector index is measured with, row after row (dims floats each), and their ids.
struct BenchVectors {
  std::vector<float> all;
  std::vector<index::VectorId> vid;
};

constexpr int kDistractorAxes = 256;  ///< principal axes the distractors follow; the rest is even

/// The database's embeddings, then distractors up to args.vectors: mean +
/// the embeddings' first kDistractorAxes principal axes with Gaussian
/// weights of their variances + the rest of the variance as even Gaussian
/// noise, scaled to unit length.
BenchVectors WithDistractors(const ScaleOptions& args, const std::vector<index::FeatureRecord>& features,
                             std::size_t dims) {
  BenchVectors out;
  out.all.reserve(args.vectors * dims);
  cv::Mat data(static_cast<int>(features.size()), static_cast<int>(dims), CV_32F);
  for (std::size_t i = 0; i < features.size(); ++i) {
    const auto& f = features[i].vector;
    out.all.insert(out.all.end(), f.begin(), f.end());
    out.vid.push_back(features[i].item);
    std::copy(f.begin(), f.end(), data.ptr<float>(static_cast<int>(i)));
  }
  const int axes = std::min({kDistractorAxes, static_cast<int>(dims), data.rows - 1});
  Check(axes >= 1, "bench --vectors: too few embeddings to make distractors like them");
  const cv::PCA pca(data, cv::noArray(), cv::PCA::DATA_AS_ROW, axes);
  double total = 0, kept = 0;  // variance: all of it, and along the axes
  for (int d = 0; d < data.cols; ++d) {
    cv::Scalar mean, sd;
    cv::meanStdDev(data.col(d), mean, sd);
    total += sd[0] * sd[0];
  }
  cv::Mat basis = pca.eigenvectors.clone();  // axes × dims, each row scaled by its standard deviation
  for (int a = 0; a < axes; ++a) {
    const double var = std::max(0.0, static_cast<double>(pca.eigenvalues.at<float>(a)));
    kept += var;
    basis.row(a) *= std::sqrt(var);
  }
  const float rest = static_cast<float>(std::sqrt(std::max(0.0, total - kept) / static_cast<double>(dims)));
  std::mt19937_64 rng(args.seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  constexpr int kBatch = 4096;
  for (std::size_t n = features.size(); n < args.vectors;) {
    const int rows = static_cast<int>(std::min<std::size_t>(kBatch, args.vectors - n));
    cv::Mat weights(rows, axes, CV_32F), made;
    for (int r = 0; r < rows; ++r)
      for (int a = 0; a < axes; ++a) weights.at<float>(r, a) = gauss(rng);
    cv::gemm(weights, basis, 1.0, cv::noArray(), 0.0, made);
    for (int r = 0; r < rows; ++r, ++n) {
      float* row = made.ptr<float>(r);
      double norm = 0;
      for (std::size_t d = 0; d < dims; ++d) {
        row[d] += pca.mean.at<float>(static_cast<int>(d)) + rest * gauss(rng);
        norm += static_cast<double>(row[d]) * row[d];
      }
      for (std::size_t d = 0; d < dims; ++d) row[d] = static_cast<float>(row[d] / std::sqrt(norm));
      out.all.insert(out.all.end(), row, row + dims);
      out.vid.push_back(static_cast<index::VectorId>(1'000'000'000 + n));
    }
  }
  return out;
}

/// Adds the vectors in batches, as a database grows: an IVF index trains when its flat one outgrows it.
void AddInBatches(const BenchVectors& v, std::size_t dims, index::VectorIndex* vi) {
  const std::vector<float>& all = v.all;
  const std::vector<index::VectorId>& vid = v.vid;
  constexpr std::size_t kBatch = 10000;
  for (std::size_t start = 0; start < vid.size(); start += kBatch) {
    const std::size_t end = std::min(vid.size(), start + kBatch);
    vi->Add(
        {vid.begin() + static_cast<std::ptrdiff_t>(start), vid.begin() + static_cast<std::ptrdiff_t>(end)},
        {all.begin() + static_cast<std::ptrdiff_t>(start * dims),
         all.begin() + static_cast<std::ptrdiff_t>(end * dims)});
  }
}

/// What searching the vector index alone measured.
struct VectorQueryStats {
  std::vector<double> lat;           ///< shortlist latency of each query, ms
  std::size_t agree = 0, total = 0;  ///< of the exact top-k, how many the index found, of how many
};

/// Times a search with each of the first 100 embeddings; checks the first
/// 20 against the top-k of `exact`, an exact index of the same vectors (the
/// same whitening: the similarities the index approximates).
VectorQueryStats QueryVectorIndex(const ScaleOptions& args, const index::VectorIndex& vi,
                                  const index::VectorIndex& exact, const BenchVectors& v, std::size_t dims,
                                  std::size_t embeddings) {
  VectorQueryStats s;
  // Timed first, all together: the exact searches below run FAISS's OpenMP
  // threads, whose spinning afterwards would slow a search that follows.
  std::vector<std::vector<index::VectorHit>> got;
  for (std::size_t q = 0; q < std::min<std::size_t>(100, embeddings); ++q) {
    const auto t1 = Clock::now();
    got.push_back(vi.Search(v.all.data() + q * dims, args.shortlist));
    s.lat.push_back(Ms(Clock::now() - t1));
  }
  for (std::size_t q = 0; q < std::min<std::size_t>(20, got.size()); ++q) {
    std::set<index::VectorId> g;
    for (const index::VectorHit& h : got[q]) g.insert(h.id);
    for (const index::VectorHit& h : exact.Search(v.all.data() + q * dims, args.shortlist))
      s.agree += g.count(h.id);
    s.total += args.shortlist;
  }
  return s;
}

/// How many of the real queries' partners (evaluation only) an index's shortlist keeps.
struct PartnerCount {
  std::size_t queries = 0, partners = 0, kept = 0;
};

/// Each real query (a database embedding with partners) searched in vi, itself excluded.
PartnerCount PartnersKept(const ScaleOptions& args, const index::VectorIndex& vi, const BenchVectors& v,
                          std::size_t dims, const std::vector<RealSet>& real) {
  std::map<index::VectorId, std::size_t> row;
  for (std::size_t i = 0; i < v.vid.size(); ++i) row.emplace(v.vid[i], i);
  PartnerCount c;
  for (const RealSet& set : real)
    for (std::size_t q = 0; q < set.ids.size(); ++q) {
      const std::set<index::ItemId> partners = PartnersOf(set, q);
      const auto at = row.find(set.ids[q]);
      if (partners.empty() || at == row.end()) continue;
      const index::VectorId self = set.ids[q];
      const index::VectorFilter others = [self](index::VectorId id) { return id != self; };
      ++c.queries;
      c.partners += partners.size();
      for (const index::VectorHit& h : vi.Search(v.all.data() + at->second * dims, args.shortlist, &others))
        c.kept += partners.count(h.id);
    }
  return c;
}

/// The real queries' partners kept by vi's shortlist and by exact's.
nlohmann::json RealPartnersJson(const ScaleOptions& args, const index::VectorIndex& vi,
                                const index::VectorIndex& exact, const BenchVectors& v, std::size_t dims,
                                const std::vector<RealSet>& real) {
  const PartnerCount got = PartnersKept(args, vi, v, dims, real);
  nlohmann::json out = {{"queries", got.queries},
                        {"partners", got.partners},
                        {"partners_in_shortlist", got.kept},
                        {"shortlist", args.shortlist}};
  if (&exact != &vi) out["partners_in_exact_shortlist"] = PartnersKept(args, exact, v, dims, real).kept;
  return out;
}

}  // namespace

nlohmann::json VectorLevel(const ScaleOptions& args, index::Database& database,
                           const index::SearchEngine& engine, const std::vector<RealSet>& real) {
  index::Database* db = &database;
  std::vector<index::FeatureRecord> features =
      db->Features(engine.comparator(), index::FeatureVersion(engine.comparator()));
  Check(!features.empty(), "bench: no embeddings to build distractors from");
  const std::size_t dims = features[0].vector.size();
  const BenchVectors v = WithDistractors(args, features, dims);
  const std::size_t before = PeakRss();
  const auto t0 = Clock::now();
  index::VectorIndexOptions vo;
  vo.kind = index::ParseVectorIndexKind(args.index_kind);
  vo.ivf_dims = args.ivf_dims;
  vo.ivf_probe = args.ivf_probe;
  vo.ivf_min_train = args.ivf_min_train;
  vo.sketch_bits = args.sketch_bits;
  vo.sketch_rerank = args.sketch_rerank;
  index::VectorIndex vi(static_cast<int>(dims), vo);
  AddInBatches(v, dims, &vi);
  const double vbuild = std::chrono::duration<double>(Clock::now() - t0).count();
  const std::size_t grown = PeakRss() - before;  // the index's build, not the exact twin below
  // An approximate index is measured against an exact one of the same vectors.
  std::optional<index::VectorIndex> twin;
  if (vi.kind() != index::VectorIndexKind::kFlat) {
    index::VectorIndexOptions flat = vi.options();
    flat.kind = index::VectorIndexKind::kFlat;
    twin.emplace(static_cast<int>(dims), flat);
    AddInBatches(v, dims, &*twin);
  }
  const index::VectorIndex& exact = twin ? *twin : vi;
  const VectorQueryStats s = QueryVectorIndex(args, vi, exact, v, dims, features.size());
  nlohmann::json out = {
      {"vectors", args.vectors},
      {"dims", dims},
      {"index_kind", index::VectorIndexKindName(vi.kind())},
      {"ivf_dims", args.ivf_dims},
      {"ivf_probe", args.ivf_probe},
      {"ivf_min_train", args.ivf_min_train},
      {"sketch_bits", args.sketch_bits},
      {"sketch_rerank", args.sketch_rerank},
      {"build_s", vbuild},
      {"index_bytes", vi.MemoryBytes()},
      {"index_bytes_per_item", static_cast<double>(vi.MemoryBytes()) / static_cast<double>(args.vectors)},
      {"peak_rss_growth_bytes", grown},
      {"shortlist_p50_ms", Percentile(s.lat, 0.5)},
      {"shortlist_p95_ms", Percentile(s.lat, 0.95)},
      {"recall_vs_exact", s.total ? static_cast<double>(s.agree) / static_cast<double>(s.total) : 0.0}};
  if (!real.empty()) out["real"] = RealPartnersJson(args, vi, exact, v, dims, real);
  return out;
}

}  // namespace toolmark::bench
