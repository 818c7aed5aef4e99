// Known-match and known-non-match score sets for calibration (toolmark
// calibrate): from evaluation levels, or from a CSV of scores, and how well a
// calibration fits them.
#pragma once

#include <string>
#include <vector>

#include "toolmark/engine/calibration.h"
#include "toolmark/eval/evaluate.h"

namespace toolmark::eval {

/// KM and KNM scores of one set (a dataset or one synthetic difficulty).
struct ScoreSet {
  std::string name;
  std::vector<double> km, knm;
  std::size_t without_score = 0;  ///< NaN scores left out
};

/// Scores from a CSV with `score` and `known_match` (1/0, true/false)
/// columns (toolmark eval --report's <level>-pairs.csv, or WriteScores'
/// file); empty or NaN scores are counted in without_score. The file is
/// hostile: bounded (256 MiB), every field checked; throws toolmark::Error
/// naming the file and line.
ScoreSet ReadScores(const std::string& path);

/// Writes score sets as CSV (score,known_match,set), atomically.
void WriteScores(const std::vector<ScoreSet>& sets, const std::string& path);

/// The scores of the evaluation level that calibration level `level`
/// ("pair" or "bullet") of `comparator` reads; pairs that are not
/// calibratable (incomplete bullets) are left out. Throws when there is none.
ScoreSet TakeScores(const std::vector<EvalLevel>& levels, const std::string& comparator,
                    const std::string& level, const std::string& name);

/// Cllr, min Cllr and AUC of a calibration on score sets (pooled when several).
struct CalibrationQuality {
  std::size_t km = 0, knm = 0;
  double cllr = 0, min_cllr = 0, auc = 0;
};
CalibrationQuality Measure(const Calibration& c, const std::vector<const ScoreSet*>& sets);

}  // namespace toolmark::eval
