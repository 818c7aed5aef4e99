// Accuracy metrics against hand-computed values.
#include "toolmark/engine/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace toolmark {
namespace {

ScoredPair Km(int a, int b, double s) { return {a, b, s, true}; }
ScoredPair Knm(int a, int b, double s) { return {a, b, s, false}; }

TEST(MetricsAuc, PerfectSeparationIsOne) {
  EXPECT_DOUBLE_EQ(Auc({0.8, 0.9}, {0.1, 0.2, 0.3}), 1.0);
  EXPECT_DOUBLE_EQ(EqualErrorRate({0.8, 0.9}, {0.1, 0.2, 0.3}), 0.0);
  EXPECT_DOUBLE_EQ(FprAtTpr({0.8, 0.9}, {0.1, 0.2, 0.3}, 0.95), 0.0);
}

TEST(MetricsAuc, AllWrongIsZero) {
  EXPECT_DOUBLE_EQ(Auc({0.1, 0.2}, {0.8, 0.9}), 0.0);
  EXPECT_DOUBLE_EQ(EqualErrorRate({0.1, 0.2}, {0.8, 0.9}), 1.0);
  EXPECT_DOUBLE_EQ(FprAtTpr({0.1, 0.2}, {0.8, 0.9}, 0.95), 1.0);
}

TEST(MetricsAuc, AllEqualScoresAreChance) {
  EXPECT_DOUBLE_EQ(Auc({0.5, 0.5, 0.5}, {0.5, 0.5}), 0.5);
  EXPECT_DOUBLE_EQ(EqualErrorRate({0.5, 0.5, 0.5}, {0.5, 0.5}), 0.5);
  EXPECT_DOUBLE_EQ(FprAtTpr({0.5, 0.5, 0.5}, {0.5, 0.5}, 0.95), 1.0);
}

TEST(MetricsAuc, TiesCountHalf) {
  // KM 0.5 vs KNM {0.5, 0.4}: 0.5 + 1; KM 0.6: 1 + 1 → 3.5 / 4.
  EXPECT_DOUBLE_EQ(Auc({0.5, 0.6}, {0.5, 0.4}), 3.5 / 4);
}

TEST(MetricsAuc, EmptySideIsNaN) {
  EXPECT_TRUE(std::isnan(Auc({}, {0.1})));
  EXPECT_TRUE(std::isnan(EqualErrorRate({0.1}, {})));
  EXPECT_TRUE(std::isnan(FprAtTpr({}, {}, 0.95)));
}

TEST(MetricsAuc, OrderOfInputDoesNotMatter) {
  EXPECT_DOUBLE_EQ(Auc({0.4, 0.9, 0.6}, {0.2, 0.7, 0.3, 0.5}), Auc({0.9, 0.6, 0.4}, {0.7, 0.5, 0.3, 0.2}));
}

// Three firearms {0,1}, {2,3}, {4,5}. KM {0.9, 0.6, 0.4}, KNM {0.7, 0.5, 0.3, 0.2}.
std::vector<ScoredPair> MixedPairs() {
  return {Km(0, 1, 0.9),  Km(2, 3, 0.6),  Km(4, 5, 0.4), Knm(0, 2, 0.7),
          Knm(1, 4, 0.5), Knm(3, 5, 0.3), Knm(0, 5, 0.2)};
}

TEST(MetricsMixed, HandComputedValues) {
  const Metrics m = ComputeMetrics(MixedPairs(), 6);
  EXPECT_EQ(m.pairs, 7u);
  EXPECT_EQ(m.km_pairs, 3u);
  EXPECT_EQ(m.knm_pairs, 4u);
  // U = 4 + 3 + 2 = 9 of 12.
  EXPECT_DOUBLE_EQ(m.auc, 0.75);
  // ROC (FPR, TPR) at t = 0.6: (1/4, 2/3), g = −1/12; at t = 0.5: (1/2, 2/3),
  // g = +1/6. Crossing a third of the way: FPR = 1/4 + 1/12 = 1/3 = FNR.
  EXPECT_NEAR(m.eer, 1.0 / 3, 1e-12);
  // TPR ≥ 0.95 needs all 3 KM: threshold 0.4, KNM ≥ 0.4 = {0.7, 0.5}.
  EXPECT_DOUBLE_EQ(m.fpr_at_tpr95, 0.5);
  EXPECT_DOUBLE_EQ(m.fpr_at_tpr99, 0.5);
  EXPECT_NEAR(m.margin, 0.4 - 0.7, 1e-12);
  // Ranks: 0 → 1, 1 → 1, 2 → 2 (0.7 > 0.6), 3 → 1, 4 → 2 (0.5 > 0.4), 5 → 1.
  EXPECT_EQ(m.queries, 6u);
  EXPECT_DOUBLE_EQ(m.rank1, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.rank10, 1.0);
  EXPECT_FALSE(m.cllr.has_value());
}

TEST(MetricsMixed, FprAtLowerTpr) {
  const std::vector<double> km{0.9, 0.6, 0.4}, knm{0.7, 0.5, 0.3, 0.2};
  EXPECT_DOUBLE_EQ(FprAtTpr(km, knm, 0.6), 0.25);  // 2 KM: threshold 0.6
  EXPECT_DOUBLE_EQ(FprAtTpr(km, knm, 0.3), 0.0);   // 1 KM: threshold 0.9
  EXPECT_DOUBLE_EQ(FprAtTpr(km, knm, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(FprAtTpr(km, knm, 1.0), 0.5);
}

TEST(MetricsMixed, PerfectSeparation) {
  const Metrics m = ComputeMetrics({Km(0, 1, 5), Km(2, 3, 4), Knm(0, 2, 1), Knm(1, 3, 2)}, 4);
  EXPECT_DOUBLE_EQ(m.auc, 1.0);
  EXPECT_DOUBLE_EQ(m.eer, 0.0);
  EXPECT_DOUBLE_EQ(m.margin, 2.0);
  EXPECT_GT(m.margin, 0);
  EXPECT_DOUBLE_EQ(m.rank1, 1.0);
}

TEST(MetricsRanks, TiesCountAgainstTheQuery) {
  const Metrics m = ComputeMetrics({Km(0, 1, 0.5), Knm(0, 2, 0.5), Knm(1, 2, 0.1)}, 3);
  // Item 0: KNM 0.5 ties its KM 0.5 → rank 2; item 1: rank 1; item 2 has no KM.
  EXPECT_EQ(m.queries, 2u);
  EXPECT_DOUBLE_EQ(m.rank1, 0.5);
  EXPECT_DOUBLE_EQ(m.rank10, 1.0);
}

TEST(MetricsRanks, ItemsWithoutKnownMatchAreNotQueries) {
  // Items 2..4 only have non-matches; they must not count as failed queries.
  const Metrics m =
      ComputeMetrics({Km(0, 1, 0.9), Knm(0, 2, 0.1), Knm(2, 3, 0.8), Knm(3, 4, 0.7), Knm(1, 4, 0.2)}, 5);
  EXPECT_EQ(m.queries, 2u);
  EXPECT_DOUBLE_EQ(m.rank1, 1.0);
}

TEST(MetricsRanks, RankTenBoundary) {
  // Item 0 has KM 0.5; 9 non-matches above → rank 10 (in); a 10th → rank 11 (out).
  std::vector<ScoredPair> pairs{Km(0, 1, 0.5)};
  for (int i = 0; i < 9; ++i) pairs.push_back(Knm(0, 2 + i, 0.6 + 0.01 * i));
  Metrics m = ComputeMetrics(pairs, 20);
  EXPECT_EQ(m.queries, 2u);
  EXPECT_DOUBLE_EQ(m.rank1, 0.5);  // item 1 is first, item 0 tenth
  EXPECT_DOUBLE_EQ(m.rank10, 1.0);
  pairs.push_back(Knm(0, 11, 0.5));  // a tie also counts against item 0
  m = ComputeMetrics(pairs, 20);
  EXPECT_DOUBLE_EQ(m.rank10, 0.5);
}

TEST(MetricsEdge, NoPairsOrOneSide) {
  Metrics m = ComputeMetrics({}, 0);
  EXPECT_EQ(m.pairs, 0u);
  EXPECT_TRUE(std::isnan(m.auc));
  EXPECT_TRUE(std::isnan(m.eer));
  EXPECT_TRUE(std::isnan(m.margin));
  EXPECT_TRUE(std::isnan(m.rank1));
  EXPECT_EQ(m.queries, 0u);
  m = ComputeMetrics({Km(0, 1, 0.3)}, 2);
  EXPECT_TRUE(std::isnan(m.auc));
  EXPECT_TRUE(std::isnan(m.fpr_at_tpr95));
  EXPECT_EQ(m.queries, 2u);
  EXPECT_DOUBLE_EQ(m.rank1, 1.0);
}

TEST(MetricsEdge, NaNScoresRankLowest) {
  EXPECT_DOUBLE_EQ(Auc({std::nan("")}, {0.1}), 0.0);
  EXPECT_DOUBLE_EQ(Auc({0.1}, {std::nan("")}), 1.0);
}

}  // namespace
}  // namespace toolmark
