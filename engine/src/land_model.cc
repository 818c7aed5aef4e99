// The land score: a logistic model over the standardised land features.
//
// Provenance: fitted by `toolmark train-land` (tools/toolmark/cmd_train.cc) on
// synthetic bullets only (never on the real datasets it is then evaluated
// on); the command, seed and held-out accuracy are in docs/bullets.md.
// Command: toolmark train-land --firearms 50 (defaults: --per-firearm 3
// --seed 101 --test-seed 202 --difficulty realistic,hard --knm-per-km 4
// --ridge 1): 9000 training pairs; held-out (seed 202) AUC 0.9898, EER 0.031
// (cross-correlation alone: AUC 0.9898, EER 0.035). Changing these numbers
// changes every land score (the engine version goes up with them).
#include <cmath>
#include <cstddef>

#include "toolmark/engine/land.h"

namespace toolmark {
namespace {

// Feature order: LandFeatureNames().
constexpr std::size_t kFeatures = 10;
constexpr double kMean[kFeatures] = {0.492292265, 0.252533601, 0.707881559, 0.898150814, 0.760218294,
                                     13.0861914,  23.9611991,  5.13355556,  8.014,       20.9071931};
constexpr double kScale[kFeatures] = {0.206078867, 0.25001581, 0.150627549, 0.222083998, 0.165360673,
                                      5.10210334,  11.0884206, 5.38226993,  4.43005187,  7.02901995};
constexpr double kWeight[kFeatures] = {1.51739256, 0.601849544, 0.625033768, -2.32692949, 0.143355038,
                                       1.20024289, 0.110658374, 1.63832756,  0.341765496, -0.507190431};
constexpr double kBias = -2.83467032;

}  // namespace

double LandScore(const LandFeatures& features) {
  const std::vector<double> x = features.Vector();
  double z = kBias;
  for (std::size_t i = 0; i < kFeatures; ++i) z += kWeight[i] * (x[i] - kMean[i]) / kScale[i];
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace toolmark
