// Real scans among the bench's synthetic distractors; see real_queries.h.
#include "real_queries.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "stats.h"
#include "toolmark/base/terminal.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/pipeline.h"

namespace toolmark::bench {
namespace {
namespace fs = std::filesystem;

constexpr std::size_t kMissedListed = 50;  ///< missed partners named in the result, at most

/// What the real queries of one set (or of all) measured.
struct RealStats {
  std::size_t queries = 0, all_in_hits = 0, rank1 = 0, partners = 0, in_shortlist = 0, in_hits = 0;
  std::vector<double> shortlist_ms, search_ms;
  nlohmann::json missed = nlohmann::json::array();

  void Add(const RealStats& o) {
    queries += o.queries, all_in_hits += o.all_in_hits, rank1 += o.rank1;
    partners += o.partners, in_shortlist += o.in_shortlist, in_hits += o.in_hits;
    shortlist_ms.insert(shortlist_ms.end(), o.shortlist_ms.begin(), o.shortlist_ms.end());
    search_ms.insert(search_ms.end(), o.search_ms.begin(), o.search_ms.end());
  }
  nlohmann::json Json(std::size_t top) const {
    const auto share = [](std::size_t n, std::size_t of) {
      return of ? nlohmann::json(static_cast<double>(n) / static_cast<double>(of)) : nlohmann::json();
    };
    return {{"queries", queries},
            {"every_partner_in_top", all_in_hits},
            {"top", top},
            {"rank1_partner", rank1},
            {"rank1_share", share(rank1, queries)},
            {"partners", partners},
            {"partners_in_shortlist", in_shortlist},
            {"partners_in_shortlist_share", share(in_shortlist, partners)},
            {"partners_in_hits", in_hits},
            {"partners_missed", partners - in_hits},
            {"shortlist_p50_ms", Percentile(shortlist_ms, 0.5)},
            {"shortlist_p95_ms", Percentile(shortlist_ms, 0.95)},
            {"search_p50_ms", Percentile(search_ms, 0.5)},
            {"search_p95_ms", Percentile(search_ms, 0.95)},
            {"missed", missed}};
  }
};

/// The stored item as a query: its surface, class characteristics and surface kind, itself excluded.
index::SearchQuery StoredQuery(index::Database& db, index::ItemId id, Kind kind) {
  const std::optional<index::ItemRecord> it = db.Get(id);
  Check(it.has_value(), "bench: item " + std::to_string(id) + " is gone");
  index::SearchQuery q;
  q.surface = db.LoadSurface(id);
  q.kind = kind;
  q.class_marks = it->class_marks;
  q.exclude = id;
  q.surface_kind = it->surface_kind == "intensity" ? SurfaceKind::kIntensity : SurfaceKind::kHeight;
  q.label = it->file;
  return q;
}

/// One set's queries: every item with at least one partner (PartnersOf).
RealStats QuerySet(const ScaleOptions& args, const RealSet& set, index::Database& db,
                   const index::SearchEngine& engine, base::Progress* bar) {
  RealStats s;
  std::map<index::ItemId, std::string> file;
  for (std::size_t p = 0; p < set.ids.size(); ++p) file[set.ids[p]] = set.file[p];
  for (std::size_t q = 0; q < set.ids.size(); ++q) {
    const std::set<index::ItemId> partners = PartnersOf(set, q);  // evaluation only
    if (partners.empty()) {
      bar->Tick(set.name + " " + set.file[q]);
      continue;
    }
    const index::SearchQuery query = StoredQuery(db, set.ids[q], args.kind);
    const auto t0 = Clock::now();
    const std::vector<index::VectorHit> shortlist = engine.Shortlist(query);
    s.shortlist_ms.push_back(Ms(Clock::now() - t0));
    const auto t1 = Clock::now();
    const std::vector<index::SearchHit> hits = engine.SearchItem(set.ids[q]);
    s.search_ms.push_back(Ms(Clock::now() - t1));
    std::set<index::ItemId> listed, found;
    for (const index::VectorHit& h : shortlist) listed.insert(h.id);
    for (const index::SearchHit& h : hits) found.insert(h.item);
    ++s.queries;
    s.partners += partners.size();
    std::size_t here = 0;
    for (const index::ItemId p : partners) {
      s.in_shortlist += listed.count(p);
      here += found.count(p);
      if (!found.count(p) && s.missed.size() < kMissedListed)
        s.missed.push_back({{"set", set.name},
                            {"query", set.file[q]},
                            {"partner", file[p]},
                            {"in_shortlist", listed.count(p) > 0}});
    }
    s.in_hits += here;
    s.all_in_hits += here == partners.size();
    s.rank1 += !hits.empty() && partners.count(hits.front().item);
    bar->Tick(set.name + " " + set.file[q]);
  }
  return s;
}

}  // namespace

std::set<index::ItemId> PartnersOf(const RealSet& set, std::size_t q) {
  std::set<index::ItemId> partners;
  for (std::size_t p = 0; p < set.ids.size(); ++p)
    if (p != q && !set.firearm[q].empty() && set.firearm[p] == set.firearm[q] &&
        set.land_id[p] == set.land_id[q])
      partners.insert(set.ids[p]);
  return partners;
}

std::vector<RealSet> IngestRealSets(const ScaleOptions& args, const std::string& folder,
                                    std::vector<std::string>* warnings) {
  std::vector<RealSet> sets;
  for (const std::string& manifest : args.real) {
    RealSet set;
    set.name = fs::absolute(manifest).parent_path().filename().string();
    ingest::IngestRequest req;
    req.manifest = manifest;
    req.db = folder;
    req.defaults.case_id = "real-" + set.name;
    req.defaults.jurisdiction = "NL";
    std::vector<index::ItemId> ids;
    ingest::RunIngest(req, [&](const ingest::IngestEvent& e) {
      if (e.outcome == ingest::IngestEvent::Outcome::kRejected)
        warnings->push_back("bench --real: " + e.error);
      else
        ids.push_back(e.id);
    });
    const ingest::Manifest rows = ingest::ReadManifest(manifest);  // land_id: evaluation only
    auto db = index::Database::Open(folder, false);
    for (const index::ItemId id : ids) {
      const std::optional<index::ItemRecord> it = db->Get(id);
      if (!it || it->kind != args.kind) continue;  // another kind's scans are not searched here
      const auto* row = rows.Find(fs::path(it->file).filename().string());
      set.ids.push_back(id);
      set.firearm.push_back(it->firearm.truth_label);
      set.land_id.push_back(row && row->count("land_id") ? row->at("land_id") : std::string());
      set.file.push_back(it->file);
    }
    Check(!set.ids.empty(), "bench --real " + manifest + ": no " + KindName(args.kind) + " scan was stored");
    sets.push_back(std::move(set));
  }
  return sets;
}

nlohmann::json QueryRealSets(const ScaleOptions& args, const std::vector<RealSet>& sets, index::Database& db,
                             const index::SearchEngine& engine) {
  std::size_t n = 0;
  for (const RealSet& set : sets) n += set.ids.size();
  base::Progress bar(n, "real queries");
  RealStats all;
  nlohmann::json per_set = nlohmann::json::array();
  for (const RealSet& set : sets) {
    const RealStats s = QuerySet(args, set, db, engine, &bar);
    nlohmann::json j = s.Json(args.top);
    j["set"] = set.name;
    j["items"] = set.ids.size();
    per_set.push_back(j);
    all.Add(s);
    for (const auto& m : s.missed)
      if (all.missed.size() < kMissedListed) all.missed.push_back(m);
  }
  return {{"sets", per_set}, {"all", all.Json(args.top)}};
}

}  // namespace toolmark::bench
