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
#include "vector_level.h"

namespace toolmark::bench {
namespace {
namespace fs = std::filesystem;
using base::Progress;

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

/// Land items a stored item is made of: bullets their lands, cartridge cases 1.
std::size_t ScansPerItem(const ScaleOptions& args) {
  return static_cast<std::size_t>(args.kind == Kind::kBullet ? args.lands : 1);
}
/// Scans the bench stores: an item each, bullets a land item each.
std::size_t ScanCount(const ScaleOptions& args) { return args.items * ScansPerItem(args); }
/// The firearm (0, 1, …) of generated scan i (the generator's order: firearm, shot, land).
int FirearmOf(const ScaleOptions& args, std::size_t i) {
  return static_cast<int>(i / (static_cast<std::size_t>(args.per_firearm) * ScansPerItem(args)));
}

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
  const std::size_t scans = ScanCount(args);
  Check(synthetic == scans && stored.size() >= scans,
        folder + ": holds " + std::to_string(synthetic) + " scans of this bench's seed, not the " +
            std::to_string(scans) + " that --items " + std::to_string(args.items) +
            " makes (--reuse needs the bench's own database, built with the same --kind, --items, --lands, "
            "--per-firearm, --size and --seed)");
  for (std::size_t i = 0; i < scans; ++i) {
    ids[i] = stored[i].id;
    firearm[i] = FirearmOf(args, i);
  }
  for (const std::size_t i : {std::size_t{0}, scans - 1}) {
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
  const std::size_t count = ScanCount(args);
  Progress bar(count, "ingesting synthetic items");
  // Generated in parallel with their derived features (embedding, quick
  // features: as a lab's ingest would extract them while it holds the
  // scan, so that nothing is read back), then stored in order.
  constexpr std::size_t kGenerated = 256;
  std::vector<SynthScan> scans;
  std::vector<std::vector<index::FeatureRecord>> derived;
  std::vector<index::FeatureRecord> pending;
  const Kind kind = args.kind;
  for (std::size_t i = 0; i < count; ++i) {
    if (i % kGenerated == 0) {
      const auto p0 = Clock::now();
      if (!pending.empty()) db->PutFeatures(pending);
      features_s += std::chrono::duration<double>(Clock::now() - p0).count();
      pending.clear();
      scans.assign(std::min(kGenerated, count - i), SynthScan{});
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
    it.item_label = kind == Kind::kBullet ? scan.bullet : scan.file;  // a bullet: its lands share a label
    it.jurisdiction = i % 3 == 0 ? "NL" : i % 3 == 1 ? "DE" : "FR";
    it.kind = kind;
    it.role = "reference";
    it.marks = {kind == Kind::kBullet ? Mark{MarkType::kLand, scan.land} : Mark{MarkType::kBreechFace, 0}};
    const auto t0 = Clock::now();
    ids[i] = db->Add(it, scan.surface).id;
    ingest_s += std::chrono::duration<double>(Clock::now() - t0).count();
    for (index::FeatureRecord& f : derived[i % kGenerated]) {
      f.item = ids[i];
      pending.push_back(std::move(f));
    }
    firearm[i] = FirearmOf(args, i);
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
  bool bullets = false;  ///< bullet queries: no shortlist-level or exhaustive measures
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

/// Bullet queries: a fresh bullet of a firearm in the database (shot index
/// per_firearm: not ingested) with two of its lands missing (damaged, not
/// scanned), searched bullet-level (SearchBullet: its lands shortlisted, the
/// candidate bullets compared whole at the best phase). Its known matches
/// are the firearm's stored bullets (the bench's truth: evaluation only).
QueryStats QueryBullets(const ScaleOptions& args, const Database& b, const index::SearchEngine& engine) {
  QueryStats s;
  s.bullets = true;
  SynthOptions qo = b.o;
  qo.per_firearm = args.per_firearm + 1;
  s.nq = std::min<std::size_t>(args.queries, static_cast<std::size_t>(qo.firearms));
  Progress bar(s.nq, "querying bullets");
  for (std::size_t q = 0; q < s.nq; ++q) {
    const int f = static_cast<int>(q * static_cast<std::size_t>(qo.firearms) / s.nq);
    std::vector<index::BulletLandQuery> lands;
    std::string case_id;
    for (int l = 0; l < args.lands; ++l) {
      const bool missing = args.lands > 2 && (l == static_cast<int>(q) % args.lands ||
                                              l == (static_cast<int>(q) + 3) % args.lands);
      if (missing) continue;
      SynthScan scan = GenerateSynthScan(qo, (f * qo.per_firearm + args.per_firearm) * args.lands + l);
      case_id = "bench-" + scan.firearm;
      lands.push_back({scan.land - 1, std::move(scan.surface)});
    }
    index::SearchQuery one;  // the first land's shortlist alone, timed
    one.surface = lands.front().surface;
    one.kind = Kind::kBullet;
    const auto t0 = Clock::now();
    engine.Shortlist(one);
    s.shortlist_ms.push_back(Ms(Clock::now() - t0));
    const auto t1 = Clock::now();
    const std::vector<index::BulletHit> hits = engine.SearchBullet(lands);
    s.search_ms.push_back(Ms(Clock::now() - t1));
    s.km_total += static_cast<std::size_t>(args.per_firearm);
    for (const index::BulletHit& h : hits) s.km_in_hits += h.case_id == case_id;
    s.top_is_km += !hits.empty() && hits.front().case_id == case_id;
    bar.Tick("query " + std::to_string(q + 1));
  }
  return s;
}

/// The synthetic data's options: args.items scans, args.per_firearm a firearm; throws when out of range.
SynthOptions SynthOptionsFor(const ScaleOptions& args) {
  SynthOptions o;
  o.kind = args.kind;
  o.per_firearm = args.per_firearm;
  o.firearms = static_cast<int>((args.items + static_cast<std::size_t>(args.per_firearm) - 1) /
                                static_cast<std::size_t>(args.per_firearm));
  o.size = args.size != 0 ? args.size : args.kind == Kind::kBullet ? 0 : 128;
  o.lands = args.lands;
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

  b.ids.resize(ScanCount(args));
  b.firearm.resize(ScanCount(args));
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
  so.shortlist_depth = args.shortlist_depth;
  so.screened = args.screened;
  so.screen_all_below = 0;  // the bench measures the vector index's shortlist, at any size
  so.top = args.top;
  so.fine = args.fine;
  so.index.kind = index::ParseVectorIndexKind(args.index_kind);
  so.index.sketch_bits = args.sketch_bits;
  so.index.sketch_rerank = args.sketch_rerank;
  return so;
}

/// The result object of a database-level bench (without vector_level).
nlohmann::json ScaleJson(const ScaleOptions& args, const index::SearchEngine& engine, const QueryStats& s,
                         double build_s, double ingest_s, bool reuse) {
  const std::size_t nq = s.nq;
  return {{"items", args.items},
          {"kind", KindName(args.kind)},
          {"comparator", engine.comparator()},
          {"scan_size", args.size != 0               ? nlohmann::json(args.size)
                        : args.kind == Kind::kBullet ? nlohmann::json(nullptr)
                                                     : nlohmann::json(128)},
          {"lands", args.kind == Kind::kBullet ? nlohmann::json(args.lands) : nlohmann::json(nullptr)},
          {"stored_scans", ScanCount(args)},
          {"shortlist", args.shortlist},
          {"shortlist_depth", args.shortlist_depth},
          {"screened", args.screened},
          {"fine", args.fine},
          {"top", args.top},
          {"queries", nq},
          {"shortlist_recall",
           s.recall_n ? nlohmann::json(static_cast<double>(s.recall_hits) / static_cast<double>(s.recall_n))
                      : nlohmann::json(nullptr)},
          {"shortlist_recall_queries", s.recall_n},
          {"known_match_in_shortlist",
           s.bullets
               ? nlohmann::json(nullptr)
               : nlohmann::json(s.km_total ? static_cast<double>(s.km_found) / static_cast<double>(s.km_total)
                                           : 0.0)},
          {"best_known_match_in_shortlist",
           s.bullets ? nlohmann::json(nullptr)
                     : nlohmann::json(s.best_km_n ? static_cast<double>(s.best_km_listed) /
                                                        static_cast<double>(s.best_km_n)
                                                  : 0.0)},
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
                 : nlohmann::json(static_cast<double>(ScanCount(args)) / std::max(ingest_s, 1e-9))},
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

  const QueryStats s = args.kind == Kind::kBullet ? QueryBullets(args, b, engine) : Query(args, b, engine);
  nlohmann::json out = ScaleJson(args, engine, s, build_s, ingest_s, reuse);

  out["catalog_bytes_per_item"] = static_cast<double>(CatalogBytes(folder)) /
                                  static_cast<double>(std::max<std::size_t>(1, db->List().size()));
  if (!real.empty()) out["real"] = QueryRealSets(args, real, *db, engine);
  if (args.vectors > engine.indexed()) out["vector_level"] = VectorLevel(args, *db, engine, real);
  return out;
}

}  // namespace toolmark::bench
