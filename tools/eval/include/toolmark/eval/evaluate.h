// Ground-truth evaluation (toolmark eval, toolmark calibrate): the levels of
// a dataset or a synthetic set, their scored pairs and metrics. The JSON
// object and the report files of a level: toolmark/eval/report.h.
#pragma once

#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/metrics.h"
#include "toolmark/engine/orientation.h"
#include "toolmark/engine/synth.h"
#include "toolmark/eval/calibration_file.h"
#include "toolmark/ingest/read_options.h"

namespace toolmark::eval {

/// A scan an evaluation could not use, and why.
struct SkippedScan {
  std::string file;
  std::string reason;  ///< one line; names the flag or truth.csv column that would fix it, where one would
};

/// One evaluation level ("pair", "land" or "bullet") with its scored pairs.
struct EvalLevel {
  std::string level;                 ///< pair | land | bullet
  std::string comparator;            ///< comparator name
  std::string score_name = "score";  ///< "score", or the detail measured instead (EvalOptions::score_detail)
  std::string dataset;               ///< dataset folder as given
  std::vector<std::string> names;    ///< item names (file or bullet id), indexed by ScoredPair::a/b
  /// Ground truth per name (its firearm), for the report's pairs CSV only
  /// (cross-validation by firearm); never read by a score.
  std::vector<std::string> firearms;
  std::vector<ScoredPair> pairs;  ///< evaluated pairs, in enumeration order
  /// Alignment per pair (parallel to pairs); empty where the level has none (bullet).
  std::vector<Comparison> alignments;
  std::size_t candidate_pairs = 0;  ///< pairs before sampling
  bool sampled = false;             ///< KNM pairs were sampled (see cmd_eval.cc)
  std::vector<std::string> notes;   ///< what the reader should know (sampling, skipped parts)
  Metrics metrics;
  /// Land level with an embedding comparator: share of known-match pairs (both
  /// directions) found among the query's 10 nearest items by embedding; NaN otherwise.
  double embedding_recall10 = std::numeric_limits<double>::quiet_NaN();
  /// The calibration that gave metrics.cllr (ApplyCalibration); none: not calibrated.
  std::optional<ChosenCalibration> calibration;
  std::vector<double>
      log10_lr;  ///< per pair (parallel to pairs) when calibrated; NaN where it does not apply
  /// Per pair: whether the level's calibration applies (bullet level: both
  /// bullets complete); empty: every pair. Where it does not, the pair has no
  /// LR and counts as LR = 1 in Cllr.
  std::vector<char> calibratable;
  /// Cllr after the best monotone calibration on these pairs themselves (PAV):
  /// the discrimination loss; NaN without KM or KNM pairs.
  double min_cllr = std::numeric_limits<double>::quiet_NaN();
  /// Scans of this level's kind that were refused (unreadable, no usable
  /// data): left out, with every pair they were in; the metrics are over the
  /// remaining pairs only.
  std::vector<SkippedScan> skipped;
  std::size_t skipped_pairs = 0, skipped_km_pairs = 0;  ///< candidate pairs lost with them (before sampling)
  /// Scans whose orientation was assumed, not settled (land levels): their
  /// profile may be mirrored relative to scans stored otherwise.
  std::vector<std::string> orientation_unsettled;
  /// Scans turned upright (stored otherwise), by file: the orientation undone.
  std::vector<std::pair<std::string, std::string>> turned;
  std::size_t weak_scans = 0;  ///< scans with quality warnings
};

/// What to evaluate and how (toolmark eval's flags; toolmark calibrate uses the same).
struct EvalOptions {
  std::string comparator;          ///< empty: cmc for cartridge cases and 2D images, land for bullet lands
  std::size_t max_pairs = 200000;  ///< per level; beyond: all KM and a seeded sample of KNM (cmd_eval.cc)
  bool embedding_recall = true;    ///< compute embedding_recall10
  /// How the dataset's land scans are stored (--orientation); none: measured
  /// per scan (a truth.csv 'orientation' column wins for its rows).
  std::optional<Orientation> orientation;
  /// Non-empty: rank and measure the pair and land levels by this detail of
  /// each comparison (e.g. the CMC's surface_ccf) instead of its score; the
  /// bullet level keeps its score. No calibration applies to it.
  std::string score_detail;
};

/// Evaluates a dataset folder (truth.csv and its scans, see datasets/README.md):
/// the levels it has, in the order pair, land, bullet. A scan that cannot be
/// read or is refused at intake is left out (each level lists those of its
/// kind; *refused, when given, gets them all). Throws toolmark::Error for an
/// unreadable truth.csv or fewer than two usable scans.
std::vector<EvalLevel> EvaluateDataset(const std::string& dataset, const EvalOptions& options,
                                       const ingest::ReadOptions& read,
                                       std::vector<SkippedScan>* refused = nullptr);

/// Evaluates the synthetic set `synth` describes, generated in memory (the
/// scans and truth `toolmark synth` would write), named `name` in the levels.
std::vector<EvalLevel> EvaluateSynthetic(const SynthOptions& synth, const EvalOptions& options,
                                         const std::string& name);

/// The calibration level of an evaluation level: "bullet" for bullet, "pair"
/// for pair and land (one scan against another).
std::string CalibrationLevelOf(const std::string& eval_level);

/// Sets level->calibration, log10_lr (per pair) and metrics.cllr from the
/// calibration, and min_cllr (PAV on the scores); without KM or KNM pairs
/// cllr stays nullopt and min_cllr NaN. calibration nullopt: only min_cllr.
/// Pairs that are not calibratable get no LR (NaN) and cost one bit each
/// (LR = 1) in Cllr; a note says how many.
void ApplyCalibration(EvalLevel* level, const std::optional<ChosenCalibration>& calibration);

}  // namespace toolmark::eval
