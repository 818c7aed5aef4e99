// Accuracy metrics on scored pairs with ground truth. Everything here is
// exact counting on sorted copies of the scores (no floating accumulation
// whose order could vary), so the results are deterministic.
#include "toolmark/engine/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// NaN scores rank below every real score (they are treated as −∞).
double Clean(double score) { return std::isnan(score) ? -std::numeric_limits<double>::infinity() : score; }

std::vector<double> SortedAscending(const std::vector<double>& v) {
  std::vector<double> s(v.size());
  std::transform(v.begin(), v.end(), s.begin(), Clean);
  std::sort(s.begin(), s.end());
  return s;
}

/// Number of elements of an ascending vector that are ≥ t.
std::size_t CountAtLeast(const std::vector<double>& sorted, double t) {
  return static_cast<std::size_t>(sorted.end() - std::lower_bound(sorted.begin(), sorted.end(), t));
}

/// One point of the ROC curve: a threshold t classifies score ≥ t as a match.
struct RocPoint {
  double fpr = 0, tpr = 0;
};

/// ROC points for every distinct score as threshold, from t = +∞ (0, 0)
/// down to t = lowest score (1, 1); FPR and TPR are non-decreasing.
std::vector<RocPoint> RocCurve(const std::vector<double>& km, const std::vector<double>& knm) {
  const std::vector<double> pos = SortedAscending(km), neg = SortedAscending(knm);
  std::vector<double> thresholds;
  thresholds.reserve(pos.size() + neg.size());
  std::merge(pos.begin(), pos.end(), neg.begin(), neg.end(), std::back_inserter(thresholds));
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  std::vector<RocPoint> roc{{0, 0}};
  const double np = static_cast<double>(pos.size()), nn = static_cast<double>(neg.size());
  for (auto it = thresholds.rbegin(); it != thresholds.rend(); ++it) {
    roc.push_back(
        {static_cast<double>(CountAtLeast(neg, *it)) / nn, static_cast<double>(CountAtLeast(pos, *it)) / np});
  }
  return roc;
}

}  // namespace

double Auc(const std::vector<double>& km, const std::vector<double>& knm) {
  if (km.empty() || knm.empty()) return kNaN;
  const std::vector<double> neg = SortedAscending(knm);
  // Twice the Mann–Whitney U: 2 per KNM strictly below, 1 per KNM tied.
  std::uint64_t twice_u = 0;
  for (double raw : km) {
    const double s = Clean(raw);
    const auto [lo, hi] = std::equal_range(neg.begin(), neg.end(), s);
    twice_u += 2 * static_cast<std::uint64_t>(lo - neg.begin()) + static_cast<std::uint64_t>(hi - lo);
  }
  return static_cast<double>(twice_u) /
         (2.0 * static_cast<double>(km.size()) * static_cast<double>(knm.size()));
}

// The ROC curve is taken as the polyline through the points of every distinct
// threshold (linear interpolation between adjacent thresholds, i.e. a
// randomised choice between them). Along it FPR + TPR − 1 = FPR − FNR rises
// from −1 to +1; the EER is the FPR (= FNR) where the polyline crosses the
// anti-diagonal FPR = FNR, interpolated linearly within the crossing segment.
double EqualErrorRate(const std::vector<double>& km, const std::vector<double>& knm) {
  if (km.empty() || knm.empty()) return kNaN;
  const std::vector<RocPoint> roc = RocCurve(km, knm);
  for (std::size_t k = 1; k < roc.size(); ++k) {
    const double g0 = roc[k - 1].fpr + roc[k - 1].tpr - 1, g1 = roc[k].fpr + roc[k].tpr - 1;
    if (g1 < 0) continue;
    if (g1 == g0) return roc[k].fpr;   // only when g0 = g1 = 0: the point itself
    const double f = -g0 / (g1 - g0);  // in [0, 1]; g0 < 0 ≤ g1 here
    return roc[k - 1].fpr + f * (roc[k].fpr - roc[k - 1].fpr);
  }
  return roc.back().fpr;  // unreachable: the last point has g = 1
}

// The threshold is the k-th highest KM score with k = ⌈tpr · nKM⌉ (the
// highest threshold that keeps TPR ≥ tpr); FPR only falls as the threshold
// rises, so this is the smallest reachable FPR. tpr ≤ 0 gives 0.
double FprAtTpr(const std::vector<double>& km, const std::vector<double>& knm, double tpr) {
  if (km.empty() || knm.empty()) return kNaN;
  const std::vector<double> pos = SortedAscending(km), neg = SortedAscending(knm);
  const double need = std::ceil(tpr * static_cast<double>(pos.size()) - 1e-9);
  if (need <= 0) return 0;
  const std::size_t k = std::min(pos.size(), static_cast<std::size_t>(need));
  const double threshold = pos[pos.size() - k];
  return static_cast<double>(CountAtLeast(neg, threshold)) / static_cast<double>(neg.size());
}

namespace {

/// Margin: lowest KM score − highest KNM score; NaN without both kinds.
double Margin(const std::vector<double>& km, const std::vector<double>& knm) {
  if (km.empty() || knm.empty()) return kNaN;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double s : km) lo = std::min(lo, Clean(s));
  for (double s : knm) hi = std::max(hi, Clean(s));
  return lo - hi;
}

/// Fills queries, rank1, rank10 (see ComputeMetrics).
void ComputeRanks(const std::vector<ScoredPair>& pairs, int items, Metrics* m) {
  const auto n = static_cast<std::size_t>(std::max(items, 0));
  const double none = -std::numeric_limits<double>::infinity();
  std::vector<double> best_km(n, none);
  std::vector<char> has_km(n, 0);
  auto in_range = [n](int i) { return i >= 0 && static_cast<std::size_t>(i) < n; };
  for (const ScoredPair& p : pairs) {
    if (!p.known_match || p.a == p.b || !in_range(p.a) || !in_range(p.b)) continue;
    for (int q : {p.a, p.b}) {
      has_km[static_cast<std::size_t>(q)] = 1;
      best_km[static_cast<std::size_t>(q)] = std::max(best_km[static_cast<std::size_t>(q)], Clean(p.score));
    }
  }
  std::vector<std::size_t> rank(n, 1);
  for (const ScoredPair& p : pairs) {
    if (p.known_match || p.a == p.b || !in_range(p.a) || !in_range(p.b)) continue;
    for (int q : {p.a, p.b}) {
      const auto i = static_cast<std::size_t>(q);
      if (has_km[i] && Clean(p.score) >= best_km[i]) ++rank[i];
    }
  }
  std::size_t queries = 0, top1 = 0, top10 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!has_km[i]) continue;
    ++queries;
    top1 += rank[i] == 1;
    top10 += rank[i] <= 10;
  }
  m->queries = queries;
  const double q = static_cast<double>(queries);
  m->rank1 = queries ? static_cast<double>(top1) / q : kNaN;
  m->rank10 = queries ? static_cast<double>(top10) / q : kNaN;
}

}  // namespace

Metrics ComputeMetrics(const std::vector<ScoredPair>& pairs, int items) {
  Metrics m;
  std::vector<double> km, knm;
  for (const ScoredPair& p : pairs) (p.known_match ? km : knm).push_back(p.score);
  m.pairs = pairs.size();
  m.km_pairs = km.size();
  m.knm_pairs = knm.size();
  m.auc = Auc(km, knm);
  m.eer = EqualErrorRate(km, knm);
  m.fpr_at_tpr95 = FprAtTpr(km, knm, 0.95);
  m.fpr_at_tpr99 = FprAtTpr(km, knm, 0.99);
  m.margin = Margin(km, knm);
  ComputeRanks(pairs, items, &m);
  return m;
}

}  // namespace toolmark
