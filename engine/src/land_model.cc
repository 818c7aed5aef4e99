// The land score: a logistic model over the standardised land features.
//
// Provenance: fitted by `toolmark train-land` (tools/toolmark/cmd_train.cc) on
// synthetic bullets only (never on the real datasets it is then evaluated
// on); the command, seed and held-out accuracy are in docs/bullets.md.
// Changing these numbers changes every land score: bump kLandModelVersion.
#include <cmath>
#include <cstddef>

#include "toolmark/engine/land.h"

namespace toolmark {
namespace {

// Feature order: LandFeatureNames().
constexpr std::size_t kFeatures = 10;
constexpr double kMean[kFeatures] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
constexpr double kScale[kFeatures] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
constexpr double kWeight[kFeatures] = {10, 0, 0, 0, 0, 0, 0, 0, 0, 0};
constexpr double kBias = -5;

}  // namespace

double LandScore(const LandFeatures& features) {
  const std::vector<double> x = features.Vector();
  double z = kBias;
  for (std::size_t i = 0; i < kFeatures; ++i) z += kWeight[i] * (x[i] - kMean[i]) / kScale[i];
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace toolmark
