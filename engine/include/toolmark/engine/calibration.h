// Calibration: a comparator's score → log10 likelihood ratio (LR), fitted on
// known-match (KM) and known-non-match (KNM) scores of a named calibration
// set and kept with that set's provenance. Method, constants and
// measurements: docs/calibration.md. Engine code: no files, deterministic.
//
// LR = P(score | same source) / P(score | different sources). log10 LR > 0
// supports "same source"; 0 is no evidence either way.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace toolmark {

/// Where a calibration came from: enough to say in a report which data the
/// likelihood ratios rest on, and to fit it again.
struct CalibrationProvenance {
  /// The calibration set, e.g. "synthetic cartridge cases realistic+hard 25x4 seed 41" or a
  /// laboratory's dataset folder.
  std::string set;
  std::string command;           ///< the command that fitted it (`toolmark calibrate …`)
  std::string fitted_at;         ///< UTC time of the fit, ISO 8601 ("2026-01-31T12:00:00Z")
  std::string toolmark_version;  ///< Version() of the toolmark that computed the scores
  std::size_t km = 0;            ///< known-match scores fitted on
  std::size_t knm = 0;           ///< known-non-match scores fitted on
};

/// A fitted score → log10 LR map (docs/calibration.md).
///
/// Method "logistic": log10 LR(s) = parameters[0] + parameters[1] · g(s),
/// g the `transform` ("identity": s; "log1p": ln(1 + max(s, 0)), for counts;
/// "logit": ln(p / (1 − p)) with p = s clamped to [kLogitEpsilon, 1 − kLogitEpsilon],
/// for probability-like scores), then clamped to [min_log10_lr, max_log10_lr].
/// parameters[1] ≥ 0, so the map is non-decreasing in the score.
///
/// Method "combined": log10 LR = parameters[0] + Σ_j parameters[j] · x_j over
/// the named `features` (a comparison's details, e.g. the CMC's
/// surface_ccf), every slope ≥ 0, then clamped to the bounds.
struct Calibration {
  std::string comparator;  ///< Comparator::Name() whose scores it maps ("cmc", "land", …)
  /// "pair": one scan against another (toolmark eval's pair and land levels);
  /// "bullet": bullet against bullet (the bullet score).
  std::string level = "pair";
  std::string method = "logistic";     ///< logistic | kofn (toolmark/engine/kofn.h) | combined
  std::string transform = "identity";  ///< identity | log1p | logit (logistic only)
  /// logistic: {intercept, slope}, log10 units; kofn: {α₁, β₁, α₀, β₀} of the
  /// same- and different-source beta-binomials; combined: {intercept, one
  /// slope per feature}, log10 units.
  std::vector<double> parameters;
  /// combined: the features, in parameter order; kofn: the names of k and n
  /// (the score table's columns, e.g. cmc_count and cells_compared) or none
  std::vector<std::string> features;
  /// kofn and combined: the parameters refitted on bootstrap resamples of the calibration
  /// data (a fixed seed), for the LR's 5–95% interval; may be empty.
  std::vector<std::vector<double>> replicates;
  /// Bounds (ELUB, Vergeer et al. 2016): never beyond what the calibration
  /// data can support. min_log10_lr ≤ 0 ≤ max_log10_lr, both finite.
  double min_log10_lr = 0, max_log10_lr = 0;
  CalibrationProvenance provenance;

  /// log10 LR of a score: finite, within the bounds, non-decreasing in score.
  /// +∞ gives the upper bound, −∞ the lower; NaN (no comparison) gives 0.
  /// Throws toolmark::Error for a kofn calibration (it needs k and n).
  double Log10Lr(double score) const;
  /// True for a calibration of counts k of n (method kofn).
  bool NeedsTrials() const { return method == "kofn"; }
  /// log10 LR of k of n trials (kofn), within the bounds; a logistic
  /// calibration maps k as its score.
  double Log10LrOfCount(int k, int n) const;
  /// The k-of-n model's log10 LR before the bounds (for ranking). Throws
  /// toolmark::Error for another method or a bad count.
  double UnboundedLog10LrOfCount(int k, int n) const;
  /// The 5% and 95% quantiles of the log10 LR of k of n over the bootstrap
  /// replicates (within the bounds); nullopt without replicates.
  std::optional<std::pair<double, double>> Log10LrIntervalOfCount(int k, int n) const;
  /// True for a model of several named features (method combined).
  bool NeedsFeatures() const { return method == "combined"; }
  /// log10 LR of the features' values (in `features` order), within the
  /// bounds. Throws toolmark::Error for another method, a wrong number of
  /// values or a value that is not finite (a feature the comparison lacks).
  double Log10LrOfFeatures(const std::vector<double>& x) const;
  /// The same before the bounds (for ranking: no ties at the bounds).
  double UnboundedLog10LrOfFeatures(const std::vector<double>& x) const;
  /// The 5% and 95% quantiles over the bootstrap replicates (within the
  /// bounds); nullopt without replicates.
  std::optional<std::pair<double, double>> Log10LrIntervalOfFeatures(const std::vector<double>& x) const;
  /// Throws toolmark::Error unless the calibration is well formed (known
  /// level, method and transform; two finite parameters, slope ≥ 0; finite
  /// bounds with min ≤ 0 ≤ max and |bound| ≤ kMaxAbsLog10Lr; comparator and
  /// provenance set not empty).
  void Check() const;

 private:
  void CheckFeatureValues(const std::vector<double>& x) const;
};

/// p is clamped to [kLogitEpsilon, 1 − kLogitEpsilon] before the logit transform.
inline constexpr double kLogitEpsilon = 1e-6;
/// No calibration may state an LR beyond 10^±kMaxAbsLog10Lr, whatever its data.
inline constexpr double kMaxAbsLog10Lr = 9;
/// FitCalibration needs at least this many KM and this many KNM scores.
inline constexpr std::size_t kMinCalibrationScores = 5;

/// The score transform FitCalibration uses for a comparator and level:
/// "logit" for a probability-scaled score at pair level (ScoreScale, e.g. "land": the
/// output of a logistic model, so its logit is the model's linear score);
/// "identity" otherwise, e.g. the "cmc" item score (a count: for binomial
/// counts the log LR is linear in the count) and the bullet score (a mean of
/// land scores). Chosen by held-out Cllr on synthetic sets (docs/calibration.md).
std::string DefaultTransform(const std::string& comparator, const std::string& level);

/// Fits a calibration (docs/calibration.md): logistic regression of the label
/// on g(score) with the two classes weighted equally (so the fitted log odds
/// are log LRs: the prior is corrected, and the fit minimises Cllr) and
/// Platt's targets (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2) instead of 1 and 0 (so the
/// fit stays finite under perfect separation), by Newton's method. A negative
/// slope (higher scores not more likely for known matches) is set to 0. Then
/// the ELUB bounds of the fitted LRs on the same scores. transform empty: the
/// DefaultTransform. provenance.km/knm are set to the counts.
/// Throws toolmark::Error for fewer than kMinCalibrationScores scores in
/// either class, a non-finite score, or an unknown level or transform.
/// Deterministic: the result depends only on the scores' order-free values.
Calibration FitCalibration(const std::vector<double>& km_scores, const std::vector<double>& knm_scores,
                           const std::string& comparator, const std::string& level,
                           CalibrationProvenance provenance, const std::string& transform = "");

/// Fits a k-of-n calibration (method kofn: FitKOfN on the counts, the ELUB
/// bounds of its LRs on the same counts) and `replicates` bootstrap refits
/// (each class resampled with replacement; seed fixed, so the same counts
/// give the same file). `inputs`: the names k and n are read from (the
/// calibration's features, KOfNInputs), or none. Throws as FitCalibration
/// and FitBetaBinomial.
Calibration FitKOfNCalibration(const std::vector<std::pair<int, int>>& km_counts,
                               const std::vector<std::pair<int, int>>& knm_counts,
                               const std::string& comparator, const std::string& level,
                               CalibrationProvenance provenance, int replicates = 200,
                               const std::vector<std::string>& inputs = {});

/// What a calibration gives one comparison: the log10 LR (within the
/// bounds) and, where the calibration has bootstrap replicates, its 5–95%
/// interval; or, when the comparison lacks what the calibration reads, no
/// LR and why.
struct ComparisonLr {
  std::optional<double> log10_lr;
  std::optional<std::pair<double, double>> interval;
  std::string why;  ///< set when there is no LR
};

/// The calibration applied to one comparison, whatever its method: logistic
/// maps `score`; kofn reads k and n from the details named by its
/// `features` (KOfNInputs); combined reads its features from the details by
/// name. A detail that is missing or not finite gives no LR (`why` names it).
ComparisonLr Log10LrOfComparison(const Calibration& c, double score,
                                 const std::vector<std::pair<const char*, double>>& details);

/// The details a k-of-n calibration reads as k and n: its `features`, or
/// (files written before they were named) the CMC's cmc_count and
/// cells_compared.
std::vector<std::string> KOfNInputs(const Calibration& c);

/// Fits a combined calibration (method combined): logistic regression of the
/// label on the rows' features (equal class weights and Platt's targets as
/// FitCalibration; each feature standardised for the fit; a feature whose
/// slope comes out negative is dropped, slope 0, and the rest refitted), the
/// ELUB bounds of its LRs on the same rows, and `replicates` bootstrap refits
/// (a fixed seed). Every row has one finite value per feature. Throws
/// toolmark::Error for too few rows of either class or a malformed row.
/// Deterministic: the result does not depend on the rows' order.
Calibration FitCombinedCalibration(const std::vector<std::vector<double>>& km_rows,
                                   const std::vector<std::vector<double>>& knm_rows,
                                   const std::vector<std::string>& features, const std::string& comparator,
                                   const std::string& level, CalibrationProvenance provenance,
                                   int replicates = 200);

/// Empirical lower and upper bound (ELUB, Vergeer, van Es, de Jongh, Alberink,
/// Stoel, Sci. Justice 56 (2016) 482–491) of a set of log10 LRs with ground
/// truth, as {lower, upper} in log10 units: the widest bounds within which the
/// LRs, with one misleading LR of each kind added, never have a higher
/// expected Bayes decision cost than LR = 1 at any decision threshold.
/// Computed exactly (not on a grid). lower ≤ 0 ≤ upper. Throws
/// toolmark::Error for an empty class or a NaN.
std::pair<double, double> ElubBounds(const std::vector<double>& km_log10_lr,
                                     const std::vector<double>& knm_log10_lr);

/// Log-likelihood-ratio cost (Brümmer & du Preez 2006), in bits:
/// ½ [mean over KM of log2(1 + 1/LR) + mean over KNM of log2(1 + LR)].
/// 0 for perfect, 1 for LR = 1 everywhere, above 1 for misleading LRs; +∞
/// when an LR of 0 (∞) is given to a KM (KNM). Throws toolmark::Error for an
/// empty class or a NaN.
double Cllr(const std::vector<double>& km_log10_lr, const std::vector<double>& knm_log10_lr);

/// The Cllr the scores would have under the best non-decreasing calibration
/// fitted on themselves (pool-adjacent-violators, ties pooled, with the
/// classes' prior corrected): what remains is discrimination loss. Throws
/// toolmark::Error for an empty class or a NaN score.
double MinCllr(const std::vector<double>& km_scores, const std::vector<double>& knm_scores);

/// The calibration shipped for a comparator and level (fitted on synthetic
/// data only; constants and provenance in engine/src/calibration_default.cc),
/// or nullopt when there is none.
std::optional<Calibration> DefaultCalibration(const std::string& comparator,
                                              const std::string& level = "pair");

}  // namespace toolmark
