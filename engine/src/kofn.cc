// The k-of-n likelihood ratio (toolmark/engine/kofn.h).
#include "toolmark/engine/kofn.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

constexpr double kLn10 = 2.302585092994046;
constexpr double kMinLog = -7, kMaxLog = 14;  ///< bounds of ln α and ln β (e^14: as good as binomial)

/// ln Γ(x) without the global `signgam` std::lgamma may write (thread safe).
double LogGamma(double x) {
  int sign = 0;
  return lgamma_r(x, &sign);
}

double LogBeta(double a, double b) { return LogGamma(a) + LogGamma(b) - LogGamma(a + b); }

/// Mean log kernel of the counts at (ln α, ln β), clamped into the bounds.
double MeanLogLikelihood(const std::vector<std::pair<int, int>>& counts, double la, double lb) {
  const BetaBinomial d{std::exp(std::clamp(la, kMinLog, kMaxLog)),
                       std::exp(std::clamp(lb, kMinLog, kMaxLog))};
  double sum = 0;
  for (const auto& [k, n] : counts) sum += d.LogKernel(k, n);
  return sum / static_cast<double>(counts.size());
}

/// Method-of-moments start (ln α, ln β): the pooled rate and the spread of
/// the per-comparison rates beyond the binomial's.
std::array<double, 2> MomentStart(const std::vector<std::pair<int, int>>& counts) {
  double k_sum = 0, n_sum = 0;
  for (const auto& [k, n] : counts) k_sum += k, n_sum += n;
  const double p = std::clamp(k_sum / n_sum, 1e-3, 1 - 1e-3);
  double var = 0;
  for (const auto& [k, n] : counts) var += (k / double(n) - p) * (k / double(n) - p);
  var /= static_cast<double>(counts.size());
  const double total = std::clamp(p * (1 - p) / std::max(var, 1e-9) - 1, 0.5, 1e3);  // α + β
  return {std::log(p * total), std::log((1 - p) * total)};
}

}  // namespace

double BetaBinomial::LogKernel(int k, int n) const {
  return LogBeta(k + alpha, n - k + beta) - LogBeta(alpha, beta);
}

BetaBinomial FitBetaBinomial(const std::vector<std::pair<int, int>>& counts) {
  Check(!counts.empty(), "k-of-n fit: no counts");
  for (const auto& [k, n] : counts)
    Check(n >= 1 && k >= 0 && k <= n,
          "k-of-n fit: count " + std::to_string(k) + " of " + std::to_string(n) + " is out of range");
  // Nelder–Mead, maximising the mean log likelihood; a fixed start and fixed
  // coefficients make it deterministic.
  using Point = std::array<double, 2>;
  const auto f = [&](const Point& x) { return -MeanLogLikelihood(counts, x[0], x[1]); };
  const Point s = MomentStart(counts);
  std::array<Point, 3> p = {s, Point{s[0] + 0.5, s[1]}, Point{s[0], s[1] + 0.5}};
  std::array<double, 3> v = {f(p[0]), f(p[1]), f(p[2])};
  for (int iter = 0; iter < 2000; ++iter) {
    std::array<int, 3> o = {0, 1, 2};
    std::sort(o.begin(), o.end(), [&](int a, int b) { return v[a] < v[b] || (v[a] == v[b] && a < b); });
    const int best = o[0], mid = o[1], worst = o[2];
    if (v[worst] - v[best] < 1e-12) break;
    const Point c = {(p[best][0] + p[mid][0]) / 2, (p[best][1] + p[mid][1]) / 2};
    const auto along = [&](double t) {
      return Point{c[0] + t * (p[worst][0] - c[0]), c[1] + t * (p[worst][1] - c[1])};
    };
    const Point r = along(-1);
    const double fr = f(r);
    if (fr < v[best]) {
      const Point e = along(-2);
      const double fe = f(e);
      if (fe < fr)
        p[worst] = e, v[worst] = fe;
      else
        p[worst] = r, v[worst] = fr;
    } else if (fr < v[mid]) {
      p[worst] = r, v[worst] = fr;
    } else {
      const Point k = along(fr < v[worst] ? -0.5 : 0.5);
      const double fk = f(k);
      if (fk < std::min(fr, v[worst])) {
        p[worst] = k, v[worst] = fk;
      } else {  // shrink towards the best
        for (int i : {mid, worst}) {
          p[i] = {(p[i][0] + p[best][0]) / 2, (p[i][1] + p[best][1]) / 2};
          v[i] = f(p[i]);
        }
      }
    }
  }
  int best = 0;
  for (int i = 1; i < 3; ++i)
    if (v[i] < v[best]) best = i;
  return {std::exp(std::clamp(p[best][0], kMinLog, kMaxLog)),
          std::exp(std::clamp(p[best][1], kMinLog, kMaxLog))};
}

double KOfNModel::Log10Lr(int k, int n) const {
  return (same_source.LogKernel(k, n) - different_source.LogKernel(k, n)) / kLn10;
}

KOfNModel FitKOfN(const std::vector<std::pair<int, int>>& same_source,
                  const std::vector<std::pair<int, int>>& different_source) {
  return {FitBetaBinomial(same_source), FitBetaBinomial(different_source)};
}

}  // namespace toolmark
