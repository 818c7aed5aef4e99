// toolmark hits | review | links: the review queue, decisions and the
// clusters of linked items from the command line (docs/review.md).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/index/review.h"
#include "toolmark/review/json.h"

namespace toolmark::cli {
using namespace review;  // NOLINT(build/namespaces): the command is a front end to the review library
namespace {

struct HitsArgs {
  std::string db;
  index::HitFilter filter;
  double min_score = 0;
  bool has_min_score = false, json = false;
};

std::string ItemText(const index::ItemRecord& it) {
  return it.case_id + "/" + it.item_label + " (" + it.jurisdiction + ")";
}

int RunHits(HitsArgs args) {
  if (args.has_min_score) args.filter.min_score = args.min_score;
  auto db = index::Database::Open(args.db, false);
  const auto hits = index::ReviewHits(*db, args.filter);
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& h : hits) out.push_back(HitSummaryJson(h));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%-6s %-15s %13s %-15s %-32s %-32s\n", "hit", "status", "score", "LR", "query", "candidate");
  for (const auto& h : hits)
    std::printf("%-6lld %-15s %13s %-15s %-32s %-32s\n", static_cast<long long>(h.hit.id), h.status.c_str(),
                PairScoreText(h).c_str(), LrText(h.hit.log10_lr).c_str(), ItemText(h.query).c_str(),
                ItemText(h.candidate).c_str());
  std::size_t cross = 0, both = 0;
  for (const auto& h : hits) {
    cross += h.query.jurisdiction != h.candidate.jurisdiction;
    both += h.reverse.has_value();
  }
  std::printf(
      "%zu pairs (%s)%s%s\n", hits.size(), args.filter.status.c_str(),
      both ? (", " + std::to_string(both) + " scored both ways (score: query / candidate as query)").c_str()
           : "",
      cross ? (", " + std::to_string(cross) + " cross-border").c_str() : "");
  return 0;
}

struct ReviewArgs {
  std::string db, decision, examiner, note;
  std::int64_t hit = 0;
  bool history = false, json = false;
};

int RunReview(const ReviewArgs& args) {
  auto db = index::Database::Open(args.db, false);
  Check(db->Hit(args.hit).has_value(), "hit " + std::to_string(args.hit) + ": no such hit");
  if (!args.history) {
    Check(!args.decision.empty(),
          "review: give --decision (identification, inconclusive, elimination) or --history");
    const index::DecisionRecord d = db->RecordDecision(args.hit, args.decision, args.examiner, args.note);
    if (args.json) {
      std::cout << DecisionJson(d).dump(2) << "\n";
    } else {
      std::printf("hit %lld: %s by %s at %s (decision %lld%s)\n", static_cast<long long>(d.hit),
                  d.decision.c_str(), d.examiner.c_str(), d.at.c_str(), static_cast<long long>(d.id),
                  d.supersedes ? (", supersedes " + std::to_string(*d.supersedes)).c_str() : "");
    }
    return 0;
  }
  const auto history = db->Decisions(args.hit);
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : history) out.push_back(DecisionJson(d));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& d : history)
    std::printf("%s  %-15s %-20s score %s  %s%s\n", d.at.c_str(), d.decision.c_str(), d.examiner.c_str(),
                Num(d.score).c_str(), d.note.c_str(),
                &d == &history.back() ? "  (current)" : "  (superseded)");
  if (history.empty()) std::printf("hit %lld: pending, no decision yet\n", static_cast<long long>(args.hit));
  if (index::PairStatus(history) == "conflict")  // the history is the pair's
    std::printf(
        "hit %lld: in conflict (the two directions were decided apart, differently): decide it again\n",
        static_cast<long long>(args.hit));
  return 0;
}

struct LinksArgs {
  std::string db;
  bool json = false, dot = false;
};

int RunLinks(const LinksArgs& args) {
  auto db = index::Database::Open(args.db, false);
  const auto clusters = index::LinkedClusters(*db);
  const auto items = ItemsById(*db);
  if (args.dot) {
    std::cout << index::ClustersDot(clusters, items);
    return 0;
  }
  if (args.json) {
    std::cout << ClustersJson(clusters, items).dump(2) << "\n";
    return 0;
  }
  PrintClusters(clusters, items);
  return 0;
}

}  // namespace

void PrintClusters(const std::vector<index::Cluster>& clusters,
                   const std::map<index::ItemId, index::ItemRecord>& items) {
  if (clusters.empty()) std::printf("no linked items (no identification recorded)\n");
  for (const index::Cluster& c : clusters) {
    std::string cases, jurisdictions;
    for (const auto& s : c.cases) cases += (cases.empty() ? "" : ", ") + s;
    for (const auto& s : c.jurisdictions) jurisdictions += (jurisdictions.empty() ? "" : ", ") + s;
    std::printf("cluster %d: %zu items, cases %s; jurisdictions %s\n", c.id, c.items.size(), cases.c_str(),
                jurisdictions.c_str());
    for (index::ItemId id : c.items)
      if (const auto it = items.find(id); it != items.end())
        std::printf("  item %lld  %s\n", static_cast<long long>(id), ItemText(it->second).c_str());
  }
}

void RegisterReview(CLI::App& app, Action* action) {
  {
    auto args = std::make_shared<HitsArgs>();
    CLI::App* cmd = app.add_subcommand("hits", "The review queue: recorded hits with their status");
    AddDbFlag(cmd, &args->db);
    cmd->add_option("--status", args->filter.status,
                    "pending (default), identification, inconclusive, elimination or all")
        ->check(CLI::IsMember({"pending", "identification", "inconclusive", "elimination", "all"}));
    cmd->add_option("--case", args->filter.case_id, "Only hits with an item of this case (either side)");
    cmd->add_option("--jurisdiction", args->filter.jurisdiction,
                    "Only hits with an item of this jurisdiction");
    AddKindFlag(cmd, &args->filter.kind, "cartridge_case or bullet");
    cmd->add_option("--min-score", args->min_score, "Only hits scoring at least this")
        ->each([args](const std::string&) { args->has_min_score = true; });
    cmd->add_flag("--json", args->json, "Print JSON (docs/review.md: HitSummary)");
    cmd->callback([args, action] { *action = [args] { return RunHits(*args); }; });
  }
  {
    auto args = std::make_shared<ReviewArgs>();
    CLI::App* cmd =
        app.add_subcommand("review", "Record a decision on a hit (append-only), or show its history");
    AddDbFlag(cmd, &args->db);
    cmd->add_option("hit", args->hit, "Hit id (toolmark hits)")->required();
    cmd->add_option("--decision", args->decision, "identification, inconclusive or elimination")
        ->check(CLI::IsMember({"identification", "inconclusive", "elimination"}));
    cmd->add_option("--examiner", args->examiner, "Who decides (required with --decision)");
    cmd->add_option("--note", args->note, "The examiner's note");
    cmd->add_flag("--history", args->history, "Show the hit's decisions instead");
    cmd->add_flag("--json", args->json, "Print JSON");
    cmd->callback([args, action] { *action = [args] { return RunReview(*args); }; });
  }
  {
    auto args = std::make_shared<LinksArgs>();
    CLI::App* cmd = app.add_subcommand(
        "links", "Clusters of items linked by identifications, with their cases and jurisdictions");
    AddDbFlag(cmd, &args->db);
    cmd->add_flag("--json", args->json, "Print JSON");
    cmd->add_flag("--dot", args->dot, "Print Graphviz (dot)");
    cmd->callback([args, action] { *action = [args] { return RunLinks(*args); }; });
  }
}

}  // namespace toolmark::cli
