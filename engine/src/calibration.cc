// Score → log10 likelihood ratio: fitting (logistic, prior-corrected, Platt
// targets), ELUB bounds, Cllr and min Cllr. Method and its sources:
// docs/calibration.md.
#include "toolmark/engine/calibration.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <opencv2/core.hpp>
#include <random>
#include <tuple>

#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
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

/// Minimises Σ w_i [softplus(z_i) − t_i z_i], z_i = θ₀ + Σ_j θ_j x_ij (natural
/// log odds of weighted, soft-labelled points), by Newton's method with step
/// halving; returns θ (intercept first). The columns of x should be centred
/// and scaled; a singular Hessian stops the iteration where it is.
std::vector<double> FitWeightedLogistic(const std::vector<std::vector<double>>& x,
                                        const std::vector<double>& w, const std::vector<double>& t) {
  const int d = x.empty() ? 0 : static_cast<int>(x[0].size());
  std::vector<double> theta(static_cast<std::size_t>(d + 1), 0.0);
  const auto z_of = [&](const std::vector<double>& th, std::size_t i) {
    double z = th[0];
    for (int j = 0; j < d; ++j) z += th[static_cast<std::size_t>(j + 1)] * x[i][static_cast<std::size_t>(j)];
    return z;
  };
  const auto loss = [&](const std::vector<double>& th) {
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double z = z_of(th, i);
      sum += w[i] * (Softplus(z) - t[i] * z);
    }
    return sum;
  };
  double current = loss(theta);
  for (int it = 0; it < kMaxNewtonIterations; ++it) {
    cv::Mat g = cv::Mat::zeros(d + 1, 1, CV_64F), h = cv::Mat::zeros(d + 1, d + 1, CV_64F);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double p = 1 / (1 + std::exp(-z_of(theta, i))), v = w[i] * std::max(p * (1 - p), 1e-300);
      for (int j = 0; j <= d; ++j) {
        const double xj = j == 0 ? 1.0 : x[i][static_cast<std::size_t>(j - 1)];
        g.at<double>(j) += w[i] * (p - t[i]) * xj;
        for (int k = 0; k <= d; ++k)
          h.at<double>(j, k) += v * xj * (k == 0 ? 1.0 : x[i][static_cast<std::size_t>(k - 1)]);
      }
    }
    cv::Mat delta;
    if (!cv::solve(h, g, delta, cv::DECOMP_CHOLESKY)) break;
    double step = 1, next = 0;
    std::vector<double> trial(theta.size());
    for (;;) {
      for (std::size_t j = 0; j < theta.size(); ++j)
        trial[j] = theta[j] - step * delta.at<double>(static_cast<int>(j));
      next = loss(trial);
      if (next <= current || step <= 1e-10) break;
      step /= 2;  // step halving keeps the loss from rising
    }
    if (!(next <= current)) break;
    double moved = 0, size = 1;
    for (std::size_t j = 0; j < theta.size(); ++j)
      moved += std::abs(trial[j] - theta[j]), size += std::abs(trial[j]);
    theta = trial;
    current = next;
    if (moved < 1e-12 * size) break;
  }
  return theta;
}

/// Equal class weights (the prior corrected, so fitted log odds are log LRs)
/// and Platt's targets (finite under perfect separation) for n1 known
/// matches followed by n0 known non-matches.
void ClassWeights(std::size_t n1, std::size_t n0, std::vector<double>* w, std::vector<double>* t) {
  const double a = static_cast<double>(n1), b = static_cast<double>(n0);
  for (std::size_t i = 0; i < n1; ++i) w->push_back(0.5 / a), t->push_back((a + 1) / (a + 2));
  for (std::size_t i = 0; i < n0; ++i) w->push_back(0.5 / b), t->push_back(1 / (b + 2));
}

/// The weighted mean and standard deviation of column j.
std::pair<double, double> ColumnScale(const std::vector<std::vector<double>>& x, const std::vector<double>& w,
                                      std::size_t j) {
  double mean = 0, var = 0;
  for (std::size_t i = 0; i < x.size(); ++i) mean += w[i] * x[i][j];
  for (std::size_t i = 0; i < x.size(); ++i) var += w[i] * (x[i][j] - mean) * (x[i][j] - mean);
  return {mean, std::sqrt(var)};
}

/// Logistic regression of the class on the columns of x (rows: the known
/// matches, then the known non-matches), each column standardised for the
/// fit; the log10 LR model {intercept, slopes…} on the raw columns. A column
/// that is constant, or whose slope comes out negative (higher values not
/// more likely for known matches), is given slope 0 and the rest refitted, so
/// the model never falls as a feature rises.
std::vector<double> FitLog10LrModel(const std::vector<std::vector<double>>& x, std::size_t n1,
                                    std::size_t n0) {
  const std::size_t d = x.empty() ? 0 : x[0].size();
  std::vector<double> w, t;
  ClassWeights(n1, n0, &w, &t);
  std::vector<bool> active(d, true);
  for (;;) {
    std::vector<std::size_t> used;
    std::vector<std::pair<double, double>> scale;
    for (std::size_t j = 0; j < d; ++j) {
      const auto ms = ColumnScale(x, w, j);
      if (active[j] && ms.second > 0) used.push_back(j), scale.push_back(ms);
    }
    std::vector<std::vector<double>> xs(x.size(), std::vector<double>(used.size()));
    for (std::size_t i = 0; i < x.size(); ++i)
      for (std::size_t k = 0; k < used.size(); ++k)
        xs[i][k] = (x[i][used[k]] - scale[k].first) / scale[k].second;
    std::vector<double> model(d + 1, 0.0);
    if (used.empty()) return model;  // nothing to go on: LR 1 everywhere
    const std::vector<double> theta = FitWeightedLogistic(xs, w, t);
    model[0] = theta[0] / kLn10;
    bool negative = false;
    for (std::size_t k = 0; k < used.size(); ++k) {
      if (theta[k + 1] < 0) active[used[k]] = false, negative = true;
      model[used[k] + 1] = theta[k + 1] / scale[k].second / kLn10;
      model[0] -= theta[k + 1] * scale[k].first / scale[k].second / kLn10;
    }
    if (!negative) return model;
  }
}

/// The ELUB bounds of a fit's own log10 LRs, within ±kMaxAbsLog10Lr.
std::pair<double, double> FittedBounds(const std::vector<double>& km_log10_lr,
                                       const std::vector<double>& knm_log10_lr);

/// A bootstrap resample of `v` (with replacement) from `rng`: an explicit
/// modulo on a mt19937_64 stream (fixed by the standard), so the replicates
/// are the same everywhere.
template <typename T>
std::vector<T> Resample(const std::vector<T>& v, std::mt19937_64* rng) {
  std::vector<T> out(v.size());
  for (T& x : out) x = v[static_cast<std::size_t>((*rng)() % v.size())];
  return out;
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

double Calibration::UnboundedLog10LrOfCount(int k, int n) const {
  toolmark::Check(NeedsTrials() && n >= 1 && k >= 0 && k <= n && parameters.size() == 4,
                  "k-of-n calibration: bad count or parameters");
  return KOfNOf(parameters).Log10Lr(k, n);
}

double Calibration::Log10LrOfCount(int k, int n) const {
  if (!NeedsTrials()) return Log10Lr(k);
  return std::clamp(UnboundedLog10LrOfCount(k, n), min_log10_lr, max_log10_lr);
}

namespace {

/// The 5% and 95% quantiles (lower order statistics) of replicate LRs.
std::pair<double, double> Interval(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto at = [&](double q) {
    return v[static_cast<std::size_t>(std::floor(q * static_cast<double>(v.size() - 1)))];
  };
  return {at(0.05), at(0.95)};
}

/// p₀ + Σ p_j x_j (a combined model, unbounded).
double Linear(const std::vector<double>& p, const std::vector<double>& x) {
  double v = p[0];
  for (std::size_t j = 0; j < x.size(); ++j) v += p[j + 1] * x[j];
  return v;
}

}  // namespace

std::optional<std::pair<double, double>> Calibration::Log10LrIntervalOfCount(int k, int n) const {
  if (!NeedsTrials() || replicates.empty()) return std::nullopt;
  toolmark::Check(n >= 1 && k >= 0 && k <= n, "k-of-n calibration: bad count");
  std::vector<double> v;
  for (const std::vector<double>& r : replicates)
    v.push_back(std::clamp(KOfNOf(r).Log10Lr(k, n), min_log10_lr, max_log10_lr));
  return Interval(std::move(v));
}

void Calibration::CheckFeatureValues(const std::vector<double>& x) const {
  toolmark::Check(NeedsFeatures(), "calibration of '" + comparator + "': not a combined (features) model");
  toolmark::Check(x.size() == features.size(), "combined calibration: " + std::to_string(features.size()) +
                                                   " feature values needed, " + std::to_string(x.size()) +
                                                   " given");
  for (std::size_t j = 0; j < x.size(); ++j)
    toolmark::Check(std::isfinite(x[j]), "combined calibration: feature " + features[j] + " has no value");
}

double Calibration::Log10LrOfFeatures(const std::vector<double>& x) const {
  CheckFeatureValues(x);
  return std::clamp(Linear(parameters, x), min_log10_lr, max_log10_lr);
}

double Calibration::UnboundedLog10LrOfFeatures(const std::vector<double>& x) const {
  CheckFeatureValues(x);
  return Linear(parameters, x);
}

std::optional<std::pair<double, double>> Calibration::Log10LrIntervalOfFeatures(
    const std::vector<double>& x) const {
  CheckFeatureValues(x);
  if (replicates.empty()) return std::nullopt;
  std::vector<double> v;
  for (const std::vector<double>& r : replicates)
    v.push_back(std::clamp(Linear(r, x), min_log10_lr, max_log10_lr));
  return Interval(std::move(v));
}

std::vector<std::string> KOfNInputs(const Calibration& c) {
  if (c.features.size() == 2) return c.features;
  return {"cmc_count", "cells_compared"};
}

ComparisonLr Log10LrOfComparison(const Calibration& c, double score,
                                 const std::vector<std::pair<const char*, double>>& details) {
  ComparisonLr out;
  if (!c.NeedsTrials() && !c.NeedsFeatures()) {
    out.log10_lr = c.Log10Lr(score);
    return out;
  }
  std::vector<double> x;
  for (const std::string& name : c.NeedsTrials() ? KOfNInputs(c) : c.features) {
    const std::optional<double> v = DetailNamed(details, name);
    if (!v || !std::isfinite(*v)) {
      out.why = "the comparison has no value of the calibration's " +
                std::string(c.NeedsTrials() ? "count " : "feature ") + name;
      return out;
    }
    x.push_back(*v);
  }
  if (c.NeedsFeatures()) {
    out.log10_lr = c.Log10LrOfFeatures(x);
    out.interval = c.Log10LrIntervalOfFeatures(x);
    return out;
  }
  const double k = x[0], n = x[1];
  if (!(k >= 0 && n >= 1 && k <= n && k == std::floor(k) && n == std::floor(n) && n <= 1e6)) {
    out.why = "the comparison's count is not k of n whole numbers";
    return out;
  }
  out.log10_lr = c.Log10LrOfCount(static_cast<int>(k), static_cast<int>(n));
  out.interval = c.Log10LrIntervalOfCount(static_cast<int>(k), static_cast<int>(n));
  return out;
}

Calibration FitCombinedCalibration(const std::vector<std::vector<double>>& km_rows,
                                   const std::vector<std::vector<double>>& knm_rows,
                                   const std::vector<std::string>& features, const std::string& comparator,
                                   const std::string& level, CalibrationProvenance provenance,
                                   int replicates) {
  Check(km_rows.size() >= kMinCalibrationScores && knm_rows.size() >= kMinCalibrationScores,
        "calibration needs at least " + std::to_string(kMinCalibrationScores) +
            " known-match and known-non-match rows (has " + std::to_string(km_rows.size()) + " and " +
            std::to_string(knm_rows.size()) + ")");
  Check(!features.empty(), "combined calibration: no features named");
  for (const auto* v : {&km_rows, &knm_rows})
    for (const std::vector<double>& row : *v) {
      Check(row.size() == features.size(), "combined calibration: a row has the wrong number of features");
      for (double x : row) Check(std::isfinite(x), "combined calibration: feature value not finite");
    }
  Calibration c;
  c.comparator = comparator;
  c.level = level;
  c.method = "combined";
  c.features = features;
  // Rows sorted within each class: the fit does not depend on input order.
  std::vector<std::vector<double>> km = km_rows, knm = knm_rows;
  std::sort(km.begin(), km.end());
  std::sort(knm.begin(), knm.end());
  const auto fit = [](const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
    std::vector<std::vector<double>> x = a;
    x.insert(x.end(), b.begin(), b.end());
    return FitLog10LrModel(x, a.size(), b.size());
  };
  c.parameters = fit(km, knm);
  std::vector<double> lkm, lknm;
  for (const auto& x : km) lkm.push_back(Linear(c.parameters, x));
  for (const auto& x : knm) lknm.push_back(Linear(c.parameters, x));
  std::tie(c.min_log10_lr, c.max_log10_lr) = FittedBounds(lkm, lknm);
  // Bootstrap: each class resampled from a fixed stream, sorted as the fit's rows are.
  std::mt19937_64 rng(0x636f6d62ULL);  // "comb"
  const auto resample = [&](const std::vector<std::vector<double>>& v) {
    std::vector<std::vector<double>> out = Resample(v, &rng);
    std::sort(out.begin(), out.end());
    return out;
  };
  for (int r = 0; r < replicates; ++r) {
    std::vector<std::vector<double>> a = resample(km);
    c.replicates.push_back(fit(a, resample(knm)));
  }
  provenance.km = km_rows.size();
  provenance.knm = knm_rows.size();
  c.provenance = std::move(provenance);
  c.Check();
  return c;
}

Calibration FitKOfNCalibration(const std::vector<std::pair<int, int>>& km_counts,
                               const std::vector<std::pair<int, int>>& knm_counts,
                               const std::string& comparator, const std::string& level,
                               CalibrationProvenance provenance, int replicates,
                               const std::vector<std::string>& inputs) {
  Check(km_counts.size() >= kMinCalibrationScores && knm_counts.size() >= kMinCalibrationScores,
        "calibration needs at least " + std::to_string(kMinCalibrationScores) +
            " known-match and known-non-match counts");
  Calibration c;
  c.comparator = comparator;
  c.level = level;
  c.method = "kofn";
  c.features = inputs;
  provenance.km = km_counts.size();
  provenance.knm = knm_counts.size();
  c.provenance = std::move(provenance);
  const KOfNModel m = FitKOfN(km_counts, knm_counts);
  c.parameters = {m.same_source.alpha, m.same_source.beta, m.different_source.alpha, m.different_source.beta};
  std::vector<double> lkm, lknm;
  for (const auto& [k, n] : km_counts) lkm.push_back(m.Log10Lr(k, n));
  for (const auto& [k, n] : knm_counts) lknm.push_back(m.Log10Lr(k, n));
  std::tie(c.min_log10_lr, c.max_log10_lr) = FittedBounds(lkm, lknm);
  std::mt19937_64 rng(0x6b6f666eULL);  // "kofn"
  for (int r = 0; r < replicates; ++r) {
    // Sequenced (the non-matches drawn first, as the replicates were made
    // before): the order of a call's arguments is unspecified in C++.
    const std::vector<std::pair<int, int>> knm = Resample(knm_counts, &rng);
    const KOfNModel b = FitKOfN(Resample(km_counts, &rng), knm);
    c.replicates.push_back(
        {b.same_source.alpha, b.same_source.beta, b.different_source.alpha, b.different_source.beta});
  }
  c.Check();
  return c;
}

double Calibration::Log10Lr(double score) const {
  toolmark::Check(!NeedsTrials(),
                  "a k-of-n calibration needs the count and the number of cells compared, not a score");
  toolmark::Check(!NeedsFeatures(), "a combined calibration needs its named features, not a score");
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
  toolmark::Check(method == "logistic" || method == "kofn" || method == "combined",
                  what + ": unknown method '" + method + "' (logistic, kofn or combined)");
  toolmark::Check(KnownTransform(transform),
                  what + ": unknown transform '" + transform + "' (identity, log1p or logit)");
  toolmark::Check(method == "combined" ? !features.empty()
                  : method == "kofn"   ? features.size() % 2 == 0 && features.size() <= 2
                                       : features.empty(),
                  what +
                      ": a combined calibration names its features, a k-of-n one its k and n (or none), a "
                      "logistic one none");
  for (const std::string& f : features) toolmark::Check(!f.empty(), what + ": a feature has no name");
  const std::size_t want = method == "kofn" ? 4 : method == "combined" ? features.size() + 1 : 2;
  toolmark::Check(method != "combined" || features.size() <= 64, what + ": too many features");
  toolmark::Check(parameters.size() == want, what + ": needs " + std::to_string(want) + " parameters, has " +
                                                 std::to_string(parameters.size()));
  for (double p : parameters) toolmark::Check(std::isfinite(p), what + ": parameters not finite");
  if (method == "logistic") {
    toolmark::Check(parameters[1] >= 0, what + ": negative slope (LRs would fall as scores rise)");
    toolmark::Check(replicates.empty(), what + ": a logistic calibration has no replicates");
  }
  if (method == "combined") {
    for (std::size_t j = 1; j < parameters.size(); ++j)
      toolmark::Check(parameters[j] >= 0, what + ": negative slope (LRs would fall as a feature rises)");
    toolmark::Check(replicates.size() <= 10000, what + ": too many replicates");
    for (const std::vector<double>& r : replicates) {
      toolmark::Check(r.size() == want, what + ": a replicate needs " + std::to_string(want) + " parameters");
      for (double p : r) toolmark::Check(std::isfinite(p), what + ": replicate parameters not finite");
    }
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
  std::vector<std::vector<double>> x;
  for (const auto* v : {&gkm, &gknm})
    for (double g : *v) x.push_back({g});
  const std::vector<double> model = FitLog10LrModel(x, gkm.size(), gknm.size());
  const double intercept = model[0], slope = model[1];
  c.parameters = {intercept, slope};
  std::vector<double> lkm, lknm;  // unbounded fitted log10 LRs of the fitting set
  for (double g : gkm) lkm.push_back(intercept + slope * g);
  for (double g : gknm) lknm.push_back(intercept + slope * g);
  std::tie(c.min_log10_lr, c.max_log10_lr) = FittedBounds(lkm, lknm);
  provenance.km = km_scores.size();
  provenance.knm = knm_scores.size();
  c.provenance = std::move(provenance);
  return c;
}

namespace {

std::pair<double, double> FittedBounds(const std::vector<double>& km_log10_lr,
                                       const std::vector<double>& knm_log10_lr) {
  const auto [lower, upper] = ElubBounds(km_log10_lr, knm_log10_lr);
  return {std::max(lower, -kMaxAbsLog10Lr), std::min(upper, kMaxAbsLog10Lr)};
}

}  // namespace

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
