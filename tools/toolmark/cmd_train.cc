// toolmark train-land: fits the land score model on synthetic bullets.
//
// It generates two independent synthetic bullet sets in memory (a training
// seed and a held-out seed), computes the land features (the "land"
// comparator's details) of every known-match land pair (same barrel land)
// and of a seeded sample of known-non-match pairs, fits a logistic
// regression (OpenCV ml, batch gradient descent on standardised features) and,
// for comparison, a random forest (OpenCV ml RTrees), and reports the
// held-out AUC / EER of each against the cross-correlation alone. It prints
// the logistic coefficients as the C++ constants of engine/src/bullet/land_model.cc;
// nothing is changed in the engine by running it. Real datasets are never
// read: the model is trained on synthetic data only.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/ml.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/metrics.h"
#include "toolmark/engine/synth.h"
#include "toolmark/eval/train_land.h"

namespace toolmark::cli {
namespace {

struct TrainArgs {
  int firearms = 40, per_firearm = 3;
  std::uint64_t seed = 101, test_seed = 202;
  std::vector<std::string> difficulties = {"realistic", "hard"};
  double ridge = 1.0;
  int knm_per_km = 4;
  std::string out;  ///< optional JSON summary
};

Metrics Score(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<ScoredPair> pairs;
  for (std::size_t k = 0; k < scores.size(); ++k)
    pairs.push_back({static_cast<int>(k), static_cast<int>(k), scores[k], labels[k] == 1});
  return ComputeMetrics(pairs, 0);
}

/// The training (args.seed) and held-out (args.test_seed) land pairs.
struct PairSets {
  eval::LandPairSet train, test;
};

/// Both sets' land pairs, one synthetic bullet set per difficulty and seed, stacked.
PairSets BuildPairSets(const TrainArgs& args, const Comparator& land) {
  PairSets sets;
  eval::LandPairSet &train = sets.train, &test = sets.test;
  for (const std::string& difficulty : args.difficulties) {
    for (auto [set, seed] : {std::pair{&train, args.seed}, std::pair{&test, args.test_seed}}) {
      eval::LandPairSet part =
          eval::BuildLandPairs({args.firearms, args.per_firearm, args.knm_per_km}, seed, difficulty, land);
      if (set->features.empty()) {
        *set = std::move(part);
      } else {
        cv::vconcat(set->features, part.features, set->features);
        set->labels.insert(set->labels.end(), part.labels.begin(), part.labels.end());
      }
    }
  }
  return sets;
}

/// Each feature's mean and standard deviation (1 when constant) on the training set.
struct Standardisation {
  std::vector<double> mean, scale;

  /// x with each feature centred and divided by its scale.
  cv::Mat Apply(const cv::Mat& x) const {
    const int d = static_cast<int>(mean.size());
    cv::Mat out(x.size(), CV_32F);
    for (int r = 0; r < x.rows; ++r)
      for (int f = 0; f < d; ++f)
        out.at<float>(r, f) = static_cast<float>((x.at<float>(r, f) - mean[static_cast<std::size_t>(f)]) /
                                                 scale[static_cast<std::size_t>(f)]);
    return out;
  }
};

/// Standardise with the training set's mean and standard deviation.
Standardisation FitStandardisation(const cv::Mat& features) {
  const int d = features.cols;
  Standardisation s;
  s.mean.resize(static_cast<std::size_t>(d));
  s.scale.resize(static_cast<std::size_t>(d));
  for (int f = 0; f < d; ++f) {
    cv::Scalar m, sd;
    cv::meanStdDev(features.col(f), m, sd);
    s.mean[static_cast<std::size_t>(f)] = m[0];
    s.scale[static_cast<std::size_t>(f)] = sd[0] > 1e-12 ? sd[0] : 1.0;
  }
  return s;
}

/// The random forest (seeded, so runs repeat) on the standardised training pairs.
cv::Ptr<cv::ml::RTrees> TrainForest(const cv::Mat& xs, const std::vector<int>& train_labels) {
  cv::Mat labels(static_cast<int>(train_labels.size()), 1, CV_32F);
  for (std::size_t k = 0; k < train_labels.size(); ++k)
    labels.at<float>(static_cast<int>(k)) = static_cast<float>(train_labels[k]);
  cv::theRNG().state = 20261129;
  auto rf = cv::ml::RTrees::create();
  rf->setMaxDepth(8);
  rf->setMinSampleCount(5);
  rf->setActiveVarCount(0);
  rf->setTermCriteria(cv::TermCriteria(cv::TermCriteria::MAX_ITER, 200, 0));
  cv::Mat int_labels(labels.rows, 1, CV_32S);
  for (int r = 0; r < labels.rows; ++r) int_labels.at<int>(r) = train_labels[static_cast<std::size_t>(r)];
  rf->train(cv::ml::TrainData::create(xs, cv::ml::ROW_SAMPLE, int_labels));
  return rf;
}

/// The logistic model's probability for row r of x; theta: 1 × (d + 1), bias first.
double Logistic(const cv::Mat& theta, int d, const cv::Mat& x, int r) {
  double z = theta.at<double>(0, 0);
  for (int f = 0; f < d; ++f) z += theta.at<double>(0, f + 1) * x.at<float>(r, f);
  return 1.0 / (1.0 + std::exp(-z));
}

/// The share of the forest's trees voting for a match on one row.
double ForestShare(const cv::ml::RTrees& rf, const cv::Mat& row) {
  cv::Mat votes;
  rf.getVotes(row, votes, 0);
  // votes: header row of class labels, then counts; share of trees voting 1.
  double yes = 0, all = 0;
  for (int c = 0; c < votes.cols; ++c) {
    const int cls = votes.at<int>(0, c), count = votes.at<int>(1, c);
    all += count;
    if (cls == 1) yes += count;
  }
  return all > 0 ? yes / all : 0;
}

/// Held-out accuracy of the logistic model, the forest and the cross-correlation alone.
struct Accuracy {
  Metrics logistic, forest, ccf;
};

/// Scores every held-out pair (ts: standardised test.features) with each model, and with its ccf.
Accuracy ScoreHeldOut(const eval::LandPairSet& test, const cv::Mat& ts, const cv::Mat& theta, int d,
                      const cv::ml::RTrees& rf) {
  std::vector<double> s_lr, s_rf, s_ccf;
  for (int r = 0; r < ts.rows; ++r) {
    s_lr.push_back(Logistic(theta, d, ts, r));
    s_rf.push_back(ForestShare(rf, ts.row(r)));
    s_ccf.push_back(test.features.at<float>(r, 0));
  }
  return {Score(s_lr, test.labels), Score(s_rf, test.labels), Score(s_ccf, test.labels)};
}

/// The pair counts and held-out accuracy, then the logistic model as land_model.cc's constants.
void PrintModel(const TrainArgs& args, int train_rows, int test_rows, const Accuracy& acc,
                const Standardisation& st, const cv::Mat& theta) {
  const int d = static_cast<int>(st.mean.size());
  std::printf("training pairs: %d (seed %llu), held-out pairs: %d (seed %llu), %s, %d barrels x %d bullets\n",
              train_rows, static_cast<unsigned long long>(args.seed), test_rows,
              static_cast<unsigned long long>(args.test_seed), Join(args.difficulties).c_str(), args.firearms,
              args.per_firearm);
  std::printf("held-out AUC / EER: logistic %s / %s, random forest %s / %s, ccf alone %s / %s\n",
              Num(acc.logistic.auc).c_str(), Num(acc.logistic.eer).c_str(), Num(acc.forest.auc).c_str(),
              Num(acc.forest.eer).c_str(), Num(acc.ccf.auc).c_str(), Num(acc.ccf.eer).c_str());
  std::printf("\n// engine/src/bullet/land_model.cc constants (feature order: LandFeatureNames())\n");
  const auto row = [&](const char* name, auto value) {
    std::printf("constexpr double %s[kFeatures] = {", name);
    for (int f = 0; f < d; ++f) std::printf("%s%.9g", f ? ", " : "", value(f));
    std::printf("};\n");
  };
  row("kMean", [&](int f) { return st.mean[static_cast<std::size_t>(f)]; });
  row("kScale", [&](int f) { return st.scale[static_cast<std::size_t>(f)]; });
  row("kWeight", [&](int f) { return static_cast<double>(theta.at<double>(0, f + 1)); });
  std::printf("constexpr double kBias = %.9g;\n", static_cast<double>(theta.at<double>(0, 0)));
}

/// The --out JSON summary: the run's settings, the model and its held-out AUCs.
void WriteSummary(const TrainArgs& args, const std::vector<std::string>& names, const Standardisation& st,
                  const Accuracy& acc, const cv::Mat& theta) {
  const int d = static_cast<int>(st.mean.size());
  nlohmann::json j = {{"seed", args.seed},
                      {"test_seed", args.test_seed},
                      {"difficulty", args.difficulties},
                      {"ridge", args.ridge},
                      {"firearms", args.firearms},
                      {"per_firearm", args.per_firearm},
                      {"features", names},
                      {"mean", st.mean},
                      {"scale", st.scale},
                      {"logistic_auc", acc.logistic.auc},
                      {"forest_auc", acc.forest.auc},
                      {"ccf_auc", acc.ccf.auc}};
  std::vector<double> w;
  for (int f = 0; f <= d; ++f) w.push_back(theta.at<double>(0, f));
  j["theta"] = w;
  std::ofstream(args.out) << j.dump(2) << "\n";
}

int RunTrain(const TrainArgs& args) {
  const auto land = MakeComparator("land");
  const PairSets sets = BuildPairSets(args, *land);
  const std::vector<std::string> names = LandFeatureNames();
  const int d = sets.train.features.cols;
  const Standardisation st = FitStandardisation(sets.train.features);
  const cv::Mat xs = st.Apply(sets.train.features), ts = st.Apply(sets.test.features);
  const cv::Mat theta = eval::FitLogistic(xs, sets.train.labels, args.ridge);  // 1 × (d + 1), bias first
  const cv::Ptr<cv::ml::RTrees> rf = TrainForest(xs, sets.train.labels);
  const Accuracy acc = ScoreHeldOut(sets.test, ts, theta, d, *rf);
  PrintModel(args, xs.rows, ts.rows, acc, st, theta);
  if (!args.out.empty()) WriteSummary(args, names, st, acc, theta);
  return 0;
}

}  // namespace

void RegisterTrainLand(CLI::App& app, Action* action) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train-land", "Fit the land score model on synthetic bullets and print its coefficients");
  cmd->add_option("--firearms", args->firearms, "Synthetic barrels per set")->check(CLI::Range(4, 1000));
  cmd->add_option("--per-firearm", args->per_firearm, "Bullets per barrel")->check(CLI::Range(2, 20));
  cmd->add_option("--seed", args->seed, "Training set seed");
  cmd->add_option("--test-seed", args->test_seed, "Held-out set seed");
  cmd->add_option("--difficulty", args->difficulties,
                  "Synthetic difficulties, each a set (default realistic,hard)")
      ->delimiter(',')
      ->check(CLI::IsMember({"easy", "realistic", "hard"}));
  cmd->add_option("--ridge", args->ridge, "L2 penalty of the logistic weights (standardised features)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--knm-per-km", args->knm_per_km, "Non-match pairs sampled per known-match pair")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--out", args->out, "Also write the model and its accuracy as JSON here");
  cmd->callback([args, action] { *action = [args] { return RunTrain(*args); }; });
}

}  // namespace toolmark::cli
