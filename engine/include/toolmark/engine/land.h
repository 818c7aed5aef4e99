// Bullet land engraved areas (LEAs): signatures, land-to-land features and
// scores, bullet-to-bullet phase alignment, shift-invariant land embeddings.
// Engine code: in-memory, deterministic, thread-safe. The methods and every
// constant are documented in docs/bullets.md.
//
// Conventions: a land scan is a Surface whose x axis (columns) runs across
// the land and whose y axis (rows) runs along the bullet, so striae are
// roughly parallel to y (the X3P convention of LEA scans). Every length is in
// µm; NaN is a missing point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "toolmark/engine/surface.h"

namespace toolmark {

/// How the bullet's curvature (form) is removed from the crosscut before the
/// band-pass.
enum class LandFormModel {
  kQuadratic,       ///< robust (iteratively trimmed) least-squares quadratic
  kRobustSmoother,  ///< robust local-linear smoother (LOWESS-like, Gaussian window)
};

struct LandSignatureOptions {
  double spacing_um = 2.0;            ///< working spacing of the signature
  double band_um = 40.0;              ///< height (along y) of one crosscut band
  double max_drift_um = 12.0;         ///< most lateral drift of striae between adjacent bands
  double min_band_correlation = 0.5;  ///< adjacent bands this similar form the stable region
  double groove_min_step_um = 3.0;    ///< least rise above the form that counts as a groove shoulder
  double groove_min_width_um = 20.0;  ///< a shoulder must persist this far
  double groove_margin_um = 25.0;     ///< also dropped inside each detected shoulder
  LandFormModel form = LandFormModel::kQuadratic;
  double form_sigma_um = 150.0;     ///< window σ of the robust smoother form model
  double lambda_c_um = 150.0;       ///< ISO 16610-21 Gaussian long-wavelength cut-off (high-pass)
  double lambda_s_um = 10.0;        ///< ISO 16610-21 Gaussian short-wavelength cut-off (low-pass)
  double edge_trim_um = 100.0;      ///< zone at each end searched for shoulder remnants
  double edge_outlier_sigma = 5.0;  ///< |value| beyond this many robust σ there is a remnant
  double max_gap_um = 10.0;         ///< gaps up to this wide are bridged by the filter; wider stay missing
  double min_length_um = 300.0;     ///< least signature extent accepted
};

/// A land's signature and how it was obtained (for plots and audit).
struct LandSignature {
  std::vector<double> values;  ///< band-passed profile, µm, NaN where missing
  double spacing_um = 0;       ///< of values
  double start_um = 0;         ///< x of values[0] from the scan's first column
  int valid = 0;               ///< finite values
  double groove_left_um = 0;   ///< detected shoulders (x from the first column)
  double groove_right_um = 0;
  bool left_shoulder_found = false, right_shoulder_found = false;
  double crosscut_y0_um = 0;  ///< y range (from the first row) of the averaged bands
  double crosscut_y1_um = 0;
  int bands_used = 0;           ///< bands averaged
  bool stable = false;          ///< a run of adjacent bands agreed (≥ min_band_correlation)
  double band_correlation = 0;  ///< mean adjacent-band correlation in the run
  double drift_per_mm = 0;      ///< µm a stria moves in +x per mm of +y (the striae angle)
  std::vector<double> profile;  ///< averaged crosscut before filtering (form removed), same grid
};

/// Extracts the signature; throws toolmark::Error for unusable input (no
/// heights, too narrow, too little valid data).
LandSignature ExtractLandSignature(const Surface& surface, const LandSignatureOptions& options = {});

/// Land-to-land features at the best alignment (documented in docs/bullets.md).
struct LandFeatures {
  double ccf = -1;               ///< maximum NaN-aware Pearson cross-correlation
  double rough_cor = 0;          ///< correlation of the fine (< 50 µm) part at that lag
  double lag_um = 0;             ///< x in B + lag_um = x in A (scan coordinates)
  double overlap_um = 0;         ///< common valid length at the lag
  double overlap_fraction = 0;   ///< overlap / shorter valid length
  double distance = 0;           ///< rms(a − b) / max(σa, σb) over the overlap (centred)
  double amplitude_ratio = 0;    ///< min(σa, σb) / max(σa, σb)
  double matches_per_mm = 0;     ///< striae (peaks, valleys) present in both
  double mismatches_per_mm = 0;  ///< striae present in one only
  double cms = 0;                ///< most consecutive matching striae
  double cnms = 0;               ///< most consecutive non-matching striae
  double sum_peaks_per_mm = 0;   ///< Σ over matching striae of their mean |height| / σ, per mm
  /// Feature vector in model order (see LandFeatureNames).
  std::vector<double> Vector() const;
};
std::vector<std::string> LandFeatureNames();

/// Aligns two signatures (lag of maximum NaN-aware cross-correlation with an
/// overlap of at least half the shorter valid length) and computes features.
LandFeatures CompareLandSignatures(const LandSignature& a, const LandSignature& b);

/// Every signature of `a` against every one of `b` ([i][j]), each signature
/// prepared once (spectra, striae) rather than once per pair.
std::vector<std::vector<LandFeatures>> CompareLandSignatureSets(const std::vector<LandSignature>& a,
                                                                const std::vector<LandSignature>& b);

/// Probability-scale land score from features (logistic model trained on
/// synthetic lands; coefficients and provenance in land_model.cc).
double LandScore(const LandFeatures& features);

/// Shift-invariant land embedding (unit length; cosine = dot product).
std::vector<float> LandEmbedding(const LandSignature& signature);
inline constexpr int kLandEmbeddingDim = 256;

/// Bullet-to-bullet comparison from a land score matrix.
struct BulletComparison {
  /// scores[i][j]: land i of A vs land j of B (NaN: not compared / missing).
  std::vector<std::vector<double>> land_scores;
  int lands = 0;  ///< land count used for the cyclic alignment
  /// phase p pairs A position k with B position (k + p) mod lands.
  int phase = 0;
  std::vector<double> phase_means;           ///< sequence average per phase (NaN if no pair)
  double bullet_score = 0;                   ///< sequence average of the best phase
  double phase_gap = 0;                      ///< best phase mean − mean of the other phases
  double phase_t = 0;                        ///< Welch t of best-phase land scores vs all others
  std::vector<std::pair<int, int>> matched;  ///< (index in A, index in B) pairs of the best phase
};

/// positions_a[i] is land i of A's position around the bullet (0-based);
/// `lands` is the land count (0: 1 + the largest position on either bullet).
/// Ties between phases go to the lowest phase.
BulletComparison CompareBullets(const std::vector<std::vector<double>>& land_scores,
                                const std::vector<int>& positions_a, const std::vector<int>& positions_b,
                                int lands = 0);

}  // namespace toolmark
