// The vector index alone at many vectors; see vector_level.h.
#include "vector_level.h"

#include <algorithm>
#include <cmath>
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

/// The database's embeddings, then distractors made from them up to args.vectors (see VectorLevel).
BenchVectors WithDistractors(const ScaleOptions& args, const std::vector<index::FeatureRecord>& features,
                             std::size_t dims) {
  BenchVectors out;
  std::vector<float>& all = out.all;
  std::vector<index::VectorId>& vid = out.vid;
  all.reserve(args.vectors * dims);
  for (const auto& f : features) {
    all.insert(all.end(), f.vector.begin(), f.vector.end());
    vid.push_back(f.item);
  }
  std::mt19937_64 rng(args.seed);
  std::normal_distribution<float> noise(0.0f, 1.0f / std::sqrt(static_cast<float>(dims)));
  std::uniform_int_distribution<std::size_t> pick(0, features.size() - 1);
  std::vector<float> row(dims);
  for (std::size_t n = features.size(); n < args.vectors; ++n) {
    const auto& a = features[pick(rng)].vector;
    const auto& b = features[pick(rng)].vector;
    double norm = 0;
    for (std::size_t d = 0; d < dims; ++d) {
      row[d] = 0.5f * a[d] + 0.5f * b[d] + noise(rng);
      norm += static_cast<double>(row[d]) * row[d];
    }
    for (float& v : row) v = static_cast<float>(v / std::sqrt(norm));
    all.insert(all.end(), row.begin(), row.end());
    vid.push_back(static_cast<index::VectorId>(1'000'000'000 + n));
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

/// Times a search with each of the first 100 embeddings; checks the first 20 against the exact top-k.
VectorQueryStats QueryVectorIndex(const ScaleOptions& args, const index::VectorIndex& vi,
                                  const BenchVectors& v, std::size_t dims, std::size_t embeddings) {
  const std::vector<float>& all = v.all;
  const std::vector<index::VectorId>& vid = v.vid;
  VectorQueryStats s;
  std::vector<double>& lat = s.lat;
  std::size_t &agree = s.agree, &total = s.total;
  for (std::size_t q = 0; q < std::min<std::size_t>(100, embeddings); ++q) {
    const float* query = all.data() + q * dims;
    const auto t1 = Clock::now();
    const std::vector<index::VectorHit> got = vi.Search(query, args.shortlist);
    lat.push_back(Ms(Clock::now() - t1));
    if (q < 20) {  // exact top-k by brute force
      std::vector<std::pair<float, index::VectorId>> exact;
      exact.reserve(vid.size());
      for (std::size_t i = 0; i < vid.size(); ++i) {
        float dot = 0;
        for (std::size_t d = 0; d < dims; ++d) dot += all[i * dims + d] * query[d];
        exact.emplace_back(-dot, vid[i]);
      }
      std::partial_sort(exact.begin(), exact.begin() + static_cast<std::ptrdiff_t>(args.shortlist),
                        exact.end());
      std::set<index::VectorId> g;
      for (const index::VectorHit& h : got) g.insert(h.id);
      for (std::size_t i = 0; i < args.shortlist; ++i) agree += g.count(exact[i].second);
      total += args.shortlist;
    }
  }
  return s;
}

}  // namespace

nlohmann::json VectorLevel(const ScaleOptions& args, index::Database& database,
                           const index::SearchEngine& engine) {
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
  index::VectorIndex vi(static_cast<int>(dims), vo);
  AddInBatches(v, dims, &vi);
  const double vbuild = std::chrono::duration<double>(Clock::now() - t0).count();
  const VectorQueryStats s = QueryVectorIndex(args, vi, v, dims, features.size());
  return {{"vectors", args.vectors},
          {"dims", dims},
          {"index_kind", index::VectorIndexKindName(vi.kind())},
          {"ivf_dims", args.ivf_dims},
          {"ivf_probe", args.ivf_probe},
          {"build_s", vbuild},
          {"index_bytes", vi.MemoryBytes()},
          {"index_bytes_per_item", static_cast<double>(vi.MemoryBytes()) / static_cast<double>(args.vectors)},
          {"peak_rss_growth_bytes", PeakRss() - before},
          {"shortlist_p50_ms", Percentile(s.lat, 0.5)},
          {"shortlist_p95_ms", Percentile(s.lat, 0.95)},
          {"recall_vs_exact", s.total ? static_cast<double>(s.agree) / static_cast<double>(s.total) : 0.0}};
}

}  // namespace toolmark::bench
