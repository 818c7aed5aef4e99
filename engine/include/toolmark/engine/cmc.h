// Congruent Matching Cells (after Song, NIST 2013; Tong et al. 2015) for
// breech-face impressions: the reference is cut into cells, every cell is
// registered in the other surface, and the cells that agree on one common
// rotation and translation with a high correlation are counted. Engine code:
// in-memory, deterministic, thread-safe. Method and constants: docs/cmc.md.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "toolmark/engine/breech_face.h"
#include "toolmark/engine/firing_pin.h"

namespace toolmark {

struct CmcOptions {
  double spacing_um = 25.0;               ///< working grid of the cells
  int cells_per_side = 8;                 ///< cells across the reference's region of interest
  double min_cell_valid = 0.35;           ///< share of a cell's area that must be valid
  double max_rotation_deg = 180.0;        ///< rotations searched: ± this (180: the full circle)
  double registration_spacing_um = 50.0;  ///< grid of the coarse full-circle registration
  /// Coarse registration: the polar signatures' rotations (rings about the
  /// firing-pin hole's centre, or the primer's; the centres aligned), else
  /// the areal full-circle registration at registration_spacing_um (also
  /// used where a scan has no usable ring).
  bool polar_coarse = true;
  int coarse_candidates = 3;   ///< distinct coarse rotations screened cell by cell (at their own angle)
  int refined_candidates = 1;  ///< best screened ones refined over the angle range, both directions
  double angle_half_range_deg = 1.0;        ///< cells are registered within ± this of the coarse rotation
  double angle_step_deg = 1.0;              ///< … in these steps
  double search_radius_um = 250.0;          ///< each cell searches ± this around its registered place
  double ccf_threshold = 0.5;               ///< a congruent cell correlates at least this well
  double translation_tolerance_um = 100.0;  ///< … and sits within this of the cells' median offset
  int decision_threshold = 6;               ///< Song's C: an identification needs this many CMCs
  /// Cartridge cases (PrepareCartridgeCase): compare the firing-pin
  /// impressions too, where both scans have one, and add their congruent
  /// sectors — those that agree with the breech face's rotation — to the item
  /// score (docs/cmc.md, docs/firing_pin.md).
  bool use_firing_pin = true;
  FiringPinOptions firing_pin;
};

/// One reference cell and where it registered.
struct CmcCell {
  int row = 0, col = 0;       ///< position in the cell grid
  double x_um = 0, y_um = 0;  ///< cell centre in the reference's grid (x = column · spacing)
  double side_um = 0;         ///< cell side
  double valid_fraction = 0;
  double ccf = -1;                        ///< best masked normalised cross-correlation
  double dx_um = 0, dy_um = 0;            ///< offset from the place the common registration predicts
  double other_x_um = 0, other_y_um = 0;  ///< matched centre in the other surface's grid
  bool congruent = false;
};

/// One direction (cells of `reference` registered in `other`).
struct CmcDirection {
  double rotation_deg = 0;  ///< other, rotated by this about its centre …
  double shift_x_um = 0;    ///< … has its centre at the reference's centre + this shift
  double shift_y_um = 0;
  int count = 0;       ///< congruent cells
  int cells_used = 0;  ///< cells with enough valid data
  std::vector<CmcCell> cells;
};

/// What the congruent-cell registration knows beyond the count (docs/cmc.md,
/// "Features behind the score"): measured on every comparison, deterministic.
struct CmcFeatures {
  double congruent_ccf_mean = 0;  ///< mean correlation of the congruent cells (both directions)
  double cell_ccf_median = 0;     ///< median best correlation of every cell compared (both directions)
  double translation_rms_um = 0;  ///< RMS distance of the congruent cells from their median offset
  double fit_rms_um = 0;  ///< RMS distance of the congruent cells from the rigid fit of their matches (mean
                          ///< of both directions)
  double rotation_disagreement_deg =
      0;                   ///< |θ_forward + θ_backward|: the two directions' rotations disagree by
  double surface_ccf = 0;  ///< cells' correlation at the congruent cells' rigid fit (no search of their own;
                           ///< mean of both directions)
  double surface_overlap =
      0;  ///< share of the cells' valid points the other scan covers there (mean of both directions)
  int rival_count = 0;   ///< forward screening count at the best other coarse rotation (≥ 12° away)
  int screen_count = 0;  ///< forward screening count at the winning coarse rotation
};

struct CmcResult {
  int count = 0;  ///< min of both directions' counts: the CMC count (breech face)
  /// The item score: count + firing_pin.congruent_sectors when the firing
  /// pins were compared (CompareCartridgeCases), else count.
  int score = 0;
  bool identification = false;     ///< score ≥ decision_threshold
  FiringPinComparison firing_pin;  ///< compared = false when either scan has no impression
  CmcDirection forward;            ///< cells of A in B
  CmcDirection backward;           ///< cells of B in A
  CmcFeatures features;
  /// The n of the count's "k of n": cells both directions could compare.
  int CellsCompared() const { return std::min(forward.cells_used, backward.cells_used); }
  /// ln((k + ½) / (n − k + ½)) of the count k of CellsCompared() n: the k of
  /// n as one number for a combined model.
  double CountLogOdds() const;
};

/// The result's numbers by name (the comparator's details, eval's pairs
/// CSV columns, the features a combined calibration reads; docs/cmc.md):
/// the count, k of n, both directions, the firing pin (NaN when not
/// compared) and the CmcFeatures.
std::vector<std::pair<const char*, double>> CmcDetails(const CmcResult& r);

/// Compares two preprocessed breech faces (PreprocessBreechFace at
/// options.spacing_um). Throws toolmark::Error when the spacings differ.
CmcResult CompareCmc(const BreechFace& a, const BreechFace& b, const CmcOptions& options = {});

/// A cartridge case ready for comparison: its breech face and, where the
/// scan shows one with data, its firing-pin impression.
struct CartridgeCase {
  BreechFace face;                 ///< at CmcOptions::spacing_um
  FiringPinImpression firing_pin;  ///< present = false when there is none (or use_firing_pin is off)
};

/// Preprocesses a cartridge-case scan (heights or a 2D image). Throws
/// toolmark::Error (one line) for unusable input.
CartridgeCase PrepareCartridgeCase(const Surface& scan, const CmcOptions& options = {});

/// Compares two cartridge cases: CMC on the breech faces, then the firing
/// pins against the breech face's rotation; score and identification are the
/// item's.
CmcResult CompareCartridgeCases(const CartridgeCase& a, const CartridgeCase& b,
                                const CmcOptions& options = {});

}  // namespace toolmark
