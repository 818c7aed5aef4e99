// Calibration: fits against score distributions whose true LR is known,
// bounds, monotonicity, Cllr / min Cllr against hand-computed values, ELUB
// against a brute-force scan of its definition, and bad input.
#include "toolmark/engine/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "toolmark/engine/check.h"
#include "toolmark/engine/kofn.h"

namespace toolmark {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> Normal(std::size_t n, double mean, double sd, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

CalibrationProvenance Named(const std::string& set) {
  CalibrationProvenance p;
  p.set = set;
  return p;
}

/// KM ~ N(2, 1), KNM ~ N(0, 1): log10 LR(s) = 2 (s − 1) / ln 10 exactly.
double GaussianTruth(double s) { return 2 * (s - 1) / std::log(10.0); }

TEST(Calibration, RecoversTheTrueLrOfGaussianScores) {
  const Calibration c =
      FitCalibration(Normal(4000, 2, 1, 1), Normal(4000, 0, 1, 2), "baseline", "pair", Named("gaussian"));
  EXPECT_EQ(c.transform, "identity");
  EXPECT_NEAR(c.parameters[1], 2 / std::log(10.0), 0.05);
  for (double s = -0.5; s <= 2.5; s += 0.25) EXPECT_NEAR(c.Log10Lr(s), GaussianTruth(s), 0.08) << s;
  EXPECT_EQ(c.provenance.km, 4000u);
  EXPECT_EQ(c.provenance.knm, 4000u);
  EXPECT_EQ(c.provenance.set, "gaussian");
  EXPECT_NO_THROW(c.Check());
}

TEST(Calibration, CorrectsForUnequalClassSizes) {
  // Eight times more non-matches: the LR must not move (a plain logistic fit
  // would be off by log10(1/8) ≈ −0.9).
  const Calibration c =
      FitCalibration(Normal(1000, 2, 1, 3), Normal(8000, 0, 1, 4), "baseline", "pair", Named("gaussian 1:8"));
  for (double s = 0; s <= 2; s += 0.25) EXPECT_NEAR(c.Log10Lr(s), GaussianTruth(s), 0.1) << s;
}

TEST(Calibration, LogitTransformRecoversALogisticScore) {
  // Scores that are already posterior probabilities at prior ½ of a Gaussian
  // pair: logit(score) = ln LR, so log10 LR = logit(score) / ln 10.
  std::vector<double> km, knm;
  for (double s : Normal(3000, 2, 1, 5)) km.push_back(1 / (1 + std::exp(-2 * (s - 1))));
  for (double s : Normal(3000, 0, 1, 6)) knm.push_back(1 / (1 + std::exp(-2 * (s - 1))));
  const Calibration c = FitCalibration(km, knm, "land", "pair", Named("logistic"));
  EXPECT_EQ(c.transform, "logit");
  for (double p : {0.1, 0.3, 0.5, 0.7, 0.9})
    EXPECT_NEAR(c.Log10Lr(p), std::log(p / (1 - p)) / std::log(10.0), 0.08) << p;
}

TEST(Calibration, IsMonotoneFiniteAndBounded) {
  std::mt19937_64 rng(7);
  std::poisson_distribution<int> km_d(30), knm_d(4);
  std::vector<double> km, knm;
  for (int i = 0; i < 300; ++i) km.push_back(km_d(rng));
  for (int i = 0; i < 3000; ++i) knm.push_back(knm_d(rng));
  const Calibration c = FitCalibration(km, knm, "cmc", "pair", Named("poisson counts"), "log1p");
  EXPECT_EQ(c.transform, "log1p");
  EXPECT_EQ(DefaultTransform("cmc", "pair"), "identity");
  EXPECT_EQ(DefaultTransform("land", "pair"), "logit");
  EXPECT_EQ(DefaultTransform("land", "bullet"), "identity");
  EXPECT_GT(c.parameters[1], 0);
  double previous = -kInf;
  for (double s = -5; s <= 200; s += 0.5) {
    const double v = c.Log10Lr(s);
    ASSERT_TRUE(std::isfinite(v)) << s;
    EXPECT_GE(v, previous) << s;
    EXPECT_GE(v, c.min_log10_lr);
    EXPECT_LE(v, c.max_log10_lr);
    previous = v;
  }
  EXPECT_EQ(c.Log10Lr(kInf), c.max_log10_lr);
  EXPECT_EQ(c.Log10Lr(-kInf), c.min_log10_lr);
  EXPECT_EQ(c.Log10Lr(1e300), c.max_log10_lr);
  EXPECT_EQ(c.Log10Lr(kNaN), 0);
  // No more than 3000 non-matches: an LR beyond about 3000 is not supported.
  EXPECT_LE(c.max_log10_lr, std::log10(3001.0) + 1e-9);
  EXPECT_GE(c.min_log10_lr, -std::log10(301.0) - 1e-9);
  EXPECT_GT(c.max_log10_lr, 2);  // and the counts separate well enough to get near it
}

TEST(Calibration, PerfectSeparationStaysFiniteAndBounded) {
  const std::vector<double> km = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
  const std::vector<double> knm = {0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5};
  const Calibration c = FitCalibration(km, knm, "baseline", "pair", Named("separated"));
  EXPECT_TRUE(std::isfinite(c.parameters[0]) && std::isfinite(c.parameters[1]));
  EXPECT_GT(c.parameters[1], 0);
  // Platt's targets keep the slope moderate (0/1 targets drive it towards ∞:
  // about 10 per score unit after 100 Newton steps) and the gap neutral.
  EXPECT_LT(c.parameters[1], 1);
  EXPECT_LT(std::abs(c.parameters[0] + 7.5 * c.parameters[1]), 0.5);
  // ELUB: with one misleading LR of each kind added, 11 non-matches support
  // at most an LR of about 11 (and 10 matches at most 1/10).
  EXPECT_GT(c.max_log10_lr, 0.5);
  EXPECT_LE(c.max_log10_lr, std::log10(12.0));
  EXPECT_LT(c.min_log10_lr, -0.5);
  EXPECT_GE(c.min_log10_lr, -std::log10(11.0));
  EXPECT_EQ(c.Log10Lr(1e9), c.max_log10_lr);
  EXPECT_EQ(c.Log10Lr(-1e9), c.min_log10_lr);
  EXPECT_NO_THROW(c.Check());
}

TEST(Calibration, ScoresThatPointTheWrongWayGiveNoEvidence) {
  const Calibration c =
      FitCalibration(Normal(200, 0, 1, 8), Normal(200, 1, 1, 9), "baseline", "pair", Named("reversed"));
  EXPECT_EQ(c.parameters[1], 0);
  for (double s : {-3.0, 0.0, 3.0}) EXPECT_EQ(c.Log10Lr(s), 0);
}

TEST(Calibration, DoesNotDependOnInputOrder) {
  std::vector<double> km = Normal(500, 1.5, 1, 10), knm = Normal(900, 0, 1.2, 11);
  const Calibration a = FitCalibration(km, knm, "baseline", "pair", Named("x"));
  std::mt19937_64 rng(12);
  std::shuffle(km.begin(), km.end(), rng);
  std::shuffle(knm.begin(), knm.end(), rng);
  const Calibration b = FitCalibration(km, knm, "baseline", "pair", Named("x"));
  EXPECT_EQ(a.parameters, b.parameters);
  EXPECT_EQ(a.min_log10_lr, b.min_log10_lr);
  EXPECT_EQ(a.max_log10_lr, b.max_log10_lr);
}

TEST(Calibration, BadInputThrows) {
  const std::vector<double> five = {1, 2, 3, 4, 5}, four = {1, 2, 3, 4};
  const auto fit = [](const std::vector<double>& km, const std::vector<double>& knm,
                      const std::string& level = "pair", const std::string& transform = "") {
    return FitCalibration(km, knm, "baseline", level, Named("bad"), transform);
  };
  EXPECT_THROW(fit(five, four), Error);
  EXPECT_THROW(fit(four, five), Error);
  EXPECT_THROW(fit({1, 2, 3, 4, kNaN}, five), Error);
  EXPECT_THROW(fit(five, {1, 2, 3, 4, kInf}), Error);
  EXPECT_THROW(fit(five, five, "land"), Error);
  EXPECT_THROW(fit(five, five, "pair", "sqrt"), Error);
  EXPECT_NO_THROW(fit(five, five));
}

TEST(Calibration, CheckRejectsMalformedCalibrations) {
  Calibration good = FitCalibration({5, 6, 7, 8, 9}, {0, 1, 2, 3, 4}, "baseline", "pair", Named("ok"));
  ASSERT_NO_THROW(good.Check());
  const auto broken = [&](auto edit) {
    Calibration c = good;
    edit(c);
    return c;
  };
  EXPECT_THROW(broken([](Calibration& c) { c.parameters[1] = -1; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.parameters.pop_back(); }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.parameters[0] = kNaN; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.max_log10_lr = kInf; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.max_log10_lr = 12; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.min_log10_lr = 0.5; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.transform = "exp"; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.method = "pav"; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.level = "land"; }).Check(), Error);
  EXPECT_THROW(broken([](Calibration& c) { c.provenance.set.clear(); }).Check(), Error);
}

TEST(Cllr, KnownValues) {
  // LR = 1 everywhere: exactly one bit.
  EXPECT_DOUBLE_EQ(Cllr({0, 0, 0}, {0, 0}), 1.0);
  // Strong, correct LRs: near zero; log2(1 + 10^-6) each.
  EXPECT_NEAR(Cllr({6, 6}, {-6, -6}), std::log2(1 + 1e-6), 1e-15);
  EXPECT_GE(Cllr({6, 6}, {-6, -6}), 0);
  // Infinite, correct LRs: zero.
  EXPECT_EQ(Cllr({kInf}, {-kInf}), 0);
  // Misleading LRs cost more than none at all.
  EXPECT_GT(Cllr({-1, -1}, {1, 1}), 1);
  EXPECT_NEAR(Cllr({-1}, {1}), std::log2(11.0), 1e-12);
  // A KM given LR = 0: infinitely costly.
  EXPECT_EQ(Cllr({-kInf}, {-3}), kInf);
  // Half right, half wrong: ½ [log2(1 + 10^-2) + log2(1 + 10^2)].
  EXPECT_NEAR(Cllr({2}, {2}), 0.5 * (std::log2(1.01) + std::log2(101.0)), 1e-12);
  EXPECT_THROW(Cllr({}, {0}), Error);
  EXPECT_THROW(Cllr({0}, {kNaN}), Error);
}

TEST(Cllr, MinCllrKnownValues) {
  EXPECT_DOUBLE_EQ(MinCllr({1, 2, 3}, {-1, -2}), 0.0);      // separated
  EXPECT_DOUBLE_EQ(MinCllr({5, 5, 5}, {5, 5, 5, 5}), 1.0);  // all tied: no information
  EXPECT_DOUBLE_EQ(MinCllr({1, 1, 1}, {2, 2, 2}), 1.0);     // reversed: pooled into one block
  // Sorted: 0 KNM, 1 KM, 2 KNM, 3 KM. PAV pools {1, 2} (LR 1, one bit each);
  // 0 and 3 cost nothing: ½ (1/2 + 1/2).
  EXPECT_DOUBLE_EQ(MinCllr({1, 3}, {2, 0}), 0.5);
  EXPECT_THROW(MinCllr({1}, {}), Error);
  EXPECT_THROW(MinCllr({kNaN}, {1}), Error);
}

TEST(Cllr, FittedCalibrationIsBetterThanNoneAndNoBetterThanPav) {
  const std::vector<double> km = Normal(2000, 2, 1, 13), knm = Normal(2000, 0, 1, 14);
  const Calibration c = FitCalibration(km, knm, "baseline", "pair", Named("gaussian"));
  std::vector<double> lkm, lknm;
  for (double s : km) lkm.push_back(c.Log10Lr(s));
  for (double s : knm) lknm.push_back(c.Log10Lr(s));
  const double cllr = Cllr(lkm, lknm), min_cllr = MinCllr(km, knm);
  EXPECT_LT(cllr, 0.6);  // d' = 2: about 0.49 bits
  EXPECT_GT(cllr, 0.4);
  EXPECT_LE(min_cllr, cllr + 1e-12);
  EXPECT_LT(cllr - min_cllr, 0.03);  // the linear fit is right for equal-variance Gaussians
  // Held out: about as good.
  std::vector<double> hkm, hknm;
  for (double s : Normal(2000, 2, 1, 15)) hkm.push_back(c.Log10Lr(s));
  for (double s : Normal(2000, 0, 1, 16)) hknm.push_back(c.Log10Lr(s));
  EXPECT_NEAR(Cllr(hkm, hknm), cllr, 0.05);
}

/// ELUB by brute force: thresholds on a fine log10 grid, the definition as written.
std::pair<double, double> ElubByGrid(const std::vector<double>& km, const std::vector<double>& knm) {
  const double n1 = static_cast<double>(km.size()), n0 = static_cast<double>(knm.size());
  const auto cost = [&](double log_t) {
    double reject = 1, accept = 1;  // the added misleading LRs
    for (double x : km) reject += x <= log_t;
    for (double x : knm) accept += x > log_t;
    return reject / (n1 + 1) + std::pow(10.0, log_t) * accept / (n0 + 1);
  };
  double upper = 0, lower = 0;
  for (double t = 0; t < 10; t += 1e-4, upper = t)
    if (cost(t) > 1) break;
  for (double t = 0; t > -10; t -= 1e-4, lower = t)
    if (cost(t) > std::pow(10.0, t)) break;
  return {lower, upper};
}

TEST(Elub, MatchesItsDefinition) {
  const auto [lo, hi] = ElubBounds({1, 1, 1}, {-1, -1, -1});
  EXPECT_NEAR(hi, std::log10(3.0), 1e-12);  // cost(t) = 1/4 + t/4 reaches 1 at t = 3
  EXPECT_NEAR(lo, -std::log10(3.0), 1e-12);
  std::mt19937_64 rng(17);
  std::normal_distribution<double> d(0, 1);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> km, knm;
    for (int i = 0; i < 40; ++i) km.push_back(1.0 + 1.2 * d(rng));
    for (int i = 0; i < 60; ++i) knm.push_back(-1.0 + 1.2 * d(rng));
    const auto exact = ElubBounds(km, knm), grid = ElubByGrid(km, knm);
    EXPECT_NEAR(exact.first, grid.first, 2e-4) << trial;
    EXPECT_NEAR(exact.second, grid.second, 2e-4) << trial;
    EXPECT_LE(exact.first, 0);
    EXPECT_GE(exact.second, 0);
  }
  // A system worse than LR = 1 at t = 1 gets no LR at all.
  const auto bad = ElubBounds({-2, -2, -2}, {2, 2, 2});
  EXPECT_EQ(bad.first, 0);
  EXPECT_EQ(bad.second, 0);
}

TEST(DefaultCalibration, ShippedOnesAreWellFormedAndNamed) {
  for (const auto& [comparator, level] :
       std::vector<std::pair<std::string, std::string>>{{"land", "pair"}, {"land", "bullet"}}) {
    const std::optional<Calibration> c = DefaultCalibration(comparator, level);
    ASSERT_TRUE(c.has_value()) << comparator << " " << level;
    EXPECT_NO_THROW(c->Check());
    EXPECT_EQ(c->comparator, comparator);
    EXPECT_EQ(c->level, level);
    EXPECT_NE(c->provenance.set.find("synthetic"), std::string::npos) << c->provenance.set;
    EXPECT_EQ(c->provenance.command.rfind("toolmark calibrate", 0), 0u) << c->provenance.command;
    EXPECT_GE(c->provenance.km, 100u);
    EXPECT_GE(c->provenance.knm, 1000u);
    EXPECT_GT(c->parameters[1], 0);
    // Bounded by what the calibration set can support.
    EXPECT_LE(c->max_log10_lr, std::log10(static_cast<double>(c->provenance.knm) + 1));
    EXPECT_GE(c->min_log10_lr, -std::log10(static_cast<double>(c->provenance.km) + 1));
  }
  EXPECT_FALSE(DefaultCalibration("baseline").has_value());
  EXPECT_FALSE(DefaultCalibration("cmc", "bullet").has_value());
  EXPECT_FALSE(DefaultCalibration("").has_value());
}

TEST(DefaultCalibration, CartridgeCasesHaveNoneShipped) {
  // The synthetic cmc calibration was misleading on real scans (Fadul Cllr
  // 1.51): cartridge-case LRs need a lab's own calibration file.
  EXPECT_FALSE(DefaultCalibration("cmc").has_value());
  EXPECT_FALSE(DefaultCalibration("cmc", "pair").has_value());
}

}  // namespace
}  // namespace toolmark

// ------------------------------------------------------------ k of n

namespace toolmark {
namespace {

/// n-trial counts from a beta-binomial(α, β), seeded.
std::vector<std::pair<int, int>> BetaBinomialCounts(std::size_t count, int n_min, int n_max, double alpha,
                                                    double beta, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> ga(alpha, 1.0), gb(beta, 1.0);
  std::uniform_int_distribution<int> nd(n_min, n_max);
  std::vector<std::pair<int, int>> out;
  for (std::size_t i = 0; i < count; ++i) {
    const double x = ga(rng), y = gb(rng);
    const int n = nd(rng);
    std::binomial_distribution<int> k(n, x / (x + y));
    out.emplace_back(k(rng), n);
  }
  return out;
}

TEST(KOfN, RecoversTheBetaBinomialItWasDrawnFrom) {
  const auto counts = BetaBinomialCounts(4000, 20, 60, 6.0, 4.0, 7);
  const BetaBinomial d = FitBetaBinomial(counts);
  EXPECT_NEAR(d.Mean(), 0.6, 0.01);
  EXPECT_NEAR(d.alpha + d.beta, 10.0, 2.5);
  // Deterministic: the same counts give the same numbers.
  const BetaBinomial again = FitBetaBinomial(counts);
  EXPECT_EQ(again.alpha, d.alpha);
  EXPECT_EQ(again.beta, d.beta);
}

TEST(KOfN, TheLikelihoodRatioWeighsKAgainstN) {
  const KOfNModel m = FitKOfN(BetaBinomialCounts(500, 10, 60, 5.0, 5.0, 1),     // same source: about half
                              BetaBinomialCounts(2000, 10, 60, 1.0, 30.0, 2));  // different: about 3%
  for (int n : {10, 30, 60})
    for (int k = 1; k <= n; ++k) EXPECT_GT(m.Log10Lr(k, n), m.Log10Lr(k - 1, n)) << k << " of " << n;
  // The same count is stronger evidence of fewer cells compared.
  EXPECT_GT(m.Log10Lr(5, 10), m.Log10Lr(5, 60));
  EXPECT_LT(m.Log10Lr(0, 30), 0);
  EXPECT_GT(m.Log10Lr(15, 30), 0);
  EXPECT_TRUE(std::isfinite(m.Log10Lr(60, 60)));
}

TEST(KOfN, BadCountsAreRefused) {
  EXPECT_THROW(FitBetaBinomial({}), Error);
  EXPECT_THROW(FitBetaBinomial({{3, 2}}), Error);
  EXPECT_THROW(FitBetaBinomial({{-1, 2}}), Error);
  EXPECT_THROW(FitBetaBinomial({{0, 0}}), Error);
  // Degenerate but legal: every count 0 stays finite.
  const BetaBinomial zero = FitBetaBinomial({{0, 10}, {0, 20}, {0, 5}});
  EXPECT_TRUE(std::isfinite(zero.LogKernel(0, 10)));
  EXPECT_LT(zero.Mean(), 0.01);
}

}  // namespace
}  // namespace toolmark

namespace toolmark {
namespace {

TEST(KOfNCalibration, FitsWithBootstrapIntervalsDeterministically) {
  const auto km = BetaBinomialCounts(60, 15, 40, 5.0, 5.0, 11),
             knm = BetaBinomialCounts(300, 15, 40, 1.0, 25.0, 12);
  CalibrationProvenance p;
  p.set = "test counts";
  const Calibration c = FitKOfNCalibration(km, knm, "cmc", "pair", p, 50);
  EXPECT_EQ(c.method, "kofn");
  EXPECT_TRUE(c.NeedsTrials());
  ASSERT_EQ(c.parameters.size(), 4u);
  EXPECT_EQ(c.replicates.size(), 50u);
  EXPECT_EQ(c.provenance.km, 60u);
  EXPECT_EQ(c.provenance.knm, 300u);
  EXPECT_NO_THROW(c.Check());
  EXPECT_LT(c.min_log10_lr, 0);
  EXPECT_GT(c.max_log10_lr, 0);
  // Within the bounds, rising with k; the interval brackets the LR where it is not at a bound.
  for (int k = 0; k <= 30; ++k) {
    const double lr = c.Log10LrOfCount(k, 30);
    EXPECT_GE(lr, c.min_log10_lr);
    EXPECT_LE(lr, c.max_log10_lr);
    if (k > 0) EXPECT_GE(lr, c.Log10LrOfCount(k - 1, 30));
    const auto interval = c.Log10LrIntervalOfCount(k, 30);
    ASSERT_TRUE(interval.has_value());
    EXPECT_LE(interval->first, interval->second);
    if (lr > c.min_log10_lr && lr < c.max_log10_lr) {
      EXPECT_LE(interval->first, lr + 1e-9) << k;
      EXPECT_GE(interval->second, lr - 1e-9) << k;
    }
  }
  // The same counts give the same calibration, replicates included.
  const Calibration again = FitKOfNCalibration(km, knm, "cmc", "pair", p, 50);
  EXPECT_EQ(again.parameters, c.parameters);
  EXPECT_EQ(again.replicates, c.replicates);
  // A k-of-n calibration does not map a bare score.
  EXPECT_THROW(c.Log10Lr(12), Error);
  EXPECT_THROW(c.Log10LrOfCount(31, 30), Error);
  Calibration bad = c;
  bad.parameters[2] = -1;
  EXPECT_THROW(bad.Check(), Error);
  bad = c;
  bad.replicates.front().pop_back();
  EXPECT_THROW(bad.Check(), Error);
  bad = c;
  bad.parameters.pop_back();
  EXPECT_THROW(bad.Check(), Error);
}

/// Rows of two features: KM ~ N((2, 1), I), KNM ~ N((0, 0), I), so
/// log10 LR(x) = (2 x₀ + x₁ − 2.5) / ln 10 exactly; a third, pure-noise
/// feature that points the wrong way (KM lower).
std::vector<std::vector<double>> GaussianRows(std::size_t n, bool km, unsigned seed) {
  const std::vector<double> a = Normal(n, km ? 2 : 0, 1, seed), b = Normal(n, km ? 1 : 0, 1, seed + 100),
                            c = Normal(n, km ? -0.5 : 0, 1, seed + 200);
  std::vector<std::vector<double>> rows;
  for (std::size_t i = 0; i < n; ++i) rows.push_back({a[i], b[i], c[i]});
  return rows;
}

TEST(CombinedCalibration, RecoversTheTrueLrOfTwoFeaturesAndDropsOneThatPointsTheWrongWay) {
  const auto km = GaussianRows(3000, true, 21), knm = GaussianRows(6000, false, 22);
  const Calibration c =
      FitCombinedCalibration(km, knm, {"a", "b", "c"}, "cmc", "pair", Named("gaussian"), 20);
  EXPECT_EQ(c.method, "combined");
  EXPECT_TRUE(c.NeedsFeatures());
  ASSERT_EQ(c.parameters.size(), 4u);
  const double ln10 = std::log(10.0);
  EXPECT_NEAR(c.parameters[1], 2 / ln10, 0.06);
  EXPECT_NEAR(c.parameters[2], 1 / ln10, 0.06);
  EXPECT_EQ(c.parameters[3], 0.0);  // higher c is not more likely for known matches: no evidence from it
  EXPECT_NEAR(c.parameters[0], -2.5 / ln10, 0.1);
  for (double x0 = 0; x0 <= 2; x0 += 0.5)
    for (double x1 = 0; x1 <= 1; x1 += 0.5)
      EXPECT_NEAR(c.Log10LrOfFeatures({x0, x1, 0}), (2 * x0 + x1 - 2.5) / ln10, 0.12) << x0 << " " << x1;
  EXPECT_EQ(c.replicates.size(), 20u);
  EXPECT_EQ(c.provenance.km, 3000u);
  EXPECT_NO_THROW(c.Check());
  // Bounded; the interval brackets the LR inside the bounds.
  EXPECT_EQ(c.Log10LrOfFeatures({100, 100, 0}), c.max_log10_lr);
  EXPECT_EQ(c.Log10LrOfFeatures({-100, -100, 0}), c.min_log10_lr);
  const auto interval = c.Log10LrIntervalOfFeatures({1, 0.5, 0});
  ASSERT_TRUE(interval.has_value());
  EXPECT_LE(interval->first, c.Log10LrOfFeatures({1, 0.5, 0}) + 1e-9);
  EXPECT_GE(interval->second, c.Log10LrOfFeatures({1, 0.5, 0}) - 1e-9);
}

TEST(CombinedCalibration, DoesNotDependOnRowOrderAndRefusesWhatItCannotMap) {
  auto km = GaussianRows(200, true, 31), knm = GaussianRows(400, false, 32);
  const Calibration c = FitCombinedCalibration(km, knm, {"a", "b", "c"}, "cmc", "pair", Named("g"), 10);
  std::reverse(km.begin(), km.end());
  std::shuffle(knm.begin(), knm.end(), std::mt19937_64(5));
  const Calibration again = FitCombinedCalibration(km, knm, {"a", "b", "c"}, "cmc", "pair", Named("g"), 10);
  EXPECT_EQ(again.parameters, c.parameters);
  EXPECT_EQ(again.replicates, c.replicates);
  EXPECT_EQ(again.min_log10_lr, c.min_log10_lr);
  // A combined model maps its features only, all of them, finite.
  EXPECT_THROW(c.Log10Lr(1.0), Error);
  EXPECT_THROW(c.Log10LrOfFeatures({1, 2}), Error);
  EXPECT_THROW(c.Log10LrOfFeatures({1, kNaN, 0}), Error);
  // Fitting: too few rows, rows of the wrong width, a value that is not finite, no features.
  const std::vector<std::vector<double>> few(3, {1, 1, 1});
  EXPECT_THROW(FitCombinedCalibration(few, knm, {"a", "b", "c"}, "cmc", "pair", Named("g")), Error);
  auto wide = km;
  wide[0].push_back(1);
  EXPECT_THROW(FitCombinedCalibration(wide, knm, {"a", "b", "c"}, "cmc", "pair", Named("g")), Error);
  auto inf = km;
  inf[1][0] = kInf;
  EXPECT_THROW(FitCombinedCalibration(inf, knm, {"a", "b", "c"}, "cmc", "pair", Named("g")), Error);
  EXPECT_THROW(FitCombinedCalibration({}, {}, {}, "cmc", "pair", Named("g")), Error);
  // Check: slopes must not be negative; features and parameters must agree.
  Calibration bad = c;
  bad.parameters[1] = -0.1;
  EXPECT_THROW(bad.Check(), Error);
  bad = c;
  bad.features.pop_back();
  EXPECT_THROW(bad.Check(), Error);
  bad = c;
  bad.features[0].clear();
  EXPECT_THROW(bad.Check(), Error);
  bad = c;
  bad.replicates[0].pop_back();
  EXPECT_THROW(bad.Check(), Error);
  bad = c;
  bad.method = "logistic";  // a logistic calibration names no features
  EXPECT_THROW(bad.Check(), Error);
}

}  // namespace
}  // namespace toolmark
