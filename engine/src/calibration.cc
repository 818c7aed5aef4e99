// Score → log10 likelihood ratio: fitting (logistic, prior-corrected, Platt
// targets), ELUB bounds, Cllr and min Cllr. Method and its sources:
// docs/calibration.md.
#include "toolmark/engine/calibration.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "toolmark/engine/check.h"
#include "toolmark/engine/kofn.h"
#include "toolmark/engine/registry.h"

namespace toolmark {
namespace {

constexpr double kLn10 = 2.302585092994045684;
constexpr double kLn2 = 0.693147180559945309;
/// Newton iterations of the logistic fit (it converges in < 15 on every set tried).
constexpr int kMaxNewtonIterations = 100;

bool KnownTransform(const std::string& t) { return t == "identity" || t == "log1p" || t == "logit"; }
bool KnownLevel(const std::string& l) { return l == "pair" || l == "bullet"; }

/// g(score) of the transform; non-decreasing; ±∞ stay ±∞ (identity, log1p).
double Transform(const std::string& transform, double s) {
  if (transform == "log1p") return std::log1p(std::max(s, 0.0));
  if (transform == "logit") {
    const double p = std::clamp(s, kLogitEpsilon, 1 - kLogitEpsilon);
    return std::log(p / (1 - p));
  }
  return s;
}

/// ln(1 + e^y) without overflow; +∞ for y = +∞, 0 for y = −∞.
double Softplus(double y) { return y > 0 ? y + std::log1p(std::exp(-y)) : std::log1p(std::exp(y)); }

void CheckClasses(const std::vector<double>& km, const std::vector<double>& knm, const char* what) {
  Check(!km.empty() && !knm.empty(), std::string(what) + ": needs known-match and known-non-match values");
  for (const auto* v : {&km, &knm})
    for (double x : *v) Check(!std::isnan(x), std::string(what) + ": NaN value");
}

/// A logistic fit z = alpha + beta · x (natural log odds) of weighted,
/// soft-labelled points, by Newton's method with step halving.
struct LogisticFit {
  double alpha = 0, beta = 0;
};

/// Minimises Σ w_i [softplus(z_i) − t_i z_i] over (alpha, beta); x must not be constant.
LogisticFit FitWeightedLogistic(const std::vector<double>& x, const std::vector<double>& w,
                                const std::vector<double>& t) {
  const auto loss = [&](double a, double b) {
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double z = a + b * x[i];
      sum += w[i] * (Softplus(z) - t[i] * z);
    }
    return sum;
  };
  LogisticFit f;
  double current = loss(f.alpha, f.beta);
  for (int it = 0; it < kMaxNewtonIterations; ++it) {
    double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double z = f.alpha + f.beta * x[i];
      const double p = 1 / (1 + std::exp(-z)), v = w[i] * std::max(p * (1 - p), 1e-300);
      g0 += w[i] * (p - t[i]);
      g1 += w[i] * (p - t[i]) * x[i];
      h00 += v;
      h01 += v * x[i];
      h11 += v * x[i] * x[i];
    }
    const double det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    const double da = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
    double step = 1;
    double next = loss(f.alpha - da, f.beta - db);
    while (!(next <= current) && step > 1e-10) {  // step halving keeps the loss from rising
      step /= 2;
      next = loss(f.alpha - step * da, f.beta - step * db);
    }
    if (!(next <= current)) break;
    f.alpha -= step * da;
    f.beta -= step * db;
    const bool converged =
        std::abs(step * da) + std::abs(step * db) < 1e-12 * (1 + std::abs(f.alpha) + std::abs(f.beta));
    current = next;
    if (converged) break;
  }
  return f;
}

/// Number of values ≤ x in a sorted list.
std::size_t CountAtMost(const std::vector<double>& sorted, double x) {
  return static_cast<std::size_t>(std::upper_bound(sorted.begin(), sorted.end(), x) - sorted.begin());
}

double ElubUpper(const std::vector<double>& km, const std::vector<double>& knm) {
  // Threshold t ≥ 1 (LR scale); accept when LR > t. Expected cost with one
  // misleading LR of each kind added: (r + 1)/(n1 + 1) + t (a + 1)/(n0 + 1),
  // r = KM with LR ≤ t, a = KNM with LR > t; LR = 1 everywhere costs 1.
  // U = inf{t ≥ 1 : cost(t) > 1}. Between breakpoints the cost is linear in t.
  std::vector<double> breaks;
  for (const auto* v : {&km, &knm})
    for (double x : *v)
      if (std::isfinite(x) && x > 0) breaks.push_back(x);
  std::sort(breaks.begin(), breaks.end());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
  const double n1 = static_cast<double>(km.size()), n0 = static_cast<double>(knm.size());
  double lo = 0;
  for (std::size_t k = 0;; ++k) {
    const double hi = k < breaks.size() ? breaks[k] : std::numeric_limits<double>::infinity();
    const double r = static_cast<double>(CountAtMost(km, lo));
    const double a = n0 - static_cast<double>(CountAtMost(knm, lo));
    const double A = (r + 1) / (n1 + 1), B = (a + 1) / (n0 + 1);
    if (A + std::pow(10.0, lo) * B > 1) return lo;
    const double crossing = std::log10((1 - A) / B);
    if (crossing < hi) return crossing;
    lo = hi;
  }
}

double ElubLower(const std::vector<double>& km, const std::vector<double>& knm) {
  // Threshold t ≤ 1; LR = 1 everywhere accepts all and costs t. The system
  // is worse where (r + 1)/(n1 + 1) + t (a + 1)/(n0 + 1) > t, i.e. where
  // t < A / (1 − B). L = sup of those t. Walk down from t = 1.
  const double n1 = static_cast<double>(km.size()), n0 = static_cast<double>(knm.size());
  const auto coefficients = [&](double x, double* A, double* B) {
    *A = (static_cast<double>(CountAtMost(km, x)) + 1) / (n1 + 1);
    *B = (n0 - static_cast<double>(CountAtMost(knm, x)) + 1) / (n0 + 1);
  };
  double A = 0, B = 0;
  coefficients(0, &A, &B);
  if (A + B > 1) return 0;
  std::vector<double> breaks;
  for (const auto* v : {&km, &knm})
    for (double x : *v)
      if (std::isfinite(x) && x < 0) breaks.push_back(x);
  std::sort(breaks.begin(), breaks.end(), std::greater<>());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
  double hi = 0;
  for (std::size_t k = 0;; ++k) {
    const double lo = k < breaks.size() ? breaks[k] : -std::numeric_limits<double>::infinity();
    coefficients(lo, &A, &B);  // constant on [lo, hi)
    if (B >= 1) return hi;     // every t here is worse than LR = 1
    const double c = std::log10(A / (1 - B));
    if (c > lo) return std::min(hi, c);
    hi = lo;
  }
}

}  // namespace

std::string DefaultTransform(const std::string& comparator, const std::string& level) {
  // A probability-like score is fitted on its log-odds; a bullet score (a mean of
  // land scores over a phase) and counts and correlations as they are.
  const ComparatorInfo* c = FindComparator(comparator);
  if (c != nullptr && c->scale == ScoreScale::kProbability && level == "pair") return "logit";
  return "identity";
}

namespace {

KOfNModel KOfNOf(const std::vector<double>& p) {
  return {BetaBinomial{p[0], p[1]}, BetaBinomial{p[2], p[3]}};
}

}  // namespace

double Calibration::Log10LrOfCount(int k, int n) const {
  if (!NeedsTrials()) return Log10Lr(k);
  toolmark::Check(n >= 1 && k >= 0 && k <= n && parameters.size() == 4,
                  "k-of-n calibration: bad count or parameters");
  return std::clamp(KOfNOf(parameters).Log10Lr(k, n), min_log10_lr, max_log10_lr);
}

std::optional<std::pair<double, double>> Calibration::Log10LrIntervalOfCount(int k, int n) const {
  if (!NeedsTrials() || replicates.empty()) return std::nullopt;
  toolmark::Check(n >= 1 && k >= 0 && k <= n, "k-of-n calibration: bad count");
  std::vector<double> v;
  for (const std::vector<double>& r : replicates)
    v.push_back(std::clamp(KOfNOf(r).Log10Lr(k, n), min_log10_lr, max_log10_lr));
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) {
    return v[static_cast<std::size_t>(std::floor(q * static_cast<double>(v.size() - 1)))];
  };
  return std::pair{at(0.05), at(0.95)};
}

Calibration FitKOfNCalibration(const std::vector<std::pair<int, int>>& km_counts,
                               const std::vector<std::pair<int, int>>& knm_counts,
                               const std::string& comparator, const std::string& level,
                               CalibrationProvenance provenance, int replicates) {
  Check(km_counts.size() >= kMinCalibrationScores && knm_counts.size() >= kMinCalibrationScores,
        "calibration needs at least " + std::to_string(kMinCalibrationScores) +
            " known-match and known-non-match counts");
  Calibration c;
  c.comparator = comparator;
  c.level = level;
  c.method = "kofn";
  provenance.km = km_counts.size();
  provenance.knm = knm_counts.size();
  c.provenance = std::move(provenance);
  const KOfNModel m = FitKOfN(km_counts, knm_counts);
  c.parameters = {m.same_source.alpha, m.same_source.beta, m.different_source.alpha, m.different_source.beta};
  std::vector<double> lkm, lknm;
  for (const auto& [k, n] : km_counts) lkm.push_back(m.Log10Lr(k, n));
  for (const auto& [k, n] : knm_counts) lknm.push_back(m.Log10Lr(k, n));
  const auto [lo, hi] = ElubBounds(lkm, lknm);
  c.min_log10_lr = std::max(lo, -kMaxAbsLog10Lr);
  c.max_log10_lr = std::min(hi, kMaxAbsLog10Lr);
  // Bootstrap: a fixed mt19937_64 stream (its output is fixed by the standard)
  // and an explicit modulo, so the replicates are the same everywhere.
  std::mt19937_64 rng(0x6b6f666eULL);  // "kofn"
  const auto resample = [&](const std::vector<std::pair<int, int>>& v) {
    std::vector<std::pair<int, int>> out(v.size());
    for (auto& x : out) x = v[static_cast<std::size_t>(rng() % v.size())];
    return out;
  };
  for (int r = 0; r < replicates; ++r) {
    const KOfNModel b = FitKOfN(resample(km_counts), resample(knm_counts));
    c.replicates.push_back(
        {b.same_source.alpha, b.same_source.beta, b.different_source.alpha, b.different_source.beta});
  }
  c.Check();
  return c;
}

double Calibration::Log10Lr(double score) const {
  toolmark::Check(!NeedsTrials(),
                  "a k-of-n calibration needs the count and the number of cells compared, not a score");
  if (std::isnan(score) || parameters.size() != 2) return 0;
  double v = parameters[0];
  if (parameters[1] != 0) v += parameters[1] * Transform(transform, score);
  if (std::isnan(v)) return 0;
  return std::clamp(v, min_log10_lr, max_log10_lr);
}

void Calibration::Check() const {
  const std::string what = "calibration of '" + comparator + "' (" + level + ")";
  toolmark::Check(!comparator.empty(), "calibration: no comparator");
  toolmark::Check(KnownLevel(level), what + ": unknown level (pair or bullet)");
  toolmark::Check(method == "logistic" || method == "kofn",
                  what + ": unknown method '" + method + "' (logistic or kofn)");
  toolmark::Check(KnownTransform(transform),
                  what + ": unknown transform '" + transform + "' (identity, log1p or logit)");
  const std::size_t want = method == "kofn" ? 4 : 2;
  toolmark::Check(parameters.size() == want, what + ": needs " + std::to_string(want) + " parameters, has " +
                                                 std::to_string(parameters.size()));
  for (double p : parameters) toolmark::Check(std::isfinite(p), what + ": parameters not finite");
  if (method == "logistic") {
    toolmark::Check(parameters[1] >= 0, what + ": negative slope (LRs would fall as scores rise)");
    toolmark::Check(replicates.empty(), what + ": a logistic calibration has no replicates");
  }
  if (method == "kofn") {
    for (double p : parameters) toolmark::Check(p > 0, what + ": beta-binomial parameters must be > 0");
    toolmark::Check(replicates.size() <= 10000, what + ": too many replicates");
    for (const std::vector<double>& r : replicates) {
      toolmark::Check(r.size() == 4, what + ": a replicate needs 4 parameters");
      for (double p : r)
        toolmark::Check(std::isfinite(p) && p > 0, what + ": replicate parameters must be > 0");
    }
  }
  toolmark::Check(std::isfinite(min_log10_lr) && std::isfinite(max_log10_lr) && min_log10_lr <= 0 &&
                      max_log10_lr >= 0 && min_log10_lr >= -kMaxAbsLog10Lr && max_log10_lr <= kMaxAbsLog10Lr,
                  what + ": bounds must be finite with min <= 0 <= max, within +-" +
                      std::to_string(static_cast<int>(kMaxAbsLog10Lr)));
  toolmark::Check(!provenance.set.empty(), what + ": no calibration set named in its provenance");
}

Calibration FitCalibration(const std::vector<double>& km_scores, const std::vector<double>& knm_scores,
                           const std::string& comparator, const std::string& level,
                           CalibrationProvenance provenance, const std::string& transform) {
  Check(km_scores.size() >= kMinCalibrationScores && knm_scores.size() >= kMinCalibrationScores,
        "calibration needs at least " + std::to_string(kMinCalibrationScores) +
            " known-match and known-non-match scores (has " + std::to_string(km_scores.size()) + " and " +
            std::to_string(knm_scores.size()) + ")");
  for (const auto* v : {&km_scores, &knm_scores})
    for (double s : *v) Check(std::isfinite(s), "calibration: score not finite");
  Calibration c;
  c.comparator = comparator;
  c.level = level;
  c.transform = transform.empty() ? DefaultTransform(comparator, level) : transform;
  Check(KnownLevel(level), "calibration: unknown level '" + level + "' (pair or bullet)");
  Check(KnownTransform(c.transform), "calibration: unknown transform '" + c.transform + "'");

  // Sorted transformed scores: the sums below do not depend on input order.
  std::vector<double> gkm, gknm;
  for (double s : km_scores) gkm.push_back(Transform(c.transform, s));
  for (double s : knm_scores) gknm.push_back(Transform(c.transform, s));
  std::sort(gkm.begin(), gkm.end());
  std::sort(gknm.begin(), gknm.end());
  const double n1 = static_cast<double>(gkm.size()), n0 = static_cast<double>(gknm.size());

  // Equal class weights (prior correction) and Platt's targets.
  std::vector<double> x, w, t;
  for (double g : gkm) x.push_back(g), w.push_back(0.5 / n1), t.push_back((n1 + 1) / (n1 + 2));
  for (double g : gknm) x.push_back(g), w.push_back(0.5 / n0), t.push_back(1 / (n0 + 2));
  double mean = 0, var = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mean += w[i] * x[i];
  for (std::size_t i = 0; i < x.size(); ++i) var += w[i] * (x[i] - mean) * (x[i] - mean);
  const double scale = std::sqrt(var);
  double intercept = 0, slope = 0;  // log10 units
  if (scale > 0) {
    std::vector<double> xs(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) xs[i] = (x[i] - mean) / scale;
    const LogisticFit f = FitWeightedLogistic(xs, w, t);
    if (f.beta > 0) {
      slope = f.beta / scale / kLn10;
      intercept = (f.alpha - f.beta * mean / scale) / kLn10;
    }
  }
  c.parameters = {intercept, slope};
  c.min_log10_lr = c.max_log10_lr = 0;
  std::vector<double> lkm, lknm;  // unbounded fitted log10 LRs of the fitting set
  for (double g : gkm) lkm.push_back(intercept + slope * g);
  for (double g : gknm) lknm.push_back(intercept + slope * g);
  const auto [lower, upper] = ElubBounds(lkm, lknm);
  c.min_log10_lr = std::max(lower, -kMaxAbsLog10Lr);
  c.max_log10_lr = std::min(upper, kMaxAbsLog10Lr);
  provenance.km = km_scores.size();
  provenance.knm = knm_scores.size();
  c.provenance = std::move(provenance);
  return c;
}

std::pair<double, double> ElubBounds(const std::vector<double>& km_log10_lr,
                                     const std::vector<double>& knm_log10_lr) {
  CheckClasses(km_log10_lr, knm_log10_lr, "ELUB bounds");
  std::vector<double> km = km_log10_lr, knm = knm_log10_lr;
  std::sort(km.begin(), km.end());
  std::sort(knm.begin(), knm.end());
  return {ElubLower(km, knm), ElubUpper(km, knm)};
}

double Cllr(const std::vector<double>& km_log10_lr, const std::vector<double>& knm_log10_lr) {
  CheckClasses(km_log10_lr, knm_log10_lr, "Cllr");
  std::vector<double> km = km_log10_lr, knm = knm_log10_lr;  // sorted: order-free sums
  std::sort(km.begin(), km.end());
  std::sort(knm.begin(), knm.end());
  double s1 = 0, s0 = 0;
  for (double x : km) s1 += Softplus(-x * kLn10);  // ln(1 + 1/LR)
  for (double x : knm) s0 += Softplus(x * kLn10);  // ln(1 + LR)
  return (s1 / static_cast<double>(km.size()) + s0 / static_cast<double>(knm.size())) / (2 * kLn2);
}

double MinCllr(const std::vector<double>& km_scores, const std::vector<double>& knm_scores) {
  CheckClasses(km_scores, knm_scores, "min Cllr");
  // Blocks of tied scores in ascending order, then pool adjacent violators
  // until the share of known matches is non-decreasing.
  std::vector<std::pair<double, bool>> all;
  for (double s : km_scores) all.emplace_back(s, true);
  for (double s : knm_scores) all.emplace_back(s, false);
  std::sort(all.begin(), all.end());
  struct Block {
    double km = 0, knm = 0;
  };
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i == 0 || all[i].first != all[i - 1].first) blocks.push_back({});
    (all[i].second ? blocks.back().km : blocks.back().knm) += 1;
  }
  std::vector<Block> pooled;
  for (const Block& b : blocks) {
    pooled.push_back(b);
    while (pooled.size() > 1) {
      const Block& r = pooled.back();
      const Block& l = pooled[pooled.size() - 2];
      if (l.km * (r.km + r.knm) <= r.km * (l.km + l.knm)) break;  // share(l) ≤ share(r)
      const Block merged{l.km + r.km, l.knm + r.knm};
      pooled.pop_back();
      pooled.back() = merged;
    }
  }
  const double n1 = static_cast<double>(km_scores.size()), n0 = static_cast<double>(knm_scores.size());
  double s1 = 0, s0 = 0;  // bits
  for (const Block& b : pooled) {
    if (b.km > 0) s1 += b.km * std::log2(1 + b.knm * n1 / (b.km * n0));
    if (b.knm > 0) s0 += b.knm * std::log2(1 + b.km * n0 / (b.knm * n1));
  }
  return (s1 / n1 + s0 / n0) / 2;
}

}  // namespace toolmark
