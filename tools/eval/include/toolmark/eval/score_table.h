// Calibration on any laboratory's table of comparison scores (toolmark
// calibrate --scores FILE --score-column C …): a CSV with a score column, a
// same-source column (1/0), optionally the number of trials behind a count
// score (k of n: a k-of-n likelihood ratio, toolmark/engine/kofn.h) and a
// split column (t: fit, v: test, anything else: not used). Fits on the
// training rows and reports the test rows' figures.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "toolmark/engine/calibration.h"
#include "toolmark/engine/kofn.h"

namespace toolmark::eval {

struct ScoreTableColumns {
  std::string score;  ///< required (with features: the first of them)
  /// optional: several score columns (the first is `score`), for a combined
  /// model (ScoreModel::kCombined); a row lacking any of them has no score
  std::vector<std::string> features;
  std::string same_source = "hypothesis";  ///< 1/0, true/false
  std::string trials;                      ///< optional: n of a count score k
  std::string split;                       ///< optional: t (fit) / v (test) / other (unused)
  /// optional, instead of a split: the two sources' groups (firearms) for
  /// cross-validation by group (CalibrateTable's folds)
  std::string group_a, group_b;
  /// optional: the test figures are also given per value of this column
  /// (e.g. the data set each row comes from)
  std::string by;
};

struct ScoreRow {
  double score = 0;
  int trials = 0;  ///< 0: none
  bool same_source = false;
  char split = 0;                  ///< 't', 'v', or 0 (not used)
  int group_a = -1, group_b = -1;  ///< indexes into ScoreTable::groups; -1: none
  std::vector<double> features;    ///< the features' values (ScoreTableColumns::features)
  std::string by;                  ///< the value of ScoreTableColumns::by
  std::size_t line = 0;            ///< the row's line in the file (the header is line 1)
};

/// A test row's result (calibrate --predictions).
struct RowPrediction {
  std::size_t line = 0;
  bool same_source = false;
  std::string by;
  double log10_lr = 0;  ///< bounded
  double rank = 0;      ///< the ranking score (TableFigures::margin's units)
};

struct ScoreTable {
  std::string path;
  std::vector<ScoreRow> rows;
  std::size_t without_score = 0;    ///< rows with an empty or NaN score, left out
  std::vector<std::string> groups;  ///< the group names, sorted
  bool split = false;               ///< some row is marked t or v: those decide fitting and testing
  ScoreTableColumns columns;        ///< the columns it was read with
};

/// Reads a score table. Hostile input: bounded (256 MiB, 10⁷ rows), every
/// field checked; a count score with trials must be a whole number 0 ≤ k ≤ n;
/// throws toolmark::Error naming the file, line and column.
ScoreTable ReadScoreTable(const std::string& path, const ScoreTableColumns& columns);

/// How the rows are turned into likelihood ratios.
enum class ScoreModel {
  kLogistic,  ///< logistic regression on g(score) (FitCalibration), ELUB-bounded
  kKOfN,      ///< beta-binomial k-of-n (needs trials), ELUB-bounded
  kCombined,  ///< logistic regression on several score columns (FitCombinedCalibration), ELUB-bounded
};

struct TableFigures {
  std::size_t km = 0, knm = 0;
  double cllr = 0, cllr_min = 0;
  double misleading_ss = 0;  ///< share of same-source rows with LR < 1
  double misleading_ds = 0;  ///< share of different-source rows with LR > 1
  double auc = 0;
  /// lowest same-source minus highest different-source ranking score (the
  /// model's unbounded log10 LR, or the score): > 0 when they do not overlap
  double margin = 0;
};

struct TableCalibration {
  ScoreModel model = ScoreModel::kLogistic;
  Calibration calibration;           ///< the fitted model (method logistic or kofn)
  std::pair<double, double> bounds;  ///< its ELUB bounds: calibration's min and max log10 LR
  std::size_t train_km = 0, train_knm = 0;
  bool split = false;  ///< false: no split column, figures are on the fitting rows
  /// Cross-validation by group: folds used (0: none). Each row is measured
  /// once, by the model fitted on the rows of no group in its fold.
  int folds = 0;
  std::vector<std::pair<double, double>> fold_bounds;  ///< each fold's ELUB
  TableFigures test;                                   ///< the test rows (or all rows without a split)
  TableFigures train;                                  ///< the training rows
  /// the test figures per value of the `by` column (sorted by value)
  std::vector<std::pair<std::string, TableFigures>> test_by;
  std::vector<RowPrediction> predictions;  ///< every test row, in file order
  /// log10 LR of a row (bounded).
  double Log10Lr(const ScoreRow& row) const;
};

/// The test rows' predictions as CSV (calibrate --predictions):
/// line,same_source,by,log10_lr,rank; numbers to 6 significant digits.
std::string PredictionsCsv(const TableCalibration& c);

/// Fits `model` on the training rows (split 't'; every row when the table has
/// no split) and measures both sets. With folds > 0 (and the group columns)
/// the test figures come from cross-validation by group instead: groups are
/// dealt round-robin (in sorted order) into `folds` folds; a row is tested in
/// the fold of the lower-numbered fold of its two groups, by a model fitted
/// on the rows none of whose groups is in that fold; the returned model (and
/// `bounds`, `train`) is the one fitted on every row. transform: for kLogistic, as
/// FitCalibration ("" = identity). `replicates`: bootstrap refits of the
/// returned model (kKOfN, kCombined: a calibration file's 5–95% interval).
/// Throws toolmark::Error for too few rows of a class (kMinCalibrationScores)
/// or kKOfN without trials.
TableCalibration CalibrateTable(const ScoreTable& table, ScoreModel model, const std::string& transform,
                                CalibrationProvenance provenance, const std::string& score_name,
                                int folds = 0, int replicates = 0);

}  // namespace toolmark::eval
