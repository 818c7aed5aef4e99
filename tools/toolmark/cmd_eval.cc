// toolmark eval DATASET: argument parsing and the text output; the
// evaluation itself is the eval library (tools/eval, toolmark/eval/evaluate.h).
#include <tbb/global_control.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/eval/evaluate.h"
#include "toolmark/eval/report.h"

namespace toolmark::cli {
namespace {

using namespace eval;  // NOLINT(build/namespaces): the command is a front end to the eval library

struct EvalArgs {
  std::string dataset;
  EvalOptions options;
  std::string calibration;  ///< a calibration file; empty: the comparator's default
  bool json = false;
  std::string report;
  int threads = 0;
  ReadFlags read;
};

void PrintLevel(const EvalLevel& lv, const nlohmann::json& paths) {
  const Metrics& m = lv.metrics;
  std::printf("%s level, comparator %s%s: %zu items, %zu pairs (%zu known match, %zu known non-match)\n",
              lv.level.c_str(), lv.comparator.c_str(),
              lv.score_name == "score" ? "" : (", ranked by its " + lv.score_name).c_str(), lv.names.size(),
              m.pairs, m.km_pairs, m.knm_pairs);
  std::printf("  AUC %s  EER %s  FPR@TPR95 %s  FPR@TPR99 %s  margin %s\n", Num(m.auc).c_str(),
              Num(m.eer).c_str(), Num(m.fpr_at_tpr95).c_str(), Num(m.fpr_at_tpr99).c_str(),
              Num(m.margin).c_str());
  std::printf("  rank-1 %s  rank-10 %s  (%zu queries)\n", Num(m.rank1).c_str(), Num(m.rank10).c_str(),
              m.queries);
  if (lv.calibration) {
    const Calibration& c = lv.calibration->calibration;
    std::printf("  Cllr %s bits (min Cllr %s)  calibration: %s (%s; log10 LR in [%s, %s])\n",
                m.cllr ? Num(*m.cllr).c_str() : "n/a", Num(lv.min_cllr).c_str(), c.provenance.set.c_str(),
                lv.calibration->source.c_str(), Num(c.min_log10_lr).c_str(), Num(c.max_log10_lr).c_str());
  } else if (lv.score_name != "score") {
    std::printf("  Cllr: not calibrated (no calibration maps a detail; min Cllr %s)\n",
                Num(lv.min_cllr).c_str());
  } else {
    std::printf("  Cllr: not calibrated (no calibration for comparator %s at this level; min Cllr %s)\n",
                lv.comparator.c_str(), Num(lv.min_cllr).c_str());
  }
  if (std::isfinite(lv.embedding_recall10))
    std::printf("  embedding recall@10 %s\n", Num(lv.embedding_recall10).c_str());
  for (const std::string& n : lv.notes) std::printf("  note: %s\n", n.c_str());
  if (!paths.is_null()) std::printf("  report: %s\n", paths["html"].get<std::string>().c_str());
}

/// The chosen calibration of a level: --calibration FILE where it is for this
/// comparator and level, else the comparator's default for the level.
std::optional<ChosenCalibration> LevelCalibration(const EvalArgs& args,
                                                  const std::optional<Calibration>& file,
                                                  const EvalLevel& lv) {
  const std::string level = CalibrationLevelOf(lv.level);
  const bool fits = file && file->comparator == lv.comparator && file->level == level;
  return ChooseCalibration(fits ? file : std::nullopt, args.calibration, lv.comparator, level);
}

int RunEval(const EvalArgs& args) {
  std::optional<tbb::global_control> limit;
  if (args.threads > 0)
    limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(args.threads));
  std::optional<Calibration> file;
  Check(args.calibration.empty() || args.options.score_detail.empty(),
        "--calibration maps the comparator's score; with --score-detail no calibration applies");
  if (!args.calibration.empty()) file = ReadCalibrationFile(args.calibration);
  EvalOptions options = args.options;
  options.orientation = args.read.StatedOrientation();
  std::vector<SkippedScan> refused;
  std::vector<EvalLevel> levels = EvaluateDataset(args.dataset, options, args.read.Options(), &refused);
  for (const SkippedScan& k : refused) PrintError(k.reason);
  bool file_used = false;
  for (EvalLevel& lv : levels) {
    // A detail ranked instead of the score has no calibration (min Cllr only).
    ApplyCalibration(&lv, lv.score_name == "score" ? LevelCalibration(args, file, lv) : std::nullopt);
    file_used = file_used || (lv.calibration && lv.calibration->source == args.calibration);
  }
  Check(!file || file_used, args.calibration + ": calibration is for comparator " +
                                (file ? file->comparator : "") + " (" + (file ? file->level : "") +
                                " level), which no level of " + args.dataset + " uses");
  nlohmann::json out = nlohmann::json::array();
  for (const EvalLevel& lv : levels) {
    nlohmann::json j = LevelJson(lv);
    nlohmann::json paths;
    if (!args.report.empty()) paths = WriteLevelReport(lv, args.report);
    if (!paths.is_null()) j["report"] = paths;
    if (args.json)
      out.push_back(j);
    else
      PrintLevel(lv, paths);
  }
  if (args.json) std::cout << (out.size() == 1 ? out[0] : out).dump(2) << "\n";
  return 0;
}

}  // namespace

void RegisterEval(CLI::App& app, Action* action) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd =
      app.add_subcommand("eval", "Accuracy on a dataset with ground truth: AUC, EER, ranks, Cllr");
  cmd->add_option("dataset", args->dataset, "Dataset folder with truth.csv (see datasets/README.md)")
      ->required();
  cmd->add_option("--comparator", args->options.comparator,
                  "Comparator (default: cmc for cartridge cases and 2D images, land for bullet lands)");
  cmd->add_flag("--json", args->json, "Print JSON: one object per level (a list when several)");
  cmd->add_option("--report", args->report,
                  "Write <level>-pairs.csv, -metrics.json, -report.html, -hist.png, -roc.png here");
  cmd->add_option("--max-pairs", args->options.max_pairs,
                  "Most pairs per level; beyond it all known matches and a seeded sample of non-matches")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "Worker threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "--calibration", args->calibration,
      "Calibration file from `toolmark calibrate` for Cllr (default: the comparator's shipped one)");
  cmd->add_option("--score-detail", args->options.score_detail,
                  "Rank and measure pairs by this detail of the comparison instead of its score (e.g. "
                  "surface_ccf, cmc_log_odds of the cmc comparator; uncalibrated)");
  args->read.Add(cmd);
  cmd->callback([args, action] { *action = [args] { return RunEval(*args); }; });
}

}  // namespace toolmark::cli
