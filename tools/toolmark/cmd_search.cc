// toolmark search FILE|ID: the ranked candidates for one item, from the
// database, without ingesting it (two-stage: vector-index shortlist, then the
// fine comparator). See docs/search.md.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"
#include "search_flags.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/version.h"
#include "toolmark/exchange/federation.h"
#include "toolmark/index/search.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::cli {
namespace {

struct SearchArgs {
  std::string query;
  std::string db;
  std::optional<Kind> kind;  ///< none: auto
  SearchFlags flags;
  bool json = false, land_level = false;
  ReadFlags read;
  std::vector<std::string> partners;  ///< partner servers' base URLs (federated search)
  double partner_timeout_s = 10;
};

/// An item id: digits only, and an item with that id exists.
std::optional<index::ItemRecord> AsItem(index::Database& db, const std::string& query) {
  if (query.empty() || query.find_first_not_of("0123456789") != std::string::npos || query.size() > 18)
    return std::nullopt;
  return db.Get(std::stoll(query));
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::fprintf(stderr, "toolmark: warning: %s\n", OneLine(w).c_str());
}

/// A bullet search's query lands, and the stored bullet its hits leave out.
struct BulletQuery {
  std::vector<index::BulletLandQuery> lands;
  std::vector<std::string> warnings;       ///< the query scans' quality warnings
  std::string exclude_case, exclude_item;  ///< the query's own bullet, when it is stored
  std::string label;
};

/// A stored land item's whole bullet: its case's lands with its item label, placed by their "landN" marks.
BulletQuery StoredBulletQuery(index::Database& db, const index::ItemRecord& item) {
  BulletQuery q;
  q.exclude_case = item.case_id;
  q.exclude_item = item.item_label;
  q.label = "bullet " + item.item_label + " of case " + item.case_id;
  int k = 0;
  for (const index::ItemRecord& it : db.List()) {
    if (it.kind != Kind::kBullet || it.case_id != q.exclude_case || it.item_label != q.exclude_item) continue;
    int position = k++;
    for (const Mark& m : it.marks)
      if (m.type == MarkType::kLand && m.land > 0) position = m.land - 1;
    q.lands.push_back({position, db.LoadSurface(it.id)});
  }
  return q;
}

/// A folder of land scans, placed by the numbers in their file names (else in name order).
BulletQuery FolderBulletQuery(const SearchArgs& args) {
  BulletQuery q;
  q.label = args.query;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(args.query))
    if (e.is_regular_file() && ingest::IsScanFileName(e.path().string())) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  Check(!files.empty(), args.query + ": no scan files in this folder");
  std::vector<int> positions = LandPositionsFromNames(files);
  if (positions.size() != files.size()) {
    positions.clear();
    for (std::size_t i = 0; i < files.size(); ++i) positions.push_back(static_cast<int>(i));
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    ingest::Intake in = TakeInFile(files[i], Kind::kBullet, args.read);
    for (const auto& f : in.quality.findings)
      if (f.severity == ingest::Severity::kWarning)
        q.warnings.push_back(std::filesystem::path(files[i]).filename().string() + ": " + f.message);
    q.lands.push_back({positions[i], std::move(in.surface)});
  }
  return q;
}

/// The bullet hits as JSON, in a one-element array of hit lists.
void PrintBulletHitsJson(const SearchArgs& args, const index::SearchEngine& engine, const BulletQuery& query,
                         const std::vector<std::string>& warnings,
                         const std::vector<index::BulletHit>& hits) {
  nlohmann::json list = nlohmann::json::array();
  for (const index::BulletHit& h : hits)
    list.push_back(
        {{"item", h.item_label},
         {"lands", h.lands},
         {"score", h.score},
         {"log10_lr", h.log10_lr ? nlohmann::json(*h.log10_lr) : nlohmann::json(nullptr)},
         {"calibration", h.calibration.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.calibration)},
         {"rank", h.rank},
         {"case", h.case_id},
         {"jurisdiction", h.jurisdiction},
         {"score_kind", h.features_only ? "screen" : "full"},
         {"phase", h.features_only ? nlohmann::json(nullptr) : nlohmann::json(h.phase)},
         {"phase_gap", h.features_only ? nlohmann::json(nullptr) : nlohmann::json(h.phase_gap)},
         {"screen_score", h.screen_score ? nlohmann::json(*h.screen_score) : nlohmann::json(nullptr)},
         {"land_scores", h.land_scores}});
  std::cout << nlohmann::json::array({{{"query", args.query},
                                       {"kind", "bullet"},
                                       {"comparator", engine.comparator()},
                                       {"level", "bullet"},
                                       {"query_lands", query.lands.size()},
                                       {"indexed", engine.indexed()},
                                       {"warnings", warnings},
                                       {"query_warnings", query.warnings},
                                       {"version", Version()},
                                       {"hits", list}}})
                   .dump(2)
            << "\n";
}

/// The bullet hits as text, one line each.
void PrintBulletHitsText(const SearchArgs& args, const index::SearchEngine& engine, const BulletQuery& query,
                         const std::vector<index::BulletHit>& hits) {
  std::printf(
      "search: %s (%zu lands, comparator land, bullet level): %zu lands indexed, shortlist %zu per land\n",
      query.label.c_str(), query.lands.size(), engine.indexed(), args.flags.shortlist);
  for (const std::string& w : query.warnings) std::printf("query warning: %s\n", w.c_str());
  if (hits.empty()) std::printf("no candidates\n");
  for (const index::BulletHit& h : hits)
    if (h.features_only)
      std::printf(
          "%4d  bullet %-20s  case %-14s  %-12s  screening score %.3f  (%zu lands, shared without scans: "
          "not compared whole)\n",
          h.rank, h.item_label.c_str(), h.case_id.c_str(), h.jurisdiction.c_str(), h.score, h.lands.size());
    else
      std::printf("%4d  bullet %-20s  case %-14s  %-12s  score %.3f  phase %d  gap %.3f  (%zu lands)\n",
                  h.rank, h.item_label.c_str(), h.case_id.c_str(), h.jurisdiction.c_str(), h.score, h.phase,
                  h.phase_gap, h.lands.size());
  std::printf("likelihood ratios: not calibrated\n");
}

/// A bullet: a folder of land scans (positions from the file names), or a
/// stored land item's whole bullet (same case and item label).
int RunBulletSearch(const SearchArgs& args, index::Database& db) {
  const auto item = AsItem(db, args.query);
  const BulletQuery query = item ? StoredBulletQuery(db, *item) : FolderBulletQuery(args);
  index::SearchEngine engine(db, Kind::kBullet, args.flags.Options(Kind::kBullet, true));
  std::vector<std::string> warnings;
  engine.Update(&warnings);
  PrintWarnings(warnings);
  const std::vector<index::BulletHit> hits =
      engine.SearchBullet(query.lands, query.exclude_case, query.exclude_item);
  if (args.json)
    PrintBulletHitsJson(args, engine, query, warnings, hits);
  else
    PrintBulletHitsText(args, engine, query, hits);
  return 0;
}

/// A search's query: a stored item, or a scan file taken in now; its quality as JSON.
struct ItemQuery {
  index::SearchQuery search;
  nlohmann::json quality;  ///< of a file query (stored items carry their own)
};

/// The query for `args.query`, checked against --kind.
ItemQuery ReadQuery(const SearchArgs& args, index::Database& db) {
  ItemQuery query;
  index::SearchQuery& q = query.search;
  q.label = args.query;
  if (const auto item = AsItem(db, args.query)) {
    q.surface = db.LoadSurface(item->id);
    query.quality = ItemQuality(*item);
    q.kind = item->kind;
    q.class_marks = item->class_marks;
    q.exclude = item->id;
    q.label = "item " + args.query + " (" + item->file + ")";
  } else {
    ingest::Intake in = TakeInFile(args.query, args.kind, args.read);
    q.surface = std::move(in.surface);
    q.kind = in.quality.kind;
    query.quality = ingest::QualityJson(in.quality);
  }
  if (args.kind)
    Check(q.kind == *args.kind,
          args.query + ": the item is a " + KindName(q.kind) + ", not a " + KindName(*args.kind));
  return query;
}

/// Brings the engine's index up to date, with a progress bar while new items are embedded.
std::vector<std::string> UpdateIndex(index::SearchEngine& engine) {
  std::vector<std::string> warnings;
  std::unique_ptr<Progress> bar;
  std::size_t shown = 0;
  engine.Update(&warnings, [&](const std::string& stage, std::size_t done, std::size_t total) {
    if (stage != "embeddings") return;
    if (!bar) bar = std::make_unique<Progress>(total, "embedding new items");
    for (; shown < done; ++shown) bar->Tick("");
  });
  return warnings;
}

/// Adds the partners' answers and their hits, best first, to a search's JSON.
void AddPartnersJson(const std::vector<exchange::PartnerAnswer>& answers, nlohmann::json* out) {
  nlohmann::json partners = nlohmann::json::array(), federated = nlohmann::json::array();
  bool partial = false;
  for (const exchange::PartnerAnswer& a : answers) {
    partners.push_back({{"url", a.url},
                        {"status", a.status},
                        {"message", a.message},
                        {"jurisdiction", a.jurisdiction},
                        {"seconds", a.seconds},
                        {"hits", a.hits.size()}});
    partial |= a.status != "ok";
    for (const auto& h : a.hits) federated.push_back(h);
  }
  std::stable_sort(federated.begin(), federated.end(), [](const nlohmann::json& x, const nlohmann::json& y) {
    return x.value("score", 0.0) > y.value("score", 0.0);
  });
  (*out)["partners"] = partners;
  (*out)["federated_hits"] = federated;
  (*out)["partial"] = partial;
}

/// What a search found: its own hits and the partners' answers.
struct SearchResult {
  std::vector<std::string> warnings;  ///< from bringing the index up to date
  std::vector<index::SearchHit> hits;
  std::vector<exchange::PartnerAnswer> answers;
};

/// The search as JSON, in a one-element array of hit lists.
void PrintSearchJson(const SearchArgs& args, const index::SearchEngine& engine, const ItemQuery& query,
                     const SearchResult& result) {
  const Kind kind = query.search.kind;
  nlohmann::json hit_list = nlohmann::json::array();
  for (const index::SearchHit& h : result.hits) hit_list.push_back(SearchHitJson(h));
  nlohmann::json out = nlohmann::json::array({{{"query", args.query},
                                               {"kind", KindName(kind)},
                                               {"comparator", engine.comparator()},
                                               {"indexed", engine.indexed()},
                                               {"shortlist", args.flags.shortlist},
                                               {"shortlist_depth", args.flags.shortlist_depth},
                                               {"screened", args.flags.screened},
                                               {"fine", args.flags.fine},
                                               {"calibration", args.flags.CalibrationJson(kind)},
                                               {"warnings", result.warnings},
                                               {"query_quality", query.quality},
                                               {"version", Version()},
                                               {"hits", hit_list}}});
  if (!args.partners.empty()) AddPartnersJson(result.answers, &out[0]);
  std::cout << out.dump(2) << "\n";
}

/// The hits' log10 LRs on one line, or why there are none.
void PrintLikelihoodRatios(const std::vector<index::SearchHit>& hits) {
  if (hits.front().log10_lr)
    std::printf("log10 likelihood ratios (%s): %s\n", hits.front().calibration.c_str(),
                [&] {
                  std::string s;
                  for (const index::SearchHit& h : hits) s += (s.empty() ? "" : ", ") + Num(*h.log10_lr);
                  return s;
                }()
                    .c_str());
  else
    std::printf(
        "likelihood ratios: not calibrated (cartridge cases: a lab's own calibration, "
        "docs/calibration.md)\n");
}

/// Each partner's candidates, or why it has none.
void PrintPartnerAnswers(const std::vector<exchange::PartnerAnswer>& answers) {
  for (const exchange::PartnerAnswer& a : answers) {
    if (a.status != "ok") {
      std::printf("partner %s: %s (%s) — results are partial\n", a.url.c_str(), a.status.c_str(),
                  a.message.c_str());
      continue;
    }
    std::printf("partner %s (%s): %zu candidates (cross-border; quick scores, from features only)\n",
                a.url.c_str(), a.jurisdiction.c_str(), a.hits.size());
    for (const auto& h : a.hits)
      std::printf("%4d  %6lld  %8s  %-14s  %-12s  %s\n", h.value("rank", 0), h.value("item", 0LL),
                  Num(h.value("score", 0.0)).c_str(), h.value("case", std::string()).c_str(),
                  h.value("jurisdiction", std::string()).c_str(), h.value("label", std::string()).c_str());
  }
}

/// The search as text: the query and its quality, a table of hits, their LRs, the partners' candidates.
void PrintSearchText(const SearchArgs& args, const index::SearchEngine& engine, const ItemQuery& query,
                     const SearchResult& result) {
  const index::SearchQuery& q = query.search;
  const nlohmann::json& query_quality = query.quality;
  const std::vector<index::SearchHit>& hits = result.hits;
  std::printf("search: %s (%s, comparator %s): %zu items indexed, shortlist %zu\n", q.label.c_str(),
              KindName(q.kind), engine.comparator().c_str(), engine.indexed(), args.flags.shortlist);
  std::printf("query quality: %s\n", QualityRemark(query_quality).c_str());
  if (query_quality.is_object())
    for (const auto& f : query_quality["findings"])
      if (f["severity"] == "warning") std::printf("  warning: %s\n", f["message"].get<std::string>().c_str());
  if (hits.empty()) {
    std::printf("no candidates\n");
    return;
  }
  std::printf("%4s  %6s  %8s  %10s  %-14s  %-12s  %s\n", "rank", "item", "score", "similarity", "case",
              "jurisdiction", "file (quality)");
  for (const index::SearchHit& h : hits) {
    const nlohmann::json hj = SearchHitJson(h);
    const std::string quality = hj["quality"].get<std::string>();
    std::printf("%4d  %6lld  %8s  %10.3f  %-14s  %-12s  %s%s\n", h.rank, static_cast<long long>(h.item),
                Num(h.score).c_str(), static_cast<double>(h.similarity), h.case_id.c_str(),
                h.jurisdiction.c_str(), h.file.c_str(),
                quality == "good" ? "" : (" (" + quality + ")").c_str());
  }
  PrintLikelihoodRatios(hits);
  PrintPartnerAnswers(result.answers);
}

int RunSearch(SearchArgs args) {
  args.flags.Read();
  Check(index::Database::Exists(args.db),
        args.db + ": no Toolmark database here (toolmark ingest creates one)");
  auto db = index::Database::Open(args.db, false);
  const auto stored = AsItem(*db, args.query);
  if ((stored && stored->kind == Kind::kBullet && !args.land_level) ||
      std::filesystem::is_directory(args.query))
    return RunBulletSearch(args, *db);
  const ItemQuery query = ReadQuery(args, *db);
  const index::SearchQuery& q = query.search;

  index::SearchEngine engine(*db, q.kind, args.flags.Options(q.kind, true));
  SearchResult result;
  result.warnings = UpdateIndex(engine);
  PrintWarnings(result.warnings);
  result.hits = engine.Search(q);
  if (!args.partners.empty())
    result.answers = exchange::AskPartners(*db, q, {args.partners, args.partner_timeout_s, args.flags.top});

  if (args.json)
    PrintSearchJson(args, engine, query, result);
  else
    PrintSearchText(args, engine, query, result);
  return 0;
}

}  // namespace

void RegisterSearch(CLI::App& app, Action* action) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd =
      app.add_subcommand("search", "Ranked candidates for one scan file or stored item (not ingested)");
  cmd->add_option(
         "query", args->query,
         "Scan file, folder of one bullet's land scans, or the id of an item in the database (a bullet "
         "land's id searches its whole bullet)")
      ->required();
  cmd->add_flag("--land", args->land_level,
                "For a stored bullet land: search that land alone, not its bullet");
  AddDbFlag(cmd, &args->db);
  AddKindFlag(cmd, &args->kind, "auto, cartridge_case or bullet (a land scan)", {"auto"});
  args->flags.Add(cmd, "Hits to list");
  cmd->add_flag("--json", args->json, "Print JSON (ARCHITECTURE.md fields)");
  args->read.Add(cmd);
  cmd->add_option(
         "--partners", args->partners,
         "Also ask these partners (comma-separated): jurisdictions with a recorded endpoint (keys trust "
         "--url), or base URLs (https://HOST:PORT; http:// for loopback only). Sends the query's "
         "embedding and quick features only, signed with this database's key (toolmark keys)")
      ->delimiter(',');
  cmd->add_option("--partner-timeout", args->partner_timeout_s, "Seconds to wait for a partner (default 10)")
      ->check(CLI::Range(0.1, 600.0));
  cmd->callback([args, action] { *action = [args] { return RunSearch(*args); }; });
}

}  // namespace toolmark::cli
