// Accuracy metrics on scored pairs with ground truth (evaluation only).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace toolmark {

/// One scored pair of items (indices into the evaluated set).
struct ScoredPair {
  int a = 0, b = 0;
  double score = 0;
  bool known_match = false;
};

struct Metrics {
  std::size_t pairs = 0, km_pairs = 0, knm_pairs = 0;
  double auc = 0;           ///< P(KM score > KNM score), ties count 1/2
  double eer = 0;           ///< equal error rate
  double fpr_at_tpr95 = 0;  ///< smallest FPR reaching TPR ≥ 0.95
  double fpr_at_tpr99 = 0;
  double margin = 0;           ///< lowest KM score − highest KNM score (> 0: separated)
  double rank1 = 0;            ///< fraction of queries with a known match ranked first
  double rank10 = 0;           ///< … within the first ten
  std::size_t queries = 0;     ///< items that have at least one known match among the others
  std::optional<double> cllr;  ///< log-likelihood-ratio cost; none until calibrated
};

/// Metrics of pairs over `items` items. Ranks: each item queries all others
/// (pairs are symmetric); its rank is 1 + the number of non-matches scoring at
/// least as high as its best known match (ties count against the query).
/// Only the given pairs take part (with sampled pairs, ranks are over the
/// sample); items without a known match among the pairs are not queries.
/// Pairs with a == b or an index outside [0, items) are ignored for ranks.
/// Without KM or without KNM pairs, auc, eer, fpr_at_tpr*, margin are NaN;
/// without queries, rank1 and rank10 are NaN. NaN scores count as −∞.
/// cllr stays nullopt (no calibration here).
Metrics ComputeMetrics(const std::vector<ScoredPair>& pairs, int items);

/// Area under the ROC curve: the Mann–Whitney U statistic / (nKM · nKNM),
/// ties counting 1/2; exact counting, O(n log n). NaN if either list is empty.
double Auc(const std::vector<double>& km, const std::vector<double>& knm);
/// Equal error rate in [0, 1]: where FPR = FNR on the ROC polyline through
/// the (FPR, TPR) points of every distinct score as threshold (score ≥ t is
/// a match), linearly interpolated between adjacent thresholds. NaN if either
/// list is empty.
double EqualErrorRate(const std::vector<double>& km, const std::vector<double>& knm);
/// Smallest FPR over thresholds whose TPR ≥ tpr (tpr in [0, 1]); NaN if
/// either list is empty.
double FprAtTpr(const std::vector<double>& km, const std::vector<double>& knm, double tpr);

}  // namespace toolmark
