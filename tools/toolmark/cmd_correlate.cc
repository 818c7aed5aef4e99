// toolmark correlate: batch correlation of new (or named) items against the
// database; the hit lists are recorded in the database. Resumable: run it
// again after an interruption. See docs/search.md.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli_common.h"
#include "search_flags.h"
#include "toolmark/engine/check.h"
#include "toolmark/index/review.h"
#include "toolmark/index/search.h"

namespace toolmark::cli {
namespace {

struct CorrelateArgs {
  std::string db;
  std::optional<Kind> kind;  ///< none: all
  std::vector<index::ItemId> items;
  std::string batch, since, shard;
  std::size_t limit = 0;
  SearchFlags flags;
  bool json = false;
};

/// The kinds of the database's items (only `only`, when given), by name:
/// bullets first, then cartridge cases.
std::vector<Kind> KindsToCorrelate(index::Database& db, std::optional<Kind> only) {
  std::set<Kind> present;
  for (const index::ItemRecord& it : db.List())
    if (!only || it.kind == *only) present.insert(it.kind);
  std::vector<Kind> kinds(present.begin(), present.end());
  std::sort(kinds.begin(), kinds.end(),
            [](Kind a, Kind b) { return std::string_view(KindName(a)) < KindName(b); });
  return kinds;
}

/// The run's totals, and the pairs now waiting for review (a pair found
/// from both sides is one review: docs/review.md).
void PrintSummary(const index::CorrelateSummary& total, index::Database& db, const std::string& folder) {
  std::printf(
      "correlated %zu items (%zu hits recorded); %zu already correlated; %zu left for a later run; %zu could "
      "not be searched\n",
      total.correlated, total.hits, total.already, total.remaining, total.failed);
  std::printf("review queue: %zu pairs pending (toolmark hits --db %s)\n",
              index::ReviewHits(db, index::HitFilter{}).size(), folder.c_str());
}

int RunCorrelate(CorrelateArgs args) {
  args.flags.Read();
  Check(index::Database::Exists(args.db),
        args.db + ": no Toolmark database here (toolmark ingest creates one)");
  auto db = index::Database::Open(args.db, false);
  const std::vector<Kind> kinds = KindsToCorrelate(*db, args.kind);
  index::CorrelateSelection selection;
  selection.items = args.items;
  selection.case_id = args.batch;
  selection.since = args.since;
  selection.limit = args.limit;
  if (!args.shard.empty()) selection.shard = index::ParseShard(args.shard);

  nlohmann::json out = nlohmann::json::array();
  index::CorrelateSummary total;
  if (args.flags.calibration_file) {
    bool used = false;
    for (const Kind kind : kinds)
      used |= index::ComparatorForKind(kind) == args.flags.calibration_file->comparator;
    Check(used, args.flags.calibration + ": calibration is for comparator " +
                    args.flags.calibration_file->comparator + ", which none of the items correlated uses");
  }
  for (const Kind item_kind : kinds) {
    const std::string kind = KindName(item_kind);
    const index::SearchOptions options = args.flags.Options(item_kind, false);
    std::vector<std::string> warnings;
    std::unique_ptr<Progress> bar;
    const index::CorrelateSummary s = index::Correlate(
        *db, item_kind, options, selection, &warnings, [&](const index::CorrelateStep& step) {
          if (!bar) bar = std::make_unique<Progress>(step.total, "correlating " + kind + "s");
          bar->Tick("item " + std::to_string(step.query));
          const auto item = db->Get(step.query);
          if (step.failed) {
            if (args.json)
              out.push_back({{"query", step.query},
                             {"file", item ? item->file : ""},
                             {"kind", kind},
                             {"hits", nlohmann::json::array()},
                             {"error", "not correlated (see the warning on stderr)"}});
            else
              std::printf("item %lld %s: NOT correlated (see the warning)\n",
                          static_cast<long long>(step.query), item ? item->file.c_str() : "");
            return;
          }
          if (args.json) {
            nlohmann::json hits = nlohmann::json::array();
            for (const index::SearchHit& h : step.hits) hits.push_back(SearchHitJson(h));
            out.push_back(
                {{"query", step.query}, {"file", item ? item->file : ""}, {"kind", kind}, {"hits", hits}});
            return;
          }
          std::string best = "no candidates";
          if (!step.hits.empty()) {
            const index::SearchHit& h = step.hits.front();
            best = "best: item " + std::to_string(h.item) + " " + h.file + " (case " + h.case_id + ", " +
                   h.jurisdiction + ") score " + Num(h.score);
          }
          if (bar) bar.reset();  // the line below replaces the progress line
          std::printf("item %lld %s: %zu hits; %s\n", static_cast<long long>(step.query),
                      item ? item->file.c_str() : "", step.hits.size(), best.c_str());
        });
    for (const std::string& w : warnings) std::fprintf(stderr, "toolmark: warning: %s\n", OneLine(w).c_str());
    total.selected += s.selected;
    total.already += s.already;
    total.correlated += s.correlated;
    total.hits += s.hits;
    total.remaining += s.remaining;
    total.failed += s.failed;
  }
  if (args.json) {
    std::cout << out.dump(2) << "\n";
    return total.failed ? 1 : 0;
  }
  PrintSummary(total, *db, args.db);
  return total.failed ? 1 : 0;
}

}  // namespace

int CorrelateDatabase(const std::string& db, std::size_t top) {
  CorrelateArgs args;
  args.db = db;
  args.flags.top = top;
  return RunCorrelate(args);
}

void RegisterCorrelate(CLI::App& app, Action* action) {
  auto args = std::make_shared<CorrelateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "correlate",
      "Batch correlation: search every new (or named) item against the database and record its hits");
  AddDbFlag(cmd, &args->db);
  AddKindFlag(cmd, &args->kind, "all, cartridge_case or bullet", {"all"});
  cmd->add_option("--items", args->items, "Only these item ids (comma-separated)")->delimiter(',');
  cmd->add_option("--batch", args->batch, "Only the items of this case");
  cmd->add_option("--since", args->since, "Only items ingested at or after this UTC time (e.g. 2026-11-29)");
  cmd->add_option("--limit", args->limit, "At most this many items in this run (the rest stay for the next)");
  cmd->add_option("--shard", args->shard,
                  "i/N: only the items whose id modulo N is i (task i of a cluster array job: "
                  "scripts/slurm-correlate.sh); run toolmark extract first");
  args->flags.Add(cmd, "Hits recorded per item");
  cmd->add_flag("--json", args->json, "Print JSON: one entry per query with its hits");
  cmd->callback([args, action] { *action = [args] { return RunCorrelate(*args); }; });
}

namespace {

struct ExtractArgs {
  std::string db, shard;
  std::optional<Kind> kind;
  bool json = false;
};

/// toolmark extract: the features every search stage needs, made for the
/// items that lack this version's (after ingest, or after an upgrade of a
/// comparator); all at once with the vector index, or one shard's without it.
int RunExtract(const ExtractArgs& args) {
  Check(index::Database::Exists(args.db),
        args.db + ": no Toolmark database here (toolmark ingest creates one)");
  auto db = index::Database::Open(args.db, false);
  const std::optional<index::Shard> shard =
      args.shard.empty() ? std::nullopt : std::optional<index::Shard>(index::ParseShard(args.shard));
  nlohmann::json out = nlohmann::json::array();
  for (const Kind kind : KindsToCorrelate(*db, args.kind)) {
    SearchFlags flags;
    index::SearchEngine engine(*db, kind, flags.Options(kind, false));
    std::vector<std::string> warnings;
    std::size_t extracted = 0, indexed = 0;
    if (shard) {
      extracted = engine.Extract(*shard, &warnings);
    } else {
      extracted = engine.Update(
          &warnings);  // the missing features, then the vector index built or brought up to date
      indexed = engine.indexed();
    }
    for (const std::string& w : warnings) std::fprintf(stderr, "toolmark: warning: %s\n", OneLine(w).c_str());
    out.push_back({{"kind", KindName(kind)},
                   {"comparator", engine.comparator()},
                   {"extracted", extracted},
                   {"shard", args.shard.empty() ? nlohmann::json(nullptr) : nlohmann::json(args.shard)},
                   {"indexed", shard ? nlohmann::json(nullptr) : nlohmann::json(indexed)}});
    if (!args.json) {
      std::printf("%s (%s): %zu items extracted%s", KindName(kind), engine.comparator().c_str(), extracted,
                  shard ? (" in shard " + args.shard).c_str() : "");
      if (shard)
        std::printf("\n");
      else
        std::printf("; vector index of %zu items at %s\n", indexed, engine.IndexPath().c_str());
    }
  }
  if (args.json) std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

void RegisterExtract(CLI::App& app, Action* action) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* cmd =
      app.add_subcommand("extract",
                         "Make the search features of items that lack this version's (after ingest or an "
                         "upgrade), and the vector "
                         "index; or, with --shard, one cluster task's share of the features alone");
  AddDbFlag(cmd, &args->db);
  AddKindFlag(cmd, &args->kind, "all, cartridge_case or bullet", {"all"});
  cmd->add_option("--shard", args->shard,
                  "i/N: only the items whose id modulo N is i, and no index (then one toolmark extract "
                  "without --shard builds it: scripts/slurm-correlate.sh)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args, action] { *action = [args] { return RunExtract(*args); }; });
}

}  // namespace toolmark::cli
