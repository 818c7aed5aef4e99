// Results of an evaluation level as the ARCHITECTURE.md contract's JSON
// object and as --report files (pairs CSV, metrics JSON, a self-contained
// HTML page with SVG plots, PNG plots drawn with OpenCV).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "toolmark/eval/evaluate.h"

namespace toolmark::eval {

/// The level's JSON object: comparator, level, pairs, km_pairs, knm_pairs, auc,
/// eer, fpr_at_tpr95, fpr_at_tpr99, margin, rank1, rank10, cllr (null when
/// not calibrated), min_cllr, calibration (its set, source, …; null when not
/// calibrated), queries, items, candidate_pairs, sampled, notes, skipped_files
/// ({file, reason}), skipped_pairs, skipped_km_pairs, orientation_unsettled,
/// turned_upright ({file, stored_as}), weak_scans. NaN metrics are null.
nlohmann::json LevelJson(const EvalLevel& level);

/// Writes <level>-pairs.csv, <level>-metrics.json, <level>-report.html,
/// <level>-hist.png and <level>-roc.png into dir (created if needed); returns
/// {"pairs_csv": path, "metrics_json": …, "html": …, "hist_png": …, "roc_png": …}.
/// Throws toolmark::Error naming the file that could not be written.
nlohmann::json WriteLevelReport(const EvalLevel& level, const std::string& dir);

}  // namespace toolmark::eval
