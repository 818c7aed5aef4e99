// Results of `toolmark eval` per level: the JSON object (ARCHITECTURE.md
// contract fields) and the --report files (pairs CSV, metrics JSON, a
// self-contained HTML page with SVG plots, PNG plots drawn with OpenCV).
#pragma once

#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/metrics.h"

namespace toolmark::cli {

/// One evaluation level ("pair", "land" or "bullet") with its scored pairs.
struct EvalLevel {
  std::string level;               ///< pair | land | bullet
  std::string comparator;          ///< comparator name
  std::string dataset;             ///< dataset folder as given
  std::vector<std::string> names;  ///< item names (file or bullet id), indexed by ScoredPair::a/b
  std::vector<ScoredPair> pairs;   ///< evaluated pairs, in enumeration order
  /// Alignment per pair (parallel to pairs); empty where the level has none (bullet).
  std::vector<Comparison> alignments;
  std::size_t candidate_pairs = 0;  ///< pairs before sampling
  bool sampled = false;             ///< KNM pairs were sampled (see cmd_eval.cc)
  std::vector<std::string> notes;   ///< what the reader should know (sampling, skipped parts)
  Metrics metrics;
  /// Land level with an embedding comparator: share of known-match pairs (both
  /// directions) found among the query's 10 nearest items by embedding; NaN otherwise.
  double embedding_recall10 = std::numeric_limits<double>::quiet_NaN();
};

/// The level's JSON object: comparator, level, pairs, km_pairs, knm_pairs, auc,
/// eer, fpr_at_tpr95, fpr_at_tpr99, margin, rank1, rank10, cllr (null),
/// queries, items, candidate_pairs, sampled, notes. NaN metrics are null.
nlohmann::json LevelJson(const EvalLevel& level);

/// Writes <level>-pairs.csv, <level>-metrics.json, <level>-report.html,
/// <level>-hist.png and <level>-roc.png into dir (created if needed); returns
/// {"pairs_csv": path, "metrics_json": …, "html": …, "hist_png": …, "roc_png": …}.
/// Throws toolmark::Error naming the file that could not be written.
nlohmann::json WriteLevelReport(const EvalLevel& level, const std::string& dir);

}  // namespace toolmark::cli
