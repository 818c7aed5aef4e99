// A k-of-n likelihood ratio: for scores that are a count k of n trials (the
// congruent matching cells: k congruent of n cells that could be compared),
// the probability of k under each hypothesis, each a beta-binomial (a
// binomial whose rate varies between comparisons; Beta(α, β) the rate's
// distribution), fitted by maximum likelihood:
//
//   LR(k, n) = BB(k | n, α₁, β₁) / BB(k | n, α₀, β₀)
//
// (1: same source, 0: different sources; the binomial coefficient cancels).
// Unlike a bare count, 5 of 10 and 5 of 60 cells are different evidence.
// Engine code: no files, deterministic. Measured: docs/calibration.md.
#pragma once

#include <utility>
#include <vector>

namespace toolmark {

/// Beta-binomial distribution of a count k of n trials.
struct BetaBinomial {
  double alpha = 1, beta = 1;  ///< > 0
  /// ln P(k | n) without ln C(n, k) (which cancels in a likelihood ratio).
  double LogKernel(int k, int n) const;
  /// The mean rate α / (α + β).
  double Mean() const { return alpha / (alpha + beta); }
};

/// Maximum-likelihood beta-binomial of (k, n) counts (0 ≤ k ≤ n, n ≥ 1), by
/// Nelder–Mead on (ln α, ln β) within [e^−7, e^14] each, from the method of
/// moments. Deterministic. Throws toolmark::Error for no counts or a count
/// out of range.
BetaBinomial FitBetaBinomial(const std::vector<std::pair<int, int>>& counts);

/// The k-of-n likelihood-ratio model.
struct KOfNModel {
  BetaBinomial same_source, different_source;
  /// log10 LR of k of n (unbounded; finite for 0 ≤ k ≤ n, n ≥ 1).
  double Log10Lr(int k, int n) const;
};

/// Fits both hypotheses' beta-binomials; throws as FitBetaBinomial.
KOfNModel FitKOfN(const std::vector<std::pair<int, int>>& same_source,
                  const std::vector<std::pair<int, int>>& different_source);

}  // namespace toolmark
