// Training the land score model on synthetic bullets (toolmark
// train-land): land-pair features and a ridge logistic regression. Real
// datasets are never read: the model is trained on synthetic data only.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "toolmark/engine/comparator.h"

namespace toolmark::eval {

/// Land-pair features (rows, CV_32F, in LandFeatureNames order) and labels (1 = KM).
struct LandPairSet {
  cv::Mat features;  ///< CV_32F, one row per pair
  std::vector<int> labels;
};

/// The synthetic bullet set the pairs come from.
struct LandPairOptions {
  int firearms = 40, per_firearm = 3;
  int knm_per_km = 4;  ///< non-match pairs sampled per known match
};

/// Land features of all KM pairs (same barrel land) and knm_per_km × as many
/// KNM pairs, sampled with `seed`, of a synthetic bullet set of that seed
/// and difficulty, from the land comparator's details.
LandPairSet BuildLandPairs(const LandPairOptions& options, std::uint64_t seed, const std::string& difficulty,
                           const Comparator& land);

/// Maximum-likelihood logistic regression by Newton's method (iteratively
/// reweighted least squares) with an L2 penalty `ridge` on the weights (not
/// the bias); returns 1 × (features + 1): bias first.
cv::Mat FitLogistic(const cv::Mat& x, const std::vector<int>& y, double ridge);

}  // namespace toolmark::eval
