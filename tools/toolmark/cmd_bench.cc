// toolmark bench: a synthetic database of a given size, and what searching it
// costs: ingest throughput, embedding + index build time, index memory,
// shortlist and two-stage query latency (p50 / p95), shortlist recall against
// exhaustive fine comparison on a subsample of queries. --vectors M adds a
// vector-index-level benchmark at M vectors (the database's embeddings plus
// distractors mixed from them). See docs/search.md.
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/synth.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/search.h"
#include "toolmark/ingest/hash.h"

namespace toolmark::cli {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct BenchArgs {
  std::size_t items = 1000;
  std::string kind = "cartridge_case";
  int per_firearm = 2;
  int size = 128;
  std::uint64_t seed = 1;
  std::size_t queries = 20, recall_queries = 5, shortlist = 100, vectors = 0, top = 10, fine = 10;
  std::string index_kind = "auto";
  int ivf_dims = 128;
  std::size_t ivf_probe = 96;
  std::string db;
  bool keep = false, json = false, reuse = false;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(at));
  const auto hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (at - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

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

int RunBench(const BenchArgs& args) {
  Check(args.items >= 4, "bench: --items must be at least 4");
  const std::string folder =
      !args.db.empty()
          ? args.db
          : (fs::temp_directory_path() / ("toolmark-bench-" + std::to_string(::getpid()))).string();
  const bool reuse = args.reuse && fs::exists(folder);
  Check(reuse || !fs::exists(folder),
        folder + ": exists; bench builds a fresh database (give another --db, or --reuse)");
  struct Cleanup {
    std::string folder;
    bool keep;
    ~Cleanup() {
      std::error_code ec;
      if (!keep) fs::remove_all(folder, ec);
    }
  } cleanup{folder, args.keep || reuse};

  SynthOptions o;
  o.kind = args.kind;
  o.per_firearm = args.per_firearm;
  o.firearms = static_cast<int>((args.items + static_cast<std::size_t>(args.per_firearm) - 1) /
                                static_cast<std::size_t>(args.per_firearm));
  o.size = args.size;
  o.seed = args.seed;
  o.Check();
  auto db = index::Database::Open(folder, !reuse);

  // 1. Ingest (generation is not timed; storing is).
  std::vector<index::ItemId> ids(args.items);
  std::vector<int> firearm(args.items);
  double ingest_s = 0, features_s = 0;
  if (reuse) {
    // A database an earlier bench built with the same --items, --per-firearm,
    // --size and --seed: its items in id order are the generated scans in
    // order (checked by count and by the first and last items' names).
    const std::vector<index::ItemRecord> stored = db->List();
    Check(stored.size() == args.items, folder + ": holds " + std::to_string(stored.size()) +
                                           " items, not --items " + std::to_string(args.items) +
                                           " (--reuse needs the bench's own database)");
    for (std::size_t i = 0; i < args.items; ++i) {
      ids[i] = stored[i].id;
      firearm[i] = static_cast<int>(i) / args.per_firearm;
    }
    for (const std::size_t i : {std::size_t{0}, args.items - 1}) {
      const SynthScan scan = GenerateSynthScan(o, static_cast<int>(i));
      const bool same =
          stored[i].file == scan.file &&
          stored[i].sha256 == ingest::Sha256Hex("bench " + std::to_string(args.seed) + " " + scan.file) &&
          stored[i].size_x == scan.surface.SizeX() && stored[i].size_y == scan.surface.SizeY();
      Check(same,
            folder + ": item " + std::to_string(ids[i]) + " (" + stored[i].file +
                ") is not this bench's (--reuse needs the same --items, --per-firearm, --size, --seed)");
    }
  } else {
    Progress bar(args.items, "ingesting synthetic items");
    // Generated in parallel with their derived features (embedding, quick
    // features: as a lab's ingest would extract them while it holds the
    // scan, so that nothing is read back), then stored in order.
    constexpr std::size_t kGenerated = 256;
    std::vector<SynthScan> scans;
    std::vector<std::vector<index::FeatureRecord>> derived;
    std::vector<index::FeatureRecord> pending;
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
          derived[k] = index::DerivedFeatures(args.kind, index::kInvalidItemId, scans[k].surface);
        });
        features_s += std::chrono::duration<double>(Clock::now() - f0).count();
      }
      const SynthScan& scan = scans[i % kGenerated];
      index::ItemRecord it;
      it.file = scan.file;
      it.sha256 = ingest::Sha256Hex("bench " + std::to_string(args.seed) + " " + scan.file);
      it.format = "x3p";
      it.case_id = "bench-" + scan.firearm;
      it.item_label = scan.file;
      it.jurisdiction = i % 3 == 0 ? "NL" : i % 3 == 1 ? "DE" : "FR";
      it.kind = args.kind;
      it.role = "reference";
      it.marks = {args.kind == "bullet" ? "land1" : "breech_face"};
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

  // 2. Embeddings and the vector index.
  index::SearchOptions so;
  so.shortlist = args.shortlist;
  so.screen_all_below = 0;  // the bench measures the vector index's shortlist, at any size
  so.top = args.top;
  so.fine = args.fine;
  so.index.kind = index::ParseVectorIndexKind(args.index_kind);
  index::SearchEngine engine(*db, args.kind, so);
  std::vector<std::string> warnings;
  const auto b0 = Clock::now();
  engine.Update(&warnings);
  const double build_s = features_s + std::chrono::duration<double>(Clock::now() - b0).count();
  for (const std::string& w : warnings) std::fprintf(stderr, "toolmark: warning: %s\n", OneLine(w).c_str());

  // 3. Queries: a fresh shot of a firearm in the database (generated with the
  // database's seed, shot index per_firearm: not ingested), by file.
  SynthOptions qo = o;
  qo.per_firearm = args.per_firearm + 1;
  const std::size_t nq = std::min<std::size_t>(args.queries, static_cast<std::size_t>(o.firearms));
  std::vector<double> shortlist_ms, search_ms, rerank_ms, fine_ms;
  std::size_t km_total = 0, km_found = 0, km_in_hits = 0, top_is_km = 0, recall_hits = 0, recall_n = 0;
  std::size_t best_km_n = 0, best_km_listed = 0;
  const auto comparator = MakeComparator(index::ComparatorForKind(args.kind));
  Progress bar(nq, "querying");
  for (std::size_t q = 0; q < nq; ++q) {
    const int f = static_cast<int>(q * static_cast<std::size_t>(o.firearms) / nq);
    index::SearchQuery query;
    query.surface = GenerateSynthScan(qo, f * qo.per_firearm + args.per_firearm).surface;
    query.kind = args.kind;
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

  nlohmann::json out = {
      {"items", args.items},
      {"kind", args.kind},
      {"comparator", engine.comparator()},
      {"scan_size", args.size},
      {"shortlist", args.shortlist},
      {"fine", args.fine},
      {"top", args.top},
      {"queries", nq},
      {"shortlist_recall",
       recall_n ? nlohmann::json(static_cast<double>(recall_hits) / static_cast<double>(recall_n))
                : nlohmann::json(nullptr)},
      {"shortlist_recall_queries", recall_n},
      {"known_match_in_shortlist",
       km_total ? static_cast<double>(km_found) / static_cast<double>(km_total) : 0.0},
      {"best_known_match_in_shortlist",
       best_km_n ? static_cast<double>(best_km_listed) / static_cast<double>(best_km_n) : 0.0},
      {"known_match_in_hits",
       km_total ? static_cast<double>(km_in_hits) / static_cast<double>(km_total) : 0.0},
      {"top_hit_known_match", nq ? static_cast<double>(top_is_km) / static_cast<double>(nq) : 0.0},
      {"shortlist_p50_ms", Percentile(shortlist_ms, 0.5)},
      {"shortlist_p95_ms", Percentile(shortlist_ms, 0.95)},
      {"search_p50_ms", Percentile(search_ms, 0.5)},
      {"search_p95_ms", Percentile(search_ms, 0.95)},
      {"search_rerank_p50_ms", Percentile(rerank_ms, 0.5)},
      {"search_fine_p50_ms", Percentile(fine_ms, 0.5)},
      {"index_build_s", build_s},
      {"index_bytes_per_item", static_cast<double>(engine.IndexMemoryBytes()) /
                                   static_cast<double>(std::max<std::size_t>(1, engine.indexed()))},
      {"ingest_items_per_s",
       reuse ? nlohmann::json(nullptr)
             : nlohmann::json(static_cast<double>(args.items) / std::max(ingest_s, 1e-9))},
      {"reused_database", reuse},
      {"peak_rss_bytes", PeakRss()},
      {"version", Version()}};

  // 4. Vector-index level: the database's embeddings plus distractors (each a
  // normalised mix of two random database embeddings and noise, so that they
  // look like embeddings, not like random directions), searched with the
  // queries' embeddings; recall of the exact top-100 in the index's top-100.
  if (args.vectors > engine.indexed()) {
    std::vector<index::FeatureRecord> features =
        db->Features(engine.comparator(), index::FeatureVersion(engine.comparator()));
    Check(!features.empty(), "bench: no embeddings to build distractors from");
    const std::size_t dims = features[0].vector.size();
    std::vector<float> all;
    all.reserve(args.vectors * dims);
    std::vector<index::VectorId> vid;
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
    const std::size_t before = PeakRss();
    const auto t0 = Clock::now();
    index::VectorIndexOptions vo;
    vo.kind = index::ParseVectorIndexKind(args.index_kind);
    vo.ivf_dims = args.ivf_dims;
    vo.ivf_probe = args.ivf_probe;
    index::VectorIndex vi(static_cast<int>(dims), vo);
    // Grown in batches, as a database grows (an IVF index is trained when
    // the flat one outgrows its threshold, then takes the rest).
    constexpr std::size_t kBatch = 10000;
    for (std::size_t start = 0; start < vid.size(); start += kBatch) {
      const std::size_t end = std::min(vid.size(), start + kBatch);
      vi.Add(
          {vid.begin() + static_cast<std::ptrdiff_t>(start), vid.begin() + static_cast<std::ptrdiff_t>(end)},
          {all.begin() + static_cast<std::ptrdiff_t>(start * dims),
           all.begin() + static_cast<std::ptrdiff_t>(end * dims)});
    }
    const double vbuild = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> lat;
    std::size_t agree = 0, total = 0;
    for (std::size_t q = 0; q < std::min<std::size_t>(100, features.size()); ++q) {
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
    out["vector_level"] = {
        {"vectors", args.vectors},
        {"dims", dims},
        {"index_kind", index::VectorIndexKindName(vi.kind())},
        {"ivf_dims", args.ivf_dims},
        {"ivf_probe", args.ivf_probe},
        {"build_s", vbuild},
        {"index_bytes", vi.MemoryBytes()},
        {"index_bytes_per_item", static_cast<double>(vi.MemoryBytes()) / static_cast<double>(args.vectors)},
        {"peak_rss_growth_bytes", PeakRss() - before},
        {"shortlist_p50_ms", Percentile(lat, 0.5)},
        {"shortlist_p95_ms", Percentile(lat, 0.95)},
        {"recall_vs_exact", total ? static_cast<double>(agree) / static_cast<double>(total) : 0.0}};
  }
  if (args.json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& [key, value] : out.items()) std::printf("%-26s %s\n", key.c_str(), value.dump().c_str());
  return 0;
}

}  // namespace

void RegisterBench(CLI::App& app, Action* action) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Synthetic database at a given size: ingest throughput, index build, latency, recall, memory");
  cmd->add_option("--items", args->items, "Items in the synthetic database")->check(CLI::Range(4, 10000000));
  cmd->add_option("--kind", args->kind, "cartridge_case (bullets: not yet)")
      ->check(CLI::IsMember({"cartridge_case"}));
  cmd->add_option("--per-firearm", args->per_firearm, "Items per firearm")->check(CLI::Range(1, 100));
  cmd->add_option("--size", args->size, "Points a side of each synthetic scan")->check(CLI::Range(32, 4096));
  cmd->add_option("--seed", args->seed, "Seed of the synthetic data");
  cmd->add_option("--queries", args->queries, "Queries timed")->check(CLI::Range(1, 100000));
  cmd->add_option("--recall-queries", args->recall_queries,
                  "Queries also compared exhaustively with the whole database (shortlist recall)");
  cmd->add_option("--shortlist", args->shortlist, "Shortlist length")->check(CLI::Range(1, 100000));
  cmd->add_option("--top", args->top, "Hits of each two-stage search")->check(CLI::Range(1, 100000));
  cmd->add_option("--fine", args->fine,
                  "Candidates compared finely after re-ranking by the quick score (0: every shortlisted one)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--index", args->index_kind, "Vector index: auto, flat, hnsw, ivf")
      ->check(CLI::IsMember({"auto", "flat", "hnsw", "ivf"}));
  cmd->add_option("--ivf-dims", args->ivf_dims, "IVF: PCA dimensions (vector level)")
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--ivf-probe", args->ivf_probe, "IVF: lists visited per search (vector level)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--vectors", args->vectors,
                  "Also benchmark the vector index alone at this many vectors (embeddings + distractors)");
  cmd->add_option("--db", args->db, "Build the database here (default: a temporary folder)");
  cmd->add_flag("--keep", args->keep, "Keep the database afterwards");
  cmd->add_flag(
      "--reuse", args->reuse,
      "If --db exists, search it instead of building it (a database an earlier bench built with the same "
      "--items, --per-firearm, --size and --seed; ingest is then not measured, and it is kept)");
  cmd->add_flag("--json", args->json, "Print JSON (ARCHITECTURE.md fields)");
  cmd->callback([args, action] { *action = [args] { return RunBench(*args); }; });
}

}  // namespace toolmark::cli
