// toolmark bench: a synthetic database of a given size, and what searching it
// costs (the bench library, toolmark/bench/scale.h; docs/search.md).
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "toolmark/bench/scale.h"
#include "toolmark/engine/check.h"

namespace toolmark::cli {
namespace {

struct BenchArgs : bench::ScaleOptions {
  bool json = false;
};

int RunBench(const BenchArgs& args) {
  std::vector<std::string> warnings;
  const nlohmann::json out = bench::RunScale(args, &warnings);
  for (const std::string& w : warnings) std::fprintf(stderr, "toolmark: warning: %s\n", OneLine(w).c_str());
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
  cmd->add_option_function<std::string>(
         "--kind", [args](const std::string& v) { args->kind = KindOf(v); },
         "cartridge_case, or bullet (items are bullets of --lands land scans; bullet-level search)")
      ->check(CLI::IsMember({KindName(Kind::kCartridgeCase), KindName(Kind::kBullet)}));
  cmd->add_option("--lands", args->lands, "Bullets: lands of each bullet")->check(CLI::Range(3, 16));
  cmd->add_option("--per-firearm", args->per_firearm, "Items per firearm")->check(CLI::Range(1, 100));
  cmd->add_option("--size", args->size,
                  "Points a side of each synthetic scan (bullets: along the land; default 128, bullets the "
                  "generator's)")
      ->check(CLI::Range(32, 4096));
  cmd->add_option("--seed", args->seed, "Seed of the synthetic data");
  cmd->add_option("--queries", args->queries, "Queries timed")->check(CLI::Range(1, 100000));
  cmd->add_option("--recall-queries", args->recall_queries,
                  "Queries also compared exhaustively with the whole database (shortlist recall)");
  cmd->add_option("--shortlist", args->shortlist, "Shortlist length")->check(CLI::Range(1, 100000));
  cmd->add_option(
         "--shortlist-depth", args->shortlist_depth,
         "Candidates the screening score orders (the index's most similar; bullets: each land's, in a bullet "
         "search and in a real land's search)")
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--screened", args->screened,
                  "How many of those the screening score adds to the shortlist (0: none)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--top", args->top, "Hits of each two-stage search")->check(CLI::Range(1, 100000));
  cmd->add_option("--fine", args->fine,
                  "Candidates compared finely after re-ranking by the quick score (0: every shortlisted one)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--index", args->index_kind, "Vector index: auto, flat, hnsw, ivf, sketch")
      ->check(CLI::IsMember({"auto", "flat", "hnsw", "ivf", "sketch"}));
  cmd->add_option("--ivf-dims", args->ivf_dims, "IVF: PCA dimensions (vector level)")
      ->check(CLI::Range(2, 4096));
  cmd->add_option("--ivf-probe", args->ivf_probe, "IVF: lists visited per search (vector level)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--ivf-min-train", args->ivf_min_train,
                  "IVF: vectors it is trained on when first built (vector level; the index is flat below)")
      ->check(CLI::Range(39, 100000000));
  cmd->add_option("--sketch-bits", args->sketch_bits, "Sketch: bits a vector (a multiple of 64)")
      ->check(CLI::Range(64, 4096))
      ->check(CLI::Validator(
          [](std::string& v) { return std::stoi(v) % 64 == 0 ? std::string() : "must be a multiple of 64"; },
          "MULTIPLE OF 64"));
  cmd->add_option("--sketch-rerank", args->sketch_rerank,
                  "Sketch: nearest sketches re-ranked exactly (at least 8 times the results asked for)")
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--vectors", args->vectors,
                  "Also benchmark the vector index alone at this many vectors (embeddings + distractors)");
  cmd->add_option("--db", args->db, "Build the database here (default: a temporary folder)");
  cmd->add_flag("--keep", args->keep, "Keep the database afterwards");
  cmd->add_flag(
      "--reuse", args->reuse,
      "If --db exists, search it instead of building it (a database an earlier bench built with the same "
      "--items, --per-firearm, --size and --seed; ingest is then not measured, and it is kept)");
  cmd->add_option("--real", args->real,
                  "A manifest of real scans (repeatable) to ingest into the bench database and search among "
                  "the synthetic items, as stored items with the shortlist path forced; its firearm column "
                  "gives the partners for the measures only")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", args->json, "Print JSON (ARCHITECTURE.md fields)");
  cmd->callback([args, action] { *action = [args] { return RunBench(*args); }; });
}

}  // namespace toolmark::cli
