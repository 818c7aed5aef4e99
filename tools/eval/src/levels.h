// Private to the eval library: prepared scans, the evaluation context and
// the levels (pair, land, bullet).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pairs.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/eval/evaluate.h"

namespace toolmark::eval::detail {

/// A prepared scan (the surface itself is not kept).
using Prepared = std::shared_ptr<const PreparedMark>;

/// Loads scan i: its surface, and its name for messages (a file path).
using LoadScan = std::function<Surface(std::size_t i, std::string* name)>;

/// Loads and prepares n scans in parallel. A scan that fails is left out:
/// its prepared mark stays null and (*errors)[i] says why ("<path>: <reason>").
std::vector<Prepared> PrepareAll(std::size_t n, const LoadScan& load,
                                 const std::vector<const Comparator*>& comparators, const std::string& label,
                                 std::vector<std::string>* errors);

/// As PrepareAll, where every scan must succeed: the first failure (in scan
/// order) is a hard error naming the scan (synthetic sets, made in memory).
std::vector<Prepared> PrepareEvery(std::size_t n, const LoadScan& load,
                                   const std::vector<const Comparator*>& comparators,
                                   const std::string& label);

/// Compares the pairs (global scan indices) in parallel, results by index.
std::vector<Comparison> CompareAll(const std::vector<std::pair<int, int>>& pairs,
                                   const std::vector<Prepared>& prepared, const Comparator& comparator,
                                   const std::string& label);

/// Fills a level's pairs and metrics from a selection and per-pair comparisons.
/// score_detail non-empty: each pair's score is that detail of its comparison
/// (EvalOptions::score_detail).
void FillLevel(EvalLevel* lv, const Selection& sel, std::vector<Comparison> alignments, std::size_t max_pairs,
               const std::string& score_detail = "");

/// Evaluation context shared by the levels.
struct Context {
  const EvalOptions* options = nullptr;
  std::string dataset;  ///< the set's name in the levels
  std::vector<Entry> entries;
  std::vector<Prepared> prepared;
};

EvalLevel NewLevel(const Context& ctx, const std::string& level, const std::string& comparator);

/// Share of KM pairs (both directions) whose partner is among the query's 10
/// nearest scans by embedding (dot product; ties by index); NaN without embeddings.
double EmbeddingRecall10(const Context& ctx, const std::vector<int>& ids, const Comparator& comparator,
                         const std::function<bool(int, int)>& match);

/// "pair" level over the scans `ids` (global indices): same mark, KM = same firearm.
EvalLevel PairLevel(const Context& ctx, const std::vector<int>& ids, const Comparator& comparator);

/// "land" (when land_id exists) and "bullet" levels over the land scans `ids`.
std::vector<EvalLevel> BulletLevels(const Context& ctx, const std::vector<int>& ids,
                                    const Comparator& comparator, bool has_land_id, bool has_bullet);

/// The levels of a prepared set: "pair" over the areal scans, "land" and
/// "bullet" over the bullet lands.
std::vector<EvalLevel> RunLevels(const Context& ctx, const Comparator& areal_cmp, const Comparator& land_cmp,
                                 bool has_land_id, bool has_bullet);

}  // namespace toolmark::eval::detail
