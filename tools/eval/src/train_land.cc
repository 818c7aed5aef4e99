// Land model training: pair features from synthetic bullets, logistic fit.
#include "toolmark/eval/train_land.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>

#include "toolmark/base/terminal.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/synth.h"

namespace toolmark::eval {

LandPairSet BuildLandPairs(const LandPairOptions& args, std::uint64_t seed, const std::string& difficulty,
                           const Comparator& land) {
  SynthOptions o;
  o.kind = Kind::kBullet;
  o.firearms = args.firearms;
  o.per_firearm = args.per_firearm;
  o.seed = seed;
  o.difficulty = ParseSynthDifficulty(difficulty);
  o.Check();
  const int n = SynthScanCount(o);
  std::vector<std::shared_ptr<const PreparedMark>> marks(static_cast<std::size_t>(n));
  std::vector<std::string> land_ids(static_cast<std::size_t>(n));
  base::Progress progress(static_cast<std::size_t>(n), "preparing seed " + std::to_string(seed));
  std::mutex mutex;
  tbb::parallel_for(0, n, [&](int i) {
    SynthScan scan = GenerateSynthScan(o, i);
    marks[static_cast<std::size_t>(i)] = land.Prepare(scan.surface);
    land_ids[static_cast<std::size_t>(i)] = scan.land_id;
    std::lock_guard lock(mutex);
    progress.Tick(scan.file);
  });
  std::vector<std::pair<int, int>> km, knm;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      (land_ids[static_cast<std::size_t>(i)] == land_ids[static_cast<std::size_t>(j)] ? km : knm)
          .emplace_back(i, j);
  std::mt19937_64 rng(seed);
  std::shuffle(knm.begin(), knm.end(), rng);
  knm.resize(std::min(knm.size(), km.size() * static_cast<std::size_t>(args.knm_per_km)));
  std::vector<std::pair<int, int>> pairs = km;
  pairs.insert(pairs.end(), knm.begin(), knm.end());
  LandPairSet set;
  set.features = cv::Mat(static_cast<int>(pairs.size()), static_cast<int>(LandFeatureNames().size()), CV_32F);
  set.labels.resize(pairs.size());
  tbb::parallel_for(std::size_t{0}, pairs.size(), [&](std::size_t k) {
    const Comparison c = land.Compare(*marks[static_cast<std::size_t>(pairs[k].first)],
                                      *marks[static_cast<std::size_t>(pairs[k].second)]);
    for (int f = 0; f < set.features.cols; ++f)
      set.features.at<float>(static_cast<int>(k), f) =
          static_cast<float>(c.details[static_cast<std::size_t>(f)].second);
    set.labels[k] = k < km.size() ? 1 : 0;
  });
  return set;
}

// OpenCV's ml::LogisticRegression is not used: its batch gradient descent
// stops far from the optimum here (weights ~0.15 after 20,000 iterations).
cv::Mat FitLogistic(const cv::Mat& x, const std::vector<int>& y, double ridge) {
  const int n = x.rows, d = x.cols + 1;
  cv::Mat theta = cv::Mat::zeros(1, d, CV_64F);
  for (int iteration = 0; iteration < 50; ++iteration) {
    cv::Mat hessian = cv::Mat::eye(d, d, CV_64F) * ridge, gradient = theta.t() * ridge;
    gradient.at<double>(0) = 0;
    hessian.at<double>(0, 0) = 1e-12;
    std::vector<double> row(static_cast<std::size_t>(d));
    for (int r = 0; r < n; ++r) {
      row[0] = 1;
      for (int f = 1; f < d; ++f) row[static_cast<std::size_t>(f)] = x.at<float>(r, f - 1);
      double z = 0;
      for (int f = 0; f < d; ++f) z += theta.at<double>(0, f) * row[static_cast<std::size_t>(f)];
      const double p = 1.0 / (1.0 + std::exp(-z)), w = std::max(p * (1 - p), 1e-12);
      for (int i = 0; i < d; ++i) {
        gradient.at<double>(i) += (p - y[static_cast<std::size_t>(r)]) * row[static_cast<std::size_t>(i)];
        for (int j = 0; j < d; ++j)
          hessian.at<double>(i, j) += w * row[static_cast<std::size_t>(i)] * row[static_cast<std::size_t>(j)];
      }
    }
    cv::Mat step;
    cv::solve(hessian, gradient, step, cv::DECOMP_SVD);
    theta -= step.t();
    if (cv::norm(step) < 1e-9) break;
  }
  return theta;
}

}  // namespace toolmark::eval
