// Calibration on a laboratory's score table (toolmark/eval/score_table.h).
#include "toolmark/eval/score_table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include "csv.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/metrics.h"

namespace toolmark::eval {
namespace {

constexpr std::size_t kMaxRows = 10000000;

/// A finite number, or nullopt for an empty field or NaN; throws for anything else.
std::optional<double> Number(const std::string& field, const std::string& where) {
  if (field.empty()) return std::nullopt;
  char* rest = nullptr;
  const double v = std::strtod(field.c_str(), &rest);
  if (std::isnan(v) && *rest == '\0') return std::nullopt;
  Check(*rest == '\0' && std::isfinite(v), where + " is not a finite number: " + field.substr(0, 40));
  return v;
}

/// Column indexes of the header; throws naming a missing column.
struct Header {
  std::size_t score = 0, same = 0, trials = 0, split = 0, group_a = 0, group_b = 0, by = 0;
  std::vector<std::size_t> features;
  std::size_t needed = 0;  ///< fields a row must have
};
Header ReadHeader(const std::vector<std::string>& f, const ScoreTableColumns& c, const std::string& path) {
  const auto col = [&](const std::string& name, const char* flag) {
    const auto it = std::find(f.begin(), f.end(), name);
    Check(it != f.end(), path + ": no '" + name + "' column (" + flag + ")");
    return static_cast<std::size_t>(it - f.begin());
  };
  Header h;
  h.score = col(c.score, "--score-column");
  h.same = col(c.same_source, "--same-source-column");
  h.needed = std::max(h.score, h.same);
  for (const std::string& name : c.features) {
    h.features.push_back(col(name, "--score-column"));
    h.needed = std::max(h.needed, h.features.back());
  }
  if (!c.by.empty()) h.needed = std::max(h.needed, h.by = col(c.by, "--figures-by"));
  if (!c.trials.empty()) h.needed = std::max(h.needed, h.trials = col(c.trials, "--trials-column"));
  if (!c.split.empty()) h.needed = std::max(h.needed, h.split = col(c.split, "--split-column"));
  Check(c.group_a.empty() == c.group_b.empty(), path + ": --group-columns needs two columns (one per side)");
  if (!c.group_a.empty()) {
    h.needed = std::max(h.needed, h.group_a = col(c.group_a, "--group-columns"));
    h.needed = std::max(h.needed, h.group_b = col(c.group_b, "--group-columns"));
  }
  return h;
}

/// A row; its groups' names go to `groups` (the row's group indexes are set later).
ScoreRow ReadRow(const std::vector<std::string>& f, const Header& h, const ScoreTableColumns& c,
                 const std::string& where, bool* has_score, std::pair<std::string, std::string>* groups) {
  Check(f.size() > h.needed, where + ": too few fields");
  ScoreRow r;
  const std::string& m = f[h.same];
  Check(m == "1" || m == "0" || m == "true" || m == "false",
        where + ": " + c.same_source + " is not 1 or 0: " + m.substr(0, 40));
  r.same_source = m == "1" || m == "true";
  const std::optional<double> score = Number(f[h.score], where + ": " + c.score);
  *has_score = score.has_value();
  for (std::size_t j = 0; j < h.features.size(); ++j) {
    const std::optional<double> v = Number(f[h.features[j]], where + ": " + c.features[j]);
    *has_score = *has_score && v.has_value();
    r.features.push_back(v.value_or(0.0));
  }
  if (!*has_score) return r;
  r.score = *score;
  if (!c.by.empty()) r.by = f[h.by];
  if (!c.trials.empty()) {
    const std::optional<double> n = Number(f[h.trials], where + ": " + c.trials);
    Check(n && *n >= 1 && *n <= 1e6 && *n == std::floor(*n),
          where + ": " + c.trials + " is not a whole number 1…10⁶");
    Check(r.score >= 0 && r.score <= *n && r.score == std::floor(r.score),
          where + ": " + c.score + " is not a whole count between 0 and " + c.trials);
    r.trials = static_cast<int>(*n);
  }
  if (!c.split.empty()) r.split = f[h.split] == "t" ? 't' : f[h.split] == "v" ? 'v' : 0;
  if (!c.group_a.empty()) {
    *groups = {f[h.group_a], f[h.group_b]};
    Check(!groups->first.empty() && !groups->second.empty(), where + ": a group column is empty");
  }
  return r;
}

/// LR per row, and the order-preserving score the discrimination figures rank by.
struct Scored {
  std::vector<double> km_lr, knm_lr, km_rank, knm_rank;
};

/// Scored rows, all of them and per value of the `by` column.
struct ScoredBy {
  Scored all;
  std::map<std::string, Scored> by;
  std::vector<RowPrediction> rows;
};

TableFigures Figures(const Scored& s) {
  TableFigures t;
  t.km = s.km_lr.size();
  t.knm = s.knm_lr.size();
  if (t.km == 0 || t.knm == 0) return t;
  t.cllr = Cllr(s.km_lr, s.knm_lr);
  t.cllr_min = MinCllr(s.km_rank, s.knm_rank);
  t.auc = Auc(s.km_rank, s.knm_rank);
  const auto share = [](const std::vector<double>& lr, auto misleading) {
    return static_cast<double>(std::count_if(lr.begin(), lr.end(), misleading)) /
           static_cast<double>(lr.size());
  };
  t.misleading_ss = share(s.km_lr, [](double l) { return l < 0; });
  t.misleading_ds = share(s.knm_lr, [](double l) { return l > 0; });
  t.margin = *std::min_element(s.km_rank.begin(), s.km_rank.end()) -
             *std::max_element(s.knm_rank.begin(), s.knm_rank.end());
  return t;
}

/// The figures of every `by` value with both kinds of rows.
std::vector<std::pair<std::string, TableFigures>> FiguresBy(const ScoredBy& s) {
  std::vector<std::pair<std::string, TableFigures>> out;
  for (const auto& [value, scored] : s.by)
    if (!scored.km_lr.empty() && !scored.knm_lr.empty()) out.emplace_back(value, Figures(scored));
  return out;
}

}  // namespace

ScoreTable ReadScoreTable(const std::string& path, const ScoreTableColumns& columns) {
  Check(!columns.score.empty() && !columns.same_source.empty(),
        "score table: a score and a same-source column are needed");
  const std::string text = detail::ReadCsvText(path);
  ScoreTable t;
  t.path = path;
  Header h;
  std::vector<std::pair<std::string, std::string>> row_groups;
  std::size_t start = 0, line_no = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::vector<std::string> f = detail::CsvRecord(text.substr(start, end - start));
    start = end + 1;
    const std::string where = path + ":" + std::to_string(++line_no);
    if (line_no == 1) {
      h = ReadHeader(f, columns, path);
      continue;
    }
    if (f.size() == 1 && f[0].empty()) continue;  // blank line
    Check(t.rows.size() < kMaxRows, path + ": more than 10⁷ rows");
    bool has_score = false;
    std::pair<std::string, std::string> groups;
    ScoreRow r = ReadRow(f, h, columns, where, &has_score, &groups);
    r.line = line_no;
    if (has_score) {
      t.rows.push_back(r);
      row_groups.push_back(std::move(groups));
    } else {
      ++t.without_score;
    }
  }
  Check(line_no > 0, path + ": empty file");
  t.columns = columns;
  if (!columns.group_a.empty()) {
    for (const auto& [a, b] : row_groups) t.groups.push_back(a), t.groups.push_back(b);
    std::sort(t.groups.begin(), t.groups.end());
    t.groups.erase(std::unique(t.groups.begin(), t.groups.end()), t.groups.end());
    const auto index = [&](const std::string& g) {
      return static_cast<int>(std::lower_bound(t.groups.begin(), t.groups.end(), g) - t.groups.begin());
    };
    for (std::size_t i = 0; i < t.rows.size(); ++i) {
      t.rows[i].group_a = index(row_groups[i].first);
      t.rows[i].group_b = index(row_groups[i].second);
    }
  }
  t.split = std::any_of(t.rows.begin(), t.rows.end(), [](const ScoreRow& r) { return r.split != 0; });
  Check(columns.split.empty() || t.split,
        path + ": the split column " + columns.split + " marks no row t or v (t: fit, v: test)");
  return t;
}

double TableCalibration::Log10Lr(const ScoreRow& row) const {
  if (calibration.NeedsFeatures()) return calibration.Log10LrOfFeatures(row.features);
  return calibration.NeedsTrials() ? calibration.Log10LrOfCount(static_cast<int>(row.score), row.trials)
                                   : calibration.Log10Lr(row.score);
}

namespace {

/// The rows a model is fitted on: those marked t, or every row without a split.
bool Training(const ScoreTable& t, const ScoreRow& r) { return !t.split || r.split == 't'; }

/// The model fitted on the rows `use` selects (FitCalibration or
/// FitKOfNCalibration with `replicates` bootstrap refits), with its training counts.
TableCalibration FitRows(const ScoreTable& table, ScoreModel model, const std::string& transform,
                         CalibrationProvenance provenance, const std::string& score_name,
                         const std::function<bool(const ScoreRow&)>& use, int replicates = 0) {
  TableCalibration c;
  c.model = model;
  std::vector<double> km, knm;
  std::vector<std::pair<int, int>> km_counts, knm_counts;
  std::vector<std::vector<double>> km_rows, knm_rows;
  for (const ScoreRow& r : table.rows) {
    if (!use(r)) continue;
    (r.same_source ? km : knm).push_back(r.score);
    if (model == ScoreModel::kCombined) {
      Check(!r.features.empty(),
            table.path + ": the combined model needs score columns (--score-column A,B)");
      (r.same_source ? km_rows : knm_rows).push_back(r.features);
    }
    if (model == ScoreModel::kKOfN) {
      Check(r.trials > 0, table.path + ": the k-of-n model needs a trials column (--trials-column)");
      (r.same_source ? km_counts : knm_counts).emplace_back(static_cast<int>(r.score), r.trials);
    }
  }
  c.train_km = km.size();
  c.train_knm = knm.size();
  Check(km.size() >= kMinCalibrationScores && knm.size() >= kMinCalibrationScores,
        table.path + ": " + std::to_string(km.size()) + " same-source and " + std::to_string(knm.size()) +
            " different-source training rows; at least " + std::to_string(kMinCalibrationScores) +
            " of each are needed");
  if (model == ScoreModel::kLogistic)
    c.calibration =
        FitCalibration(km, knm, score_name, "pair", provenance, transform.empty() ? "identity" : transform);
  else if (model == ScoreModel::kKOfN)
    c.calibration = FitKOfNCalibration(km_counts, knm_counts, score_name, "pair", provenance, replicates,
                                       {table.columns.score, table.columns.trials});
  else
    c.calibration = FitCombinedCalibration(km_rows, knm_rows, table.columns.features, score_name, "pair",
                                           provenance, replicates);
  c.bounds = {c.calibration.min_log10_lr, c.calibration.max_log10_lr};
  return c;
}

/// The row's rank score: the model's own order (the score, or the unbounded
/// k-of-n or combined log10 LR).
double Rank(const TableCalibration& c, const ScoreRow& r) {
  switch (c.model) {
    case ScoreModel::kKOfN:
      return c.calibration.UnboundedLog10LrOfCount(static_cast<int>(r.score), r.trials);
    case ScoreModel::kCombined:
      return c.calibration.UnboundedLog10LrOfFeatures(r.features);
    case ScoreModel::kLogistic:
      break;
  }
  return r.score;
}

/// Adds a row's LR and its rank score to a set (and to its `by` value's).
void Add(const TableCalibration& c, const ScoreRow& r, ScoredBy* set) {
  const double lr = c.Log10Lr(r), rank = Rank(c, r);
  set->rows.push_back({r.line, r.same_source, r.by, lr, rank});
  for (Scored* s : {&set->all, &set->by[r.by]}) {
    (r.same_source ? s->km_lr : s->knm_lr).push_back(lr);
    (r.same_source ? s->km_rank : s->knm_rank).push_back(rank);
  }
}

/// Cross-validation by group: the test rows' figures, each row measured by
/// the model of its fold.
ScoredBy CrossValidate(const ScoreTable& table, ScoreModel model, const std::string& transform,
                       const CalibrationProvenance& provenance, const std::string& score_name, int folds,
                       std::vector<std::pair<double, double>>* fold_bounds) {
  const auto fold = [&](int group) { return group % folds; };
  ScoredBy test;
  for (int f = 0; f < folds; ++f) {
    const TableCalibration fit =
        FitRows(table, model, transform, provenance, score_name,
                [&](const ScoreRow& r) { return fold(r.group_a) != f && fold(r.group_b) != f; });
    fold_bounds->push_back(fit.bounds);
    for (const ScoreRow& r : table.rows)
      if (std::min(fold(r.group_a), fold(r.group_b)) == f) Add(fit, r, &test);
  }
  return test;
}

}  // namespace

TableCalibration CalibrateTable(const ScoreTable& table, ScoreModel model, const std::string& transform,
                                CalibrationProvenance provenance, const std::string& score_name, int folds,
                                int replicates) {
  Check(folds == 0 || !table.split, table.path + ": cross-validation (--folds) or a split column, not both");
  Check(folds == 0 || table.groups.size() >= 2,
        table.path + ": cross-validation by group needs the group columns (--group-columns) and two groups");
  const auto training = [&](const ScoreRow& r) { return Training(table, r); };
  TableCalibration c = FitRows(table, model, transform, provenance, score_name, training, replicates);
  c.split = table.split;
  ScoredBy train, test;
  for (const ScoreRow& r : table.rows) {
    if (training(r)) Add(c, r, &train);
    if (!table.split || r.split == 'v') Add(c, r, &test);
  }
  c.train = Figures(train.all);
  if (folds > 0) {
    c.folds = std::min(folds, static_cast<int>(table.groups.size()));
    test = CrossValidate(table, model, transform, provenance, score_name, c.folds, &c.fold_bounds);
  }
  c.test = Figures(test.all);
  if (!table.columns.by.empty()) c.test_by = FiguresBy(test);
  c.predictions = std::move(test.rows);
  std::sort(c.predictions.begin(), c.predictions.end(),
            [](const RowPrediction& x, const RowPrediction& y) { return x.line < y.line; });
  Check(c.test.km > 0 && c.test.knm > 0, table.path + ": no test rows of both kinds (split 'v')");
  return c;
}

std::string PredictionsCsv(const TableCalibration& c) {
  std::string csv = "line,same_source,by,log10_lr,rank\n";
  for (const RowPrediction& p : c.predictions) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ",%.6g,%.6g\n", p.log10_lr, p.rank);
    csv += std::to_string(p.line) + (p.same_source ? ",1," : ",0,") + detail::CsvField(p.by) + buf;
  }
  return csv;
}

}  // namespace toolmark::eval
