// toolmark calibrate [DATASET]: fits a score → log10 likelihood ratio
// calibration for one comparator and level (docs/calibration.md).
//
// Scores: the known-match (KM) and known-non-match (KNM) pair scores that
// `toolmark eval` computes (EvaluateDataset / EvaluateSynthetic: all KM pairs,
// KNM pairs sampled with a fixed seed above --max-pairs), either of a dataset
// with ground truth (a laboratory's own test fires) or, by default, of
// synthetic sets generated in memory: one per --difficulty, with --firearms ×
// --per-firearm shots (cartridge cases) or bullets (land comparators) from
// --seed. Pairs without a score (NaN) are left out and counted, and so are
// bullet pairs where either bullet lacks lands (the bullet calibration is for
// complete bullets, as toolmark compare applies it). The scores of
// all sets are pooled and FitCalibration is run on them. --scores FILE fits
// on scores computed before instead: a CSV with `score` and `known_match`
// columns (toolmark eval --report's <level>-pairs.csv, or --scores-out's file).
//
// Output: a summary (counts, parameters, bounds, Cllr and min Cllr on the
// fitting set and, with --test-seed, on held-out synthetic sets of the same
// shape, the LR at a few scores); --out FILE writes the calibration file
// (atomically); --print-cc prints the entry for engine/src/calibration_default.cc;
// --json prints the calibration and the fit summary as JSON.
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"
#include "toolmark/base/file_io.h"
#include "toolmark/engine/calibration.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/metrics.h"
#include "toolmark/engine/registry.h"
#include "toolmark/engine/version.h"
#include "toolmark/eval/calibration_file.h"
#include "toolmark/eval/evaluate.h"
#include "toolmark/eval/report.h"
#include "toolmark/eval/score_table.h"
#include "toolmark/eval/scores.h"

namespace toolmark::cli {
using namespace eval;  // NOLINT(build/namespaces): the command is a front end to the eval library
namespace {

using nlohmann::json;

struct CalibrateArgs {
  std::string dataset;              ///< empty: synthetic sets
  std::string scores;               ///< fit on this CSV's scores instead
  std::string test_scores;          ///< also measure on this CSV's scores
  std::string scores_out;           ///< write the fitting scores here
  ScoreTableColumns table;          ///< --scores as a laboratory's score table (--score-column given)
  std::string model;                ///< score table: logistic or kofn (default: kofn with trials)
  std::vector<std::string> groups;  ///< score table: the two group columns (cross-validation)
  int folds = 0;                    ///< score table: cross-validation folds by group
  std::string set;                  ///< the calibration set's name (default: described from the options)
  std::string comparator = "cmc";
  std::string level = "pair";
  std::string transform;              ///< empty: DefaultTransform
  int firearms = 0, per_firearm = 0;  ///< 0: 25 × 4 cartridge cases, 50 × 3 bullets
  std::uint64_t seed = 41, test_seed = 0;
  std::vector<std::string> difficulties = {"realistic", "hard"};
  std::size_t max_pairs = 0;  ///< 0: the comparator's calibration_max_pairs (registry)
  std::string out;
  std::string predictions;  ///< score table: write each test row's log10 LR here
  bool print_cc = false, json = false;
  int threads = 0;
  ReadFlags read;
};

std::size_t MaxPairs(const CalibrateArgs& a) {
  return a.max_pairs > 0 ? a.max_pairs : ComparatorNamed(a.comparator).calibration_max_pairs;
}

SynthOptions Synth(const CalibrateArgs& a, std::uint64_t seed, const std::string& difficulty) {
  SynthOptions o;
  const bool bullets = ComparatorNamed(a.comparator).Compares(Kind::kBullet);
  o.kind = bullets ? Kind::kBullet : Kind::kCartridgeCase;
  o.firearms = a.firearms > 0 ? a.firearms : bullets ? 50 : 25;
  o.per_firearm = a.per_firearm > 0 ? a.per_firearm : bullets ? 3 : 4;
  o.seed = seed;
  o.difficulty = ParseSynthDifficulty(difficulty);
  o.Check();
  return o;
}

/// The score sets: the dataset, or one synthetic set per difficulty from seed.
std::vector<ScoreSet> Collect(const CalibrateArgs& a, std::uint64_t seed) {
  EvalOptions options;
  options.comparator = a.comparator;
  options.max_pairs = MaxPairs(a);
  options.embedding_recall = false;
  std::vector<ScoreSet> sets;
  if (!a.scores.empty()) {
    sets.push_back(ReadScores(a.scores));
    return sets;
  }
  if (!a.dataset.empty()) {
    options.orientation = a.read.StatedOrientation();
    std::vector<SkippedScan> refused;
    sets.push_back(TakeScores(EvaluateDataset(a.dataset, options, a.read.Options(), &refused), a.comparator,
                              a.level, a.dataset));
    for (const SkippedScan& k : refused) PrintError(k.reason + " (left out of the calibration)");
    return sets;
  }
  for (const std::string& d : a.difficulties) {
    const SynthOptions o = Synth(a, seed, d);
    const std::string name = "synthetic " + std::string(KindName(o.kind)) + " " + d + " " +
                             std::to_string(o.firearms) + "x" + std::to_string(o.per_firearm) + " seed " +
                             std::to_string(seed);
    sets.push_back(TakeScores(EvaluateSynthetic(o, options, name), a.comparator, a.level, name));
  }
  return sets;
}

/// "synthetic cartridge_case realistic+hard 25x4 seed 41", or the dataset.
std::string SetName(const CalibrateArgs& a) {
  if (!a.set.empty()) return a.set;
  if (!a.scores.empty()) return "scores " + a.scores;
  if (!a.dataset.empty()) return a.dataset;
  const SynthOptions o = Synth(a, a.seed, a.difficulties.front());
  return "synthetic " + std::string(KindName(o.kind)) + " " + Join(a.difficulties, "+") + " " +
         std::to_string(o.firearms) + "x" + std::to_string(o.per_firearm) + " seed " + std::to_string(a.seed);
}

/// The command line that reproduces the fit, every option spelled out.
std::string CommandLine(const CalibrateArgs& a) {
  std::string c = "toolmark calibrate";
  if (!a.dataset.empty()) c += " " + a.dataset;
  c += " --comparator " + a.comparator + " --level " + a.level;
  if (!a.transform.empty()) c += " --transform " + a.transform;
  if (!a.set.empty()) c += " --set '" + a.set + "'";
  if (!a.scores.empty()) return c + " --scores " + a.scores;
  if (a.dataset.empty()) {
    const SynthOptions o = Synth(a, a.seed, a.difficulties.front());
    c += " --firearms " + std::to_string(o.firearms) + " --per-firearm " + std::to_string(o.per_firearm) +
         " --seed " + std::to_string(a.seed) + " --difficulty " + Join(a.difficulties, ",");
  } else {
    if (a.read.ignore_checksum) c += " --ignore-checksum";
    if (a.read.spacing_um > 0) c += " --spacing-um " + Num(a.read.spacing_um);
    if (!a.read.xy_unit.empty()) c += " --xy-unit " + a.read.xy_unit;
    if (!a.read.z_unit.empty()) c += " --z-unit " + a.read.z_unit;
  }
  return c + " --max-pairs " + std::to_string(MaxPairs(a));
}

std::string UtcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json QualityJson(const std::string& name, const CalibrationQuality& q) {
  return {{"set", name}, {"km", q.km}, {"knm", q.knm}, {"cllr", q.cllr}, {"min_cllr", q.min_cllr},
          {"auc", q.auc}};
}

/// Scores at which the summary shows the LR.
std::vector<double> ShowAt(const Calibration& c) {
  if (ComparatorNamed(c.comparator).scale == ScoreScale::kCount)
    return {0, 2, 4, 6, 8, 10, 15, 20, 30, 40, 50, 60};
  if (ComparatorCompares(c.comparator, Kind::kBullet) || c.transform == "logit")
    return {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
  return {-1, -0.5, 0, 0.25, 0.5, 0.75, 1};
}

void PrintCc(const Calibration& c, const std::vector<json>& quality) {
  std::printf("\n// engine/src/calibration_default.cc entry:\n");
  std::printf("    // %s\n", c.provenance.command.c_str());
  for (const json& q : quality)
    std::printf("    // %s: %zu KM, %zu KNM: Cllr %.4f bits, min Cllr %.4f, AUC %.4f\n",
                q["set"].get<std::string>().c_str(), q["km"].get<std::size_t>(), q["knm"].get<std::size_t>(),
                q["cllr"].get<double>(), q["min_cllr"].get<double>(), q["auc"].get<double>());
  std::printf("    {\"%s\", \"%s\", \"%s\", %.17g, %.17g, %.17g, %.17g,\n", c.comparator.c_str(),
              c.level.c_str(), c.transform.c_str(), c.parameters[0], c.parameters[1], c.min_log10_lr,
              c.max_log10_lr);
  std::printf("     \"%s\",\n     \"%s\",\n     \"%s\", \"%s\", %zu, %zu},\n", c.provenance.set.c_str(),
              c.provenance.command.c_str(), c.provenance.fitted_at.c_str(),
              c.provenance.toolmark_version.c_str(), c.provenance.km, c.provenance.knm);
}

json FiguresJson(const TableFigures& f) {
  return {{"km", f.km},
          {"knm", f.knm},
          {"cllr", f.cllr},
          {"cllr_min", f.cllr_min},
          {"misleading_ss", f.misleading_ss},
          {"misleading_ds", f.misleading_ds},
          {"auc", f.auc},
          {"margin", f.margin}};
}

/// "12 SS, 40 DS: Cllr … bits, Cllr_min …, misleading SS …, DS …, AUC …, margin …"
std::string FiguresText(const TableFigures& f) {
  return std::to_string(f.km) + " SS, " + std::to_string(f.knm) + " DS: Cllr " + Num(f.cllr) +
         " bits, Cllr_min " + Num(f.cllr_min) + ", misleading SS " + Num(f.misleading_ss) + ", DS " +
         Num(f.misleading_ds) + ", AUC " + Num(f.auc) + ", margin " + Num(f.margin);
}

/// --scores FILE --score-column C …: fit on the table's training rows, report its test rows.
/// The text summary of a score-table calibration.
void PrintTableResult(const CalibrateArgs& a, const ScoreTableColumns& columns, const ScoreTable& table,
                      const TableCalibration& c, const std::string& model_text, const std::string& hash) {
  std::printf("%s, score %s%s: fitted on %zu same-source, %zu different-source rows%s\n", a.scores.c_str(),
              a.table.score.c_str(), a.table.trials.empty() ? "" : (" of " + a.table.trials).c_str(),
              c.train_km, c.train_knm,
              c.split ? (" (" + a.table.split + " = t)").c_str() : " (no split: all rows)");
  std::printf("  %s\n  bounded to [%s, %s] log10 (ELUB of the fitting rows)\n", model_text.c_str(),
              Num(c.bounds.first).c_str(), Num(c.bounds.second).c_str());
  if (c.folds > 0) {
    std::printf(
        "  cross-validated by %s/%s in %d folds of %zu groups: every row measured by a model fitted "
        "without its groups\n",
        columns.group_a.c_str(), columns.group_b.c_str(), c.folds, table.groups.size());
    std::printf("  cross-validated: %s\n", FiguresText(c.test).c_str());
    for (const auto& [value, f] : c.test_by)
      std::printf("    %s = %s: %s\n", a.table.by.c_str(), value.c_str(), FiguresText(f).c_str());
    if (!a.out.empty()) std::printf("  written: %s (sha256 %s)\n", a.out.c_str(), hash.c_str());
    return;
  }
  for (const auto& [name, f] : {std::pair{"test (v)", c.test}, std::pair{"fitting (t)", c.train}}) {
    if (!c.split && std::string(name) == "fitting (t)") break;
    std::printf("  %s: %s\n", c.split ? name : "all rows", FiguresText(f).c_str());
  }
  for (const auto& [value, f] : c.test_by)
    std::printf("    %s = %s: %s\n", a.table.by.c_str(), value.c_str(), FiguresText(f).c_str());
  if (table.without_score > 0) std::printf("  %zu rows without a score left out\n", table.without_score);
  if (!a.out.empty()) std::printf("  written: %s (sha256 %s)\n", a.out.c_str(), hash.c_str());
}

/// The score table's columns from the flags: several score columns (A,B,…)
/// become a combined model's features; the group columns for --folds.
ScoreTableColumns TableColumns(const CalibrateArgs& a) {
  ScoreTableColumns columns = a.table;
  if (columns.score.find(',') != std::string::npos) {
    std::size_t start = 0;
    for (std::size_t comma; (comma = columns.score.find(',', start)) != std::string::npos; start = comma + 1)
      columns.features.push_back(columns.score.substr(start, comma - start));
    columns.features.push_back(columns.score.substr(start));
    for (const std::string& f : columns.features) Check(!f.empty(), "--score-column: an empty column name");
    columns.score = columns.features.front();
  }
  Check(a.groups.empty() || a.groups.size() == 2,
        "--group-columns takes two columns, e.g. firearm_a,firearm_b");
  Check((a.folds > 0) == !a.groups.empty(), "--folds and --group-columns go together");
  if (!a.groups.empty()) columns.group_a = a.groups[0], columns.group_b = a.groups[1];
  return columns;
}

/// --model, or its default: combined with several score columns, kofn with
/// trials, else logistic; a model that does not fit the columns is refused.
ScoreModel TableModel(const CalibrateArgs& a, const ScoreTableColumns& columns) {
  const ScoreModel model = !columns.features.empty() ? ScoreModel::kCombined
                           : a.model.empty()
                               ? (a.table.trials.empty() ? ScoreModel::kLogistic : ScoreModel::kKOfN)
                           : a.model == "kofn" ? ScoreModel::kKOfN
                                               : ScoreModel::kLogistic;
  Check(model != ScoreModel::kCombined || (a.model.empty() || a.model == "combined"),
        "several --score-column columns make a combined model (--model combined)");
  Check(model == ScoreModel::kCombined || a.model != "combined",
        "--model combined needs several score columns (--score-column A,B,…)");
  return model;
}

int RunScoreTable(const CalibrateArgs& a) {
  Check(!a.scores.empty(), "--score-column reads the table given with --scores");
  Check(a.test_scores.empty() && a.scores_out.empty(),
        "--test-scores and --scores-out do not apply to a score table (--score-column)");
  const ScoreTableColumns columns = TableColumns(a);
  const ScoreTable table = ReadScoreTable(a.scores, columns);
  const ScoreModel model = TableModel(a, columns);
  CalibrationProvenance provenance;
  provenance.set = a.set.empty() ? "scores " + a.scores : a.set;
  provenance.command = "toolmark calibrate --scores " + a.scores + " --score-column " + a.table.score +
                       " --same-source-column " + a.table.same_source;
  for (const auto& [flag, value] :
       {std::pair{" --trials-column ", a.table.trials},
        {" --split-column ", a.table.split},
        {" --model ", a.model},
        {" --group-columns ", a.groups.empty() ? "" : a.groups[0] + "," + a.groups[1]},
        {" --folds ", a.folds ? std::to_string(a.folds) : ""},
        {" --transform ", a.transform},
        {" --figures-by ", a.table.by}})
    if (!value.empty()) provenance.command += flag + value;
  provenance.fitted_at = UtcNow();
  provenance.toolmark_version = Version();
  // A file's model carries 200 bootstrap refits for its LRs' 5–95% interval.
  const TableCalibration c =
      CalibrateTable(table, model, a.transform, provenance, a.comparator, a.folds, a.out.empty() ? 0 : 200);
  if (!a.predictions.empty()) base::WriteFileAtomic(a.predictions, PredictionsCsv(c));
  std::string hash;
  if (!a.out.empty()) {
    WriteCalibrationFile(c.calibration, a.out);
    hash = CalibrationHash(c.calibration);
  }
  const std::vector<double>& p = c.calibration.parameters;
  std::string model_text = model == ScoreModel::kKOfN
                               ? "k-of-n beta-binomial: same source a=" + Num(p[0]) + " b=" + Num(p[1]) +
                                     ", different sources a=" + Num(p[2]) + " b=" + Num(p[3])
                               : "logistic: log10 LR = " + Num(p[0]);
  if (model == ScoreModel::kLogistic)
    model_text += " + " + Num(p[1]) + " * " + c.calibration.transform + "(" + a.table.score + ")";
  for (std::size_t j = 0; model == ScoreModel::kCombined && j < columns.features.size(); ++j)
    model_text += " + " + Num(p[j + 1]) + " * " + columns.features[j];
  if (a.json) {
    json j = FiguresJson(c.test);
    j["bounds"] = {c.bounds.first, c.bounds.second};
    j["model"] = model == ScoreModel::kKOfN       ? "kofn"
                 : model == ScoreModel::kCombined ? "combined"
                                                  : "logistic";
    j["parameters"] = p;
    if (!columns.features.empty()) j["features"] = columns.features;
    j["by"] = json::object();
    for (const auto& [value, f] : c.test_by) j["by"][value] = FiguresJson(f);
    j["model_text"] = model_text;
    j["split"] = c.split ? json(a.table.split) : json();
    j["reference"] = {{"km", c.train_km}, {"knm", c.train_knm}};
    j["train"] = FiguresJson(c.train);
    j["folds"] = c.folds;
    j["fold_bounds"] = c.fold_bounds;
    j["without_score"] = table.without_score;
    j["command"] = provenance.command;
    if (!a.out.empty()) j["out"] = {{"file", a.out}, {"sha256", hash}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  PrintTableResult(a, columns, table, c, model_text, hash);
  return 0;
}

int RunCalibrate(const CalibrateArgs& a) {
  if (!a.table.score.empty()) return RunScoreTable(a);
  Check(a.level == "pair" || ComparatorNamed(a.comparator).Compares(Kind::kBullet),
        "--level bullet needs a land comparator (land, land_smoother, baseline_land)");
  Check(a.test_seed == 0 || (a.dataset.empty() && a.scores.empty()),
        "--test-seed measures on synthetic sets; not with a dataset or --scores");
  Check(a.dataset.empty() || a.scores.empty(), "give a dataset or --scores, not both");
  MakeComparator(a.comparator);  // an unknown name is an error before any work
  std::optional<tbb::global_control> limit;
  if (a.threads > 0)
    limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(a.threads));

  const std::vector<ScoreSet> sets = Collect(a, a.seed);
  std::vector<double> km, knm;
  std::size_t without_score = 0;
  for (const ScoreSet& s : sets) {
    km.insert(km.end(), s.km.begin(), s.km.end());
    knm.insert(knm.end(), s.knm.begin(), s.knm.end());
    without_score += s.without_score;
  }
  CalibrationProvenance provenance;
  provenance.set = SetName(a);
  provenance.command = CommandLine(a);
  provenance.fitted_at = UtcNow();
  provenance.toolmark_version = Version();
  const Calibration c = FitCalibration(km, knm, a.comparator, a.level, provenance, a.transform);

  std::vector<json> quality;
  std::vector<const ScoreSet*> all;
  for (const ScoreSet& s : sets) all.push_back(&s);
  quality.push_back(QualityJson("fitting set " + c.provenance.set, Measure(c, all)));
  if (sets.size() > 1)
    for (const ScoreSet& s : sets) quality.push_back(QualityJson(s.name, Measure(c, {&s})));
  json held_out;
  if (a.test_seed != 0 && a.dataset.empty()) {
    const std::vector<ScoreSet> test = Collect(a, a.test_seed);
    std::vector<const ScoreSet*> test_all;
    for (const ScoreSet& s : test) test_all.push_back(&s);
    CalibrateArgs named = a;
    named.seed = a.test_seed;
    held_out = QualityJson("held out " + SetName(named), Measure(c, test_all));
    quality.push_back(held_out);
    if (test.size() > 1)
      for (const ScoreSet& s : test) quality.push_back(QualityJson("held out " + s.name, Measure(c, {&s})));
  }
  if (!a.test_scores.empty()) {
    const ScoreSet test = ReadScores(a.test_scores);
    held_out = QualityJson("held out " + a.test_scores, Measure(c, {&test}));
    quality.push_back(held_out);
  }
  if (!a.scores_out.empty()) WriteScores(sets, a.scores_out);
  if (!a.out.empty()) WriteCalibrationFile(c, a.out);

  if (a.json) {
    json j = {{"calibration", CalibrationToJson(c)}, {"quality", quality}, {"without_score", without_score}};
    j["lr_at"] = json::array();
    for (double s : ShowAt(c)) j["lr_at"].push_back({{"score", s}, {"log10_lr", c.Log10Lr(s)}});
    if (!a.out.empty()) j["out"] = a.out;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("calibration of %s (%s level) on %s: %zu known-match, %zu known-non-match scores\n",
              c.comparator.c_str(), c.level.c_str(), c.provenance.set.c_str(), km.size(), knm.size());
  if (without_score > 0) std::printf("  %zu pairs without a score left out\n", without_score);
  std::printf("  log10 LR = %s + %s * %s(score), bounded to [%s, %s] (ELUB)\n", Num(c.parameters[0]).c_str(),
              Num(c.parameters[1]).c_str(), c.transform.c_str(), Num(c.min_log10_lr).c_str(),
              Num(c.max_log10_lr).c_str());
  for (const json& q : quality)
    std::printf("  %s: %zu KM, %zu KNM: Cllr %s bits, min Cllr %s, AUC %s\n",
                q["set"].get<std::string>().c_str(), q["km"].get<std::size_t>(), q["knm"].get<std::size_t>(),
                Num(q["cllr"].get<double>()).c_str(), Num(q["min_cllr"].get<double>()).c_str(),
                Num(q["auc"].get<double>()).c_str());
  std::printf("  LR at score:");
  for (double s : ShowAt(c)) std::printf("  %s: %s", Num(s).c_str(), FormatLr(c.Log10Lr(s)).c_str());
  std::printf("\n  command: %s\n", c.provenance.command.c_str());
  if (!a.out.empty()) std::printf("  written: %s\n", a.out.c_str());
  if (a.print_cc) PrintCc(c, quality);
  return 0;
}

}  // namespace

void RegisterCalibrate(CLI::App& app, Action* action) {
  auto args = std::make_shared<CalibrateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Fit a score -> log10 likelihood ratio calibration (synthetic sets, or a dataset with truth)");
  cmd->add_option("dataset", args->dataset,
                  "Dataset folder with truth.csv (a laboratory's test fires); default: synthetic sets");
  cmd->add_option("--scores", args->scores,
                  "Fit on the scores of this CSV (score and known_match columns, e.g. eval --report's "
                  "<level>-pairs.csv) instead of computing them");
  cmd->add_option(
      "--score-column", args->table.score,
      "--scores is a laboratory's score table: the score column (e.g. cmc, accf, ccf), or several "
      "(A,B,…: a combined logistic model over them); fits on the rows of the split column's t, reports "
      "its v rows");
  cmd->add_option("--same-source-column", args->table.same_source,
                  "Score table: the column saying same source (1) or not (0) (default hypothesis)");
  cmd->add_option("--trials-column", args->table.trials,
                  "Score table: the column of n for a count score k of n (the k-of-n model)");
  cmd->add_option("--split-column", args->table.split,
                  "Score table: t = fit, v = test, anything else unused (default: fit and report all rows)");
  cmd->add_option("--group-columns", args->groups,
                  "Score table: the two columns naming each side's firearm, for --folds (e.g. "
                  "firearm_a,firearm_b in eval --report's pairs CSV)")
      ->delimiter(',');
  cmd->add_option("--folds", args->folds,
                  "Score table: cross-validate by firearm in this many folds instead of a split")
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--model", args->model,
                  "Score table: logistic, kofn or combined (default: combined with several score columns, "
                  "kofn with --trials-column, else logistic)")
      ->check(CLI::IsMember({"logistic", "kofn", "combined"}));
  cmd->add_option("--predictions", args->predictions,
                  "Score table: write every test row's log10 LR (cross-validated with --folds) to this CSV");
  cmd->add_option("--figures-by", args->table.by,
                  "Score table: also give the test figures per value of this column (e.g. the data set)");
  cmd->add_option("--test-scores", args->test_scores, "Also measure on the scores of this CSV (held out)");
  cmd->add_option("--scores-out", args->scores_out,
                  "Write the fitting scores here (CSV: score,known_match,set)");
  cmd->add_option("--set", args->set, "Name of the calibration set in the provenance (default: described)");
  cmd->add_option("--comparator", args->comparator, "Comparator whose scores are calibrated (default cmc)");
  cmd->add_option("--level", args->level, "pair (one scan against another) or bullet")
      ->check(CLI::IsMember({"pair", "bullet"}));
  cmd->add_option("--transform", args->transform,
                  "Score transform: identity, log1p or logit (default: logit for land pairs, else identity)")
      ->check(CLI::IsMember({"identity", "log1p", "logit"}));
  cmd->add_option("--firearms", args->firearms,
                  "Synthetic firearms (barrels) per set (default 25 cartridge, 50 bullet)")
      ->check(CLI::Range(2, 1000));
  cmd->add_option("--per-firearm", args->per_firearm,
                  "Synthetic shots or bullets per firearm (default 4 cartridge, 3 bullet)")
      ->check(CLI::Range(2, 100));
  cmd->add_option("--seed", args->seed, "Synthetic fitting sets' seed (default 41)");
  cmd->add_option("--test-seed", args->test_seed, "Also measure on held-out synthetic sets of this seed");
  cmd->add_option("--difficulty", args->difficulties,
                  "Synthetic difficulties, each a set (default realistic,hard)")
      ->delimiter(',')
      ->check(CLI::IsMember({"easy", "realistic", "hard"}));
  cmd->add_option("--max-pairs", args->max_pairs,
                  "Most pairs per set: all known matches and a seeded sample of non-matches "
                  "(default 1500 for cmc, 200000 otherwise)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", args->out, "Write the calibration (JSON, atomically) to this file");
  cmd->add_flag("--print-cc", args->print_cc, "Print the entry for engine/src/calibration_default.cc");
  cmd->add_flag("--json", args->json, "Print the calibration and its fit summary as JSON");
  cmd->add_option("--threads", args->threads, "Worker threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  args->read.Add(cmd);
  cmd->callback([args, action] { *action = [args] { return RunCalibrate(*args); }; });
}

}  // namespace toolmark::cli
