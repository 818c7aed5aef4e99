// The land score: a logistic model over the standardised land features.
//
// Provenance: fitted by `toolmark train-land` (tools/toolmark/cmd_train.cc) on
// synthetic bullets only (never on the real datasets it is then evaluated
// on); the command, seed and held-out accuracy are in docs/bullets.md.
// Command: toolmark train-land --firearms 50 (defaults: --per-firearm 3
// --seed 101 --test-seed 202 --difficulty realistic,hard --knm-per-km 4
// --ridge 1): 9000 training pairs; held-out (seed 202) AUC 0.9755, EER 0.077
// (cross-correlation alone: AUC 0.9715, EER 0.093; random forest 0.9715).
// Changing these numbers changes every land score (the engine version goes up
// with them).
#include <cmath>
#include <cstddef>

#include "toolmark/engine/land.h"

namespace toolmark {
namespace {

// Feature order: LandFeatureNames().
constexpr std::size_t kFeatures = 10;
constexpr double kMean[kFeatures] = {0.425964787, 0.26233814, 0.705246692, 0.966751421, 0.783028656,
                                     14.511475,   30.0433643, 4.364,       9.06644444,  22.9288421};
constexpr double kScale[kFeatures] = {0.174663578, 0.233055283, 0.15223965, 0.178617694, 0.149821484,
                                      6.03382389,  11.7669405,  4.02115981, 4.62666506,  8.75147592};
constexpr double kWeight[kFeatures] = {1.2296708,   1.51915556,   0.495105505, -0.7310562,  0.153692003,
                                       0.236697234, -0.619422335, 1.65052168,  0.254768581, -0.618316853};
constexpr double kBias = -2.26922926;

}  // namespace

double LandScore(const LandFeatures& features) {
  const std::vector<double> x = features.Vector();
  double z = kBias;
  for (std::size_t i = 0; i < kFeatures; ++i) z += kWeight[i] * (x[i] - kMean[i]) / kScale[i];
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace toolmark
