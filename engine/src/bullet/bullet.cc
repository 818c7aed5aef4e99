// Bullet-to-bullet: cyclic phase alignment of a land score matrix.
#include <algorithm>
#include <cmath>
#include <limits>

#include "toolmark/engine/check.h"
#include "toolmark/engine/land.h"

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Welch's t of sample x against sample y (0 when either has < 2 values).
double WelchT(const std::vector<double>& x, const std::vector<double>& y) {
  const auto stats = [](const std::vector<double>& v, double* mean, double* var) {
    double s = 0;
    for (double a : v) s += a;
    *mean = s / static_cast<double>(v.size());
    double ss = 0;
    for (double a : v) ss += (a - *mean) * (a - *mean);
    *var = ss / static_cast<double>(v.size() - 1);
  };
  if (x.size() < 2 || y.size() < 2) return 0;
  double mx, vx, my, vy;
  stats(x, &mx, &vx);
  stats(y, &my, &vy);
  const double se = std::sqrt(vx / static_cast<double>(x.size()) + vy / static_cast<double>(y.size()));
  return se > 0 ? (mx - my) / se : 0;
}

}  // namespace

BulletComparison CompareBullets(const std::vector<std::vector<double>>& land_scores,
                                const std::vector<int>& positions_a, const std::vector<int>& positions_b,
                                int lands) {
  Check(land_scores.size() == positions_a.size(), "bullet comparison: one score row per land of A needed");
  for (const auto& row : land_scores)
    Check(row.size() == positions_b.size(), "bullet comparison: one score column per land of B needed");
  Check(!positions_a.empty() && !positions_b.empty(), "bullet comparison: a bullet has no lands");
  int largest = 0;
  for (int p : positions_a)
    Check(p >= 0, "bullet comparison: negative land position"), largest = std::max(largest, p);
  for (int p : positions_b)
    Check(p >= 0, "bullet comparison: negative land position"), largest = std::max(largest, p);
  if (lands <= 0) lands = largest + 1;
  Check(lands > largest, "bullet comparison: a land position is not below the land count");

  BulletComparison out;
  out.land_scores = land_scores;
  out.lands = lands;
  out.phase_means.assign(static_cast<std::size_t>(lands), kNaN);
  double best = -std::numeric_limits<double>::infinity();
  for (int phase = 0; phase < lands; ++phase) {
    double sum = 0;
    int count = 0;
    for (std::size_t i = 0; i < positions_a.size(); ++i) {
      for (std::size_t j = 0; j < positions_b.size(); ++j) {
        if (positions_b[j] != (positions_a[i] + phase) % lands || !std::isfinite(land_scores[i][j])) continue;
        sum += land_scores[i][j];
        ++count;
      }
    }
    if (count == 0) continue;
    out.phase_means[static_cast<std::size_t>(phase)] = sum / count;
    if (sum / count > best) best = sum / count, out.phase = phase;
  }
  Check(std::isfinite(best), "bullet comparison: no land pair has a score");
  out.bullet_score = best;
  std::vector<double> on_phase, off_phase;
  for (std::size_t i = 0; i < positions_a.size(); ++i) {
    for (std::size_t j = 0; j < positions_b.size(); ++j) {
      if (!std::isfinite(land_scores[i][j])) continue;
      if (positions_b[j] == (positions_a[i] + out.phase) % lands) {
        on_phase.push_back(land_scores[i][j]);
        out.matched.emplace_back(static_cast<int>(i), static_cast<int>(j));
      } else {
        off_phase.push_back(land_scores[i][j]);
      }
    }
  }
  double others = 0;
  int other_count = 0;
  for (int phase = 0; phase < lands; ++phase) {
    const double m = out.phase_means[static_cast<std::size_t>(phase)];
    if (phase != out.phase && std::isfinite(m)) others += m, ++other_count;
  }
  out.phase_gap = other_count > 0 ? best - others / other_count : 0;
  out.phase_t = WelchT(on_phase, off_phase);
  return out;
}

}  // namespace toolmark
