// The calibrations shipped with Toolmark: score → log10 LR per comparator and
// level, fitted by `toolmark calibrate` on synthetic data only (never on the
// real datasets they are evaluated on). Method: docs/calibration.md.
#include <cstddef>
#include <optional>
#include <string>

#include "toolmark/engine/calibration.h"

namespace toolmark {
namespace {

/// One shipped calibration (the constants `toolmark calibrate --print-cc` prints).
struct Shipped {
  const char* comparator;
  const char* level;
  const char* transform;
  double intercept, slope;  ///< log10 LR = intercept + slope · g(score)
  double min_log10_lr, max_log10_lr;
  const char* set;
  const char* command;
  const char* fitted_at;
  const char* toolmark_version;
  std::size_t km, knm;
};

// Each entry: the command whose scores it was fitted on. The scores were
// saved with --scores-out and refitted with --scores once the transform was
// chosen (held-out Cllr, docs/calibration.md); refitting from the saved scores
// gives the same numbers bit for bit as running the command alone (the fit
// depends only on the scores). Held-out sets: the same command with
// --seed 42. Seeds 41/42 are none of the documented evaluation (7, 11, 12,
// 21, 5) or train-land (101, 202) seeds. Changing these numbers changes
// every LR reported.
// Withdrawn: a cartridge-case (cmc, pair) calibration was fitted the same way
// (toolmark calibrate --comparator cmc --level pair --firearms 25
// --per-firearm 4 --seed 41 --difficulty realistic,hard --max-pairs 1500:
// log10 LR = -2.707 + 0.0948 · score, bounds [-2.06, 2.32]; synthetic
// held-out Cllr 0.176) and is NOT shipped: on the real scans it is
// misleading — Fadul Cllr 1.51, images2d 2.48 (worse than no LR; known
// matches got LRs of 1/115 to 1/2.2), because synthetic non-matches reach
// 40+ CMCs through shared subclass marks. Cartridge-case LRs need a
// calibration fitted on the lab's own test fires (toolmark calibrate DATASET
// --out FILE; --calibration FILE). docs/calibration.md.
constexpr Shipped kShipped[] = {
    // Bullet lands, the land score (one land against another).
    // Fitting set: 1800 KM, 398200 KNM: Cllr 0.2356 bits (min 0.2260, AUC 0.9761);
    // held out (seed 42): Cllr 0.2150 (min 0.2004, AUC 0.9794); realistic 0.0575, hard 0.3726.
    {"land", "pair", "logit", 0.55064747388517388, 0.41969316698924153, -1.6151812040437923,
     4.9378747005350485, "synthetic bullet realistic+hard 50x3 seed 41",
     "toolmark calibrate --comparator land --level pair --firearms 50 --per-firearm 3 --seed 41 "
     "--difficulty realistic,hard --max-pairs 200000",
     "2026-11-29T09:21:46Z", "0.1.0", 1800, 398200},
    // Bullets (6 lands each), the bullet score.
    // Fitting set: 300 KM, 22050 KNM: Cllr 0.0247 bits (min 0.0078, AUC 0.99996);
    // held out (seed 42): Cllr 0.0114 (min 0.0007, AUC 0.999999).
    {"land", "bullet", "identity", -2.8081592718757418, 8.2716321327422566, -2.2631495389176957,
     4.1367034001947784, "synthetic bullet realistic+hard 50x3 seed 41",
     "toolmark calibrate --comparator land --level bullet --firearms 50 --per-firearm 3 --seed 41 "
     "--difficulty realistic,hard --max-pairs 200000",
     "2026-11-29T09:21:46Z", "0.1.0", 300, 22050},
};

}  // namespace

std::optional<Calibration> DefaultCalibration(const std::string& comparator, const std::string& level) {
  for (const Shipped& s : kShipped) {
    if (comparator != s.comparator || level != s.level) continue;
    Calibration c;
    c.comparator = s.comparator;
    c.level = s.level;
    c.method = "logistic";
    c.transform = s.transform;
    c.parameters = {s.intercept, s.slope};
    c.min_log10_lr = s.min_log10_lr;
    c.max_log10_lr = s.max_log10_lr;
    c.provenance = {s.set, s.command, s.fitted_at, s.toolmark_version, s.km, s.knm};
    return c;
  }
  return std::nullopt;
}

}  // namespace toolmark
