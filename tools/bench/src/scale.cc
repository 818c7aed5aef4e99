// A synthetic database at a given size and what searching it costs; see
// toolmark/bench/scale.h. The bench made the data, so it knows which items
// share a firearm: that truth is used here for the recall measures only.
#include "toolmark/bench/scale.h"

#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "real_queries.h"
#include "stats.h"
#include "toolmark/base/hash.h"
#include "toolmark/base/terminal.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/synth.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/search.h"

namespace toolmark::bench {
namespace {
namespace fs = std::filesystem;
using base::Progress;

/// Peak resident memory of this process (VmHWM), bytes; 0 when unknown.
std::size_t PeakRss() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  std::size_t kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmHWM: %zu kB", &kb) == 1) break;
  std::fclose(f);
  return kb * 1024;
}

/// The database a bench searches: its items in generation order and the
/// firearm of each (the bench's own truth).
struct Database {
  SynthOptions o;
  std::unique_ptr<index::Database> db;
  std::vector<index::ItemId> ids;
  std::vector<int> firearm;
  double ingest_s = 0, features_s = 0;
  bool reuse = false;
};

/// A database an earlier bench built with the same --items, --per-firearm,
/// --size and --seed: its items in id order are the generated scans in
/// order (checked by count and by the first and last items' names).
void Reuse(const ScaleOptions& args, const std::string& folder, Database& b) {
  std::vector<index::ItemId>& ids = b.ids;
  std::vector<int>& firearm = b.firearm;
  const SynthOptions& o = b.o;
  auto& db = b.db;
  const std::vector<index::ItemRecord> stored = db->List();
  // The bench's synthetic items (their hash names the bench's seed) first, then any real scans --real added.
  const std::size_t synthetic =
      static_cast<std::size_t>(std::count_if(stored.begin(), stored.end(), [&](const index::ItemRecord& it) {
        return it.sha256 == base::Sha256Hex("bench " + std::to_string(args.seed) + " " + it.file);
      }));
  Check(synthetic == args.items && stored.size() >= args.items,
        folder + ": holds " + std::to_string(synthetic) + " synthetic items, not --items " +
            std::to_string(args.items) +
            " of this seed (--reuse needs the bench's own database, built with the same --items, "
            "--per-firearm, --size and --seed)");
  for (std::size_t i = 0; i < args.items; ++i) {
    ids[i] = stored[i].id;
    firearm[i] = static_cast<int>(i) / args.per_firearm;
  }
  for (const std::size_t i : {std::size_t{0}, args.items - 1}) {
    const SynthScan scan = GenerateSynthScan(o, static_cast<int>(i));
    const bool same =
        stored[i].file == scan.file &&
        stored[i].sha256 == base::Sha256Hex("bench " + std::to_string(args.seed) + " " + scan.file) &&
        stored[i].size_x == scan.surface.SizeX() && stored[i].size_y == scan.surface.SizeY();
    Check(same, folder + ": item " + std::to_string(ids[i]) + " (" + stored[i].file +
                    ") is not this bench's (--reuse needs the same --items, --per-firearm, --size, --seed)");
  }
}

/// Generates the scans in parallel with their derived features (embedding,
/// quick features: as a lab's ingest would extract them while it holds the
/// scan, so that nothing is read back), then stores them in order; storing
/// is timed, generation is not.
void Build(const ScaleOptions& args, Database& b) {
  std::vector<index::ItemId>& ids = b.ids;
  std::vector<int>& firearm = b.firearm;
  const SynthOptions& o = b.o;
  auto& db = b.db;
  double& ingest_s = b.ingest_s;
  double& features_s = b.features_s;
  Progress bar(args.items, "ingesting synthetic items");
  // Generated in parallel with their derived features (embedding, quick
  // features: as a lab's ingest would extract them while it holds the
  // scan, so that nothing is read back), then stored in order.
  constexpr std::size_t kGenerated = 256;
  std::vector<SynthScan> scans;
  std::vector<std::vector<index::FeatureRecord>> derived;
  std::vector<index::FeatureRecord> pending;
  const Kind kind = args.kind;
  for (std::size_t i = 0; i < args.items; ++i) {
    if (i % kGenerated == 0) {
      const auto p0 = Clock::now();
      if (!pending.empty()) db->PutFeatures(pending);
      features_s += std::chrono::duration<double>(Clock::now() - p0).count();
      pending.clear();
      scans.assign(std::min(kGenerated, args.items - i), SynthScan{});
      derived.assign(scans.size(), {});
      tbb::parallel_for(std::size_t{0}, scans.size(),
                        [&](std::size_t k) { scans[k] = GenerateSynthScan(o, static_cast<int>(i + k)); });
      const auto f0 = Clock::now();
      tbb::parallel_for(std::size_t{0}, scans.size(), [&](std::size_t k) {
        derived[k] = index::DerivedFeatures(kind, index::kInvalidItemId, scans[k].surface);
      });
      features_s += std::chrono::duration<double>(Clock::now() - f0).count();
    }
    const SynthScan& scan = scans[i % kGenerated];
    index::ItemRecord it;
    it.file = scan.file;
    it.sha256 = base::Sha256Hex("bench " + std::to_string(args.seed) + " " + scan.file);
    it.format = "x3p";
    it.case_id = "bench-" + scan.firearm;
    it.item_label = scan.file;
    it.jurisdiction = i % 3 == 0 ? "NL" : i % 3 == 1 ? "DE" : "FR";
    it.kind = kind;
    it.role = "reference";
    it.marks = {kind == Kind::kBullet ? Mark{MarkType::kLand, 1} : Mark{MarkType::kBreechFace, 0}};
    const auto t0 = Clock::now();
    ids[i] = db->Add(it, scan.surface).id;
    ingest_s += std::chrono::duration<double>(Clock::now() - t0).count();
    for (index::FeatureRecord& f : derived[i % kGenerated]) {
      f.item = ids[i];
      pending.push_back(std::move(f));
    }
    firearm[i] = static_cast<int>(i) / args.per_firearm;
    bar.Tick(scan.file);
  }
  const auto f0 = Clock::now();
  if (!pending.empty()) db->PutFeatures(pending);
  features_s += std::chrono::duration<double>(Clock::now() - f0).count();
}

/// What the queries measured.
struct QueryStats {
  std::size_t nq = 0;
  std::vector<double> shortlist_ms, search_ms, rerank_ms, fine_ms;
  std::size_t km_total = 0, km_found = 0, km_in_hits = 0, top_is_km = 0, recall_hits = 0, recall_n = 0;
  std::size_t best_km_n = 0, best_km_listed = 0;
};

/// Queries: a fresh shot of a firearm in the database (generated with the
/// database's seed, shot index per_firearm: not ingested), by file.
QueryStats Query(const ScaleOptions& args, const Database& b, const index::SearchEngine& engine) {
  QueryStats s;
  const SynthOptions& o = b.o;
  const std::vector<index::ItemId>& ids = b.ids;
  const std::vector<int>& firearm = b.firearm;
  index::Database* db = b.db.get();
  std::vector<double>& shortlist_ms = s.shortlist_ms;
  std::vector<double>& search_ms = s.search_ms;
  std::vector<double>& rerank_ms = s.rerank_ms;
  std::vector<double>& fine_ms = s.fine_ms;
  std::size_t &km_total = s.km_total, &km_found = s.km_found, &km_in_hits = s.km_in_hits,
              &top_is_km = s.top_is_km, &recall_hits = s.recall_hits, &recall_n = s.recall_n;
  std::size_t &best_km_n = s.best_km_n, &best_km_listed = s.best_km_listed;
  SynthOptions qo = o;
  qo.per_firearm = args.per_firearm + 1;
  s.nq = std::min<std::size_t>(args.queries, static_cast<std::size_t>(o.firearms));
  const std::size_t nq = s.nq;
  const Kind kind = args.kind;
  const auto comparator = MakeComparator(index::ComparatorForKind(kind));
  Progress bar(nq, "querying");
  for (std::size_t q = 0; q < nq; ++q) {
    const int f = static_cast<int>(q * static_cast<std::size_t>(o.firearms) / nq);
    index::SearchQuery query;
    query.surface = GenerateSynthScan(qo, f * qo.per_firearm + args.per_firearm).surface;
    query.kind = kind;
    const auto t0 = Clock::now();
    const std::vector<index::VectorHit> shortlist = engine.Shortlist(query);
    shortlist_ms.push_back(Ms(Clock::now() - t0));
    const auto t1 = Clock::now();
    const std::vector<index::SearchHit> hits = engine.Search(query);
    search_ms.push_back(Ms(Clock::now() - t1));
    rerank_ms.push_back(engine.LastTimings().rerank_ms);
    fine_ms.push_back(engine.LastTimings().fine_ms);
    std::set<index::ItemId> listed, found;
    for (const index::VectorHit& h : shortlist) listed.insert(h.id);
    for (const index::SearchHit& h : hits) found.insert(h.item);
    std::set<index::ItemId> same;  // the bench made the data, so it knows (evaluation only)
    for (std::size_t i = 0; i < args.items; ++i) {
      if (firearm[i] != f) continue;
      same.insert(ids[i]);
      ++km_total;
      km_found += listed.count(ids[i]);
      km_in_hits += found.count(ids[i]);
    }
    top_is_km += !hits.empty() && same.count(hits.front().item);
    {  // the known match the fine comparison ranks first: is it shortlisted?
      const auto prepared = comparator->Prepare(query.surface);
      const std::vector<index::ItemId> partners(same.begin(), same.end());
      std::vector<double> score(partners.size());
      tbb::parallel_for(std::size_t{0}, partners.size(), [&](std::size_t i) {
        score[i] = comparator->Compare(*prepared, *comparator->Prepare(db->LoadSurface(partners[i]))).score;
      });
      if (!partners.empty()) {
        const auto best =
            static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
        ++best_km_n;
        best_km_listed += listed.count(partners[best]);
      }
    }
    if (q < args.recall_queries) {  // exhaustive fine comparison: is its best candidate shortlisted?
      const auto prepared = comparator->Prepare(query.surface);
      std::vector<double> score(args.items);
      tbb::parallel_for(std::size_t{0}, args.items, [&](std::size_t i) {
        score[i] = comparator->Compare(*prepared, *comparator->Prepare(db->LoadSurface(ids[i]))).score;
      });
      const std::size_t best =
          static_cast<std::size_t>(std::max_element(score.begin(), score.end()) - score.begin());
      ++recall_n;
      recall_hits += listed.count(ids[best]);
    }
    bar.Tick("query " + std::to_string(q + 1));
  }

  return s;
}

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

/// The vector index alone: the database's embeddings plus distractors (each
/// a normalised mix of two random database embeddings and noise, so that
/// they look like embeddings, not like random directions), searched with
/// the queries' embeddings; recall of the exact top-k in the index's top-k.
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

/// Bytes of the catalog on disk (the SQLite file and its write-ahead log).
std::size_t CatalogBytes(const std::string& folder) {
  std::size_t bytes = 0;
  for (const char* name : {"catalog.sqlite", "catalog.sqlite-wal"}) {
    std::error_code ec;
    const auto n = fs::file_size(fs::path(folder) / name, ec);
    if (!ec) bytes += static_cast<std::size_t>(n);
  }
  return bytes;
}

/// Removes the bench's database folder when it goes out of scope, unless it is kept.
struct RemoveFolderUnlessKept {
  std::string folder;
  bool keep;
  ~RemoveFolderUnlessKept() {
    std::error_code ec;
    if (!keep) fs::remove_all(folder, ec);
  }
};

/// The synthetic data's options: args.items scans, args.per_firearm a firearm; throws when out of range.
SynthOptions SynthOptionsFor(const ScaleOptions& args) {
  SynthOptions o;
  o.kind = args.kind;
  o.per_firearm = args.per_firearm;
  o.firearms = static_cast<int>((args.items + static_cast<std::size_t>(args.per_firearm) - 1) /
                                static_cast<std::size_t>(args.per_firearm));
  o.size = args.size;
  o.seed = args.seed;
  o.Check();
  return o;
}

/// The database the bench searches in `folder`: an earlier bench's (reuse), else built now.
Database OpenBenchDatabase(const ScaleOptions& args, const std::string& folder, bool reuse) {
  Database b;
  b.reuse = reuse;
  b.o = SynthOptionsFor(args);
  b.db = index::Database::Open(folder, !reuse);

  b.ids.resize(args.items);
  b.firearm.resize(args.items);
  if (reuse)
    Reuse(args, folder, b);
  else
    Build(args, b);
  return b;
}

/// The search engine's options: the bench's shortlist, fine and top, and the vector index kind.
index::SearchOptions BenchSearchOptions(const ScaleOptions& args) {
  index::SearchOptions so;
  so.shortlist = args.shortlist;
  so.screen_all_below = 0;  // the bench measures the vector index's shortlist, at any size
  so.top = args.top;
  so.fine = args.fine;
  so.index.kind = index::ParseVectorIndexKind(args.index_kind);
  return so;
}

/// The result object of a database-level bench (without vector_level).
nlohmann::json ScaleJson(const ScaleOptions& args, const index::SearchEngine& engine, const QueryStats& s,
                         double build_s, double ingest_s, bool reuse) {
  const std::size_t nq = s.nq;
  return {{"items", args.items},
          {"kind", KindName(args.kind)},
          {"comparator", engine.comparator()},
          {"scan_size", args.size},
          {"shortlist", args.shortlist},
          {"fine", args.fine},
          {"top", args.top},
          {"queries", nq},
          {"shortlist_recall",
           s.recall_n ? nlohmann::json(static_cast<double>(s.recall_hits) / static_cast<double>(s.recall_n))
                      : nlohmann::json(nullptr)},
          {"shortlist_recall_queries", s.recall_n},
          {"known_match_in_shortlist",
           s.km_total ? static_cast<double>(s.km_found) / static_cast<double>(s.km_total) : 0.0},
          {"best_known_match_in_shortlist",
           s.best_km_n ? static_cast<double>(s.best_km_listed) / static_cast<double>(s.best_km_n) : 0.0},
          {"known_match_in_hits",
           s.km_total ? static_cast<double>(s.km_in_hits) / static_cast<double>(s.km_total) : 0.0},
          {"top_hit_known_match", nq ? static_cast<double>(s.top_is_km) / static_cast<double>(nq) : 0.0},
          {"shortlist_p50_ms", Percentile(s.shortlist_ms, 0.5)},
          {"shortlist_p95_ms", Percentile(s.shortlist_ms, 0.95)},
          {"search_p50_ms", Percentile(s.search_ms, 0.5)},
          {"search_p95_ms", Percentile(s.search_ms, 0.95)},
          {"search_rerank_p50_ms", Percentile(s.rerank_ms, 0.5)},
          {"search_fine_p50_ms", Percentile(s.fine_ms, 0.5)},
          {"index_build_s", build_s},
          {"index_bytes_per_item", static_cast<double>(engine.IndexMemoryBytes()) /
                                       static_cast<double>(std::max<std::size_t>(1, engine.indexed()))},
          {"ingest_items_per_s",
           reuse ? nlohmann::json(nullptr)
                 : nlohmann::json(static_cast<double>(args.items) / std::max(ingest_s, 1e-9))},
          {"reused_database", reuse},
          {"peak_rss_bytes", PeakRss()},
          {"version", Version()}};
}

}  // namespace

nlohmann::json RunScale(const ScaleOptions& args, std::vector<std::string>* warnings) {
  Check(args.items >= 4, "bench: --items must be at least 4");
  const std::string folder =
      !args.db.empty()
          ? args.db
          : (fs::temp_directory_path() / ("toolmark-bench-" + std::to_string(::getpid()))).string();
  const bool reuse = args.reuse && fs::exists(folder);
  Check(reuse || !fs::exists(folder),
        folder + ": exists; bench builds a fresh database (give another --db, or --reuse)");
  RemoveFolderUnlessKept cleanup{folder, args.keep || reuse};

  Database b = OpenBenchDatabase(args, folder, reuse);
  const double ingest_s = b.ingest_s, features_s = b.features_s;
  const std::vector<RealSet> real = IngestRealSets(args, folder, warnings);
  if (!real.empty()) b.db = index::Database::Open(folder, false);  // the items ingest added
  index::Database* db = b.db.get();

  // 2. Embeddings and the vector index.
  const index::SearchOptions so = BenchSearchOptions(args);
  index::SearchEngine engine(*db, args.kind, so);
  const auto b0 = Clock::now();
  engine.Update(warnings);
  const double build_s = features_s + std::chrono::duration<double>(Clock::now() - b0).count();

  const QueryStats s = Query(args, b, engine);
  nlohmann::json out = ScaleJson(args, engine, s, build_s, ingest_s, reuse);

  out["catalog_bytes_per_item"] = static_cast<double>(CatalogBytes(folder)) /
                                  static_cast<double>(std::max<std::size_t>(1, db->List().size()));
  if (!real.empty()) out["real"] = QueryRealSets(args, real, *db, engine);
  if (args.vectors > engine.indexed()) out["vector_level"] = VectorLevel(args, *db, engine);
  return out;
}

}  // namespace toolmark::bench
