// Firing-pin impressions of cartridge cases as a mark of their own: the
// impression inside the hole that breech-face preprocessing found is
// extracted at the scan's resolution (centre refined, axisymmetric form and
// waviness removed) and resampled to a polar grid about its centre; two
// impressions are compared by masked normalised circular cross-correlation
// over the full circle, for the whole impression and sector by sector, and
// the sectors that agree on one rotation are counted (congruent sectors, as
// Congruent Matching Cells count cells). Engine code: in-memory,
// deterministic, thread-safe. Method and every constant: docs/firing_pin.md.
// Every length is in µm; NaN is a missing point.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "toolmark/engine/breech_face.h"
#include "toolmark/engine/surface.h"

namespace toolmark {

/// Options of ExtractFiringPin and CompareFiringPins (both take the same
/// options; the polar grid's spacing and angle step must match).
struct FiringPinOptions {
  /// Radial step of the polar grid, and the least spacing the impression is
  /// processed at (a finer scan is area-averaged to it; a coarser one is used
  /// at its own spacing, never interpolated to a finer grid).
  double spacing_um = 6.25;
  /// Gaussian high-pass cut-off (ISO 16610-61 σ = 0.1874 λc) applied after
  /// the axisymmetric form is removed; +inf: none.
  double lambda_c_um = 150.0;
  /// Rings used, as fractions of the hole's radius: inside inner_fraction a
  /// ring has too few points (the centre is a singularity of the polar grid);
  /// outside outer_fraction the wall's steep slope turns centre errors into
  /// false texture.
  double inner_fraction = 0.2, outer_fraction = 0.75;
  double angle_step_deg = 1.0;     ///< angular step of the polar grid; 360 must be a whole multiple
  int sectors = 8;                 ///< angular sectors of the congruence test
  double min_sector_valid = 0.35;  ///< share of a sector's polar samples that must be valid for it to count
  double ccf_threshold = 0.5;      ///< a congruent sector correlates at least this well …
  double rotation_tolerance_deg = 6.0;  ///< … at a rotation within this of the reference rotation
  /// Extraction: the hole's centre is refined within ± this along x and y
  /// (the centre of the axisymmetric form); 0: the breech face's circle as is.
  double centre_search_um = 30.0;
  /// Comparison: the other impression's centre is also tried at ± this along
  /// x and y (a 3 × 3 grid) to absorb what is left of the centre errors; 0: not.
  double compare_shift_um = 4.0;
  /// Least share of the points inside the hole that must be finite for the
  /// impression to be present (processed scans often leave the hole empty).
  double min_valid_fraction = 0.5;
};

/// A firing-pin impression ready for comparison.
struct FiringPinImpression {
  /// false: no hole, or too little data in it (see note); then only the
  /// hole's centre and radius (when there is a hole) and the steps are set.
  bool present = false;
  std::string note;  ///< why it is absent, or what was assumed
  /// Refined centre in the INPUT scan's grid µm (x = column · spacing_x_um,
  /// y = row · spacing_y_um, rows downwards).
  double centre_x_um = 0, centre_y_um = 0;
  double centre_shift_um = 0;  ///< distance of the refined centre from the breech face's hole circle
  double radius_um = 0;        ///< the hole's radius (breech-face preprocessing)
  /// Peak-to-valley of the axisymmetric radial profile within the radius
  /// (value units: µm for heights, grey levels for 2D images).
  double depth_um = 0;
  /// Polar grid: rings × angles, CV_64F, NaN = missing. Ring i lies at radius
  /// (first_ring + i) · ring_step_um from the centre, angle j at
  /// j · angle_step_deg measured from +x towards +y (atan2(y, x), y down the
  /// rows). Absolute radii, so that impressions of different radius align.
  cv::Mat polar;
  int first_ring = 0;         ///< index of the polar grid's first ring (its radius / ring_step_um)
  double ring_step_um = 0;    ///< options.spacing_um
  double angle_step_deg = 0;  ///< options.angle_step_deg
  /// Cartesian processed impression (form removed, high-passed, NaN outside
  /// the hole), for plots and for the comparison's centre search; its point
  /// (col, row) lies at input grid µm (processed_x0_um + col · spacing_x_um,
  /// processed_y0_um + row · spacing_y_um). origin_* is the input's origin
  /// plus that offset.
  Surface processed;
  double processed_x0_um = 0, processed_y0_um = 0;  ///< input grid µm of processed's point (0, 0)
};

/// Extracts the firing-pin impression of `scan` inside the hole that `face`
/// (PreprocessBreechFace of the same scan, any options) found. Heights and 2D
/// intensity images alike. present = false with a note when there is no hole
/// or too little data in it; throws toolmark::Error (one line) for invalid
/// options or a face that does not belong to the scan's grid.
FiringPinImpression ExtractFiringPin(const Surface& scan, const BreechFace& face,
                                     const FiringPinOptions& options = {});

/// One angular sector of a reference impression and where it fits the other.
struct FiringPinSector {
  double start_deg = 0;       ///< the sector covers [start_deg, start_deg + 360 / sectors) of the reference
  double valid_fraction = 0;  ///< of its polar samples (area-weighted) over the rings compared
  bool used = false;          ///< valid_fraction ≥ min_sector_valid
  double ccf = -1;            ///< best masked normalised cross-correlation over the full circle
  double rotation_deg = 0;    ///< at this rotation (the direction's convention)
  bool congruent = false;     ///< used, ccf ≥ ccf_threshold, rotation within the tolerance of the reference
};

/// One direction: the reference's sectors found in the other impression.
struct FiringPinDirection {
  /// The other, rotated by this about its impression's centre, matches the
  /// reference (CmcDirection's convention): p_ref − c_ref = Rot(θ)(p_other −
  /// c_other − shift), Rot(θ) = [[cos, −sin], [sin, cos]] on (x, y), y down
  /// the rows, c the impressions' centres. In (−180, 180].
  double rotation_deg = 0;
  double ccf = -1;                        ///< the whole impression's best correlation
  double shift_x_um = 0, shift_y_um = 0;  ///< the other's centre offset that won the centre search
  double reference_rotation_deg = 0;      ///< the rotation sectors were judged against (NaN: none)
  int count = 0;                          ///< congruent sectors
  int sectors_used = 0;                   ///< sectors with enough valid data
  std::vector<FiringPinSector> sectors;   ///< options.sectors of them, in angle order
};

/// The comparison of two impressions, both directions.
struct FiringPinComparison {
  bool compared = false;        ///< false when either impression is absent or too little of them overlaps
  std::string note;             ///< why not compared, or the counts in words
  double ccf = -1;              ///< forward.ccf
  double rotation_deg = 0;      ///< forward.rotation_deg, in (−180, 180]
  int congruent_sectors = 0;    ///< min of both directions' counts
  int sectors_used = 0;         ///< min of both directions' used sectors
  FiringPinDirection forward;   ///< sectors of a in b
  FiringPinDirection backward;  ///< sectors of b in a (rotations are −forward's)
};

/// Compares two impressions (extracted with the same spacing_um and
/// angle_step_deg). reference_rotation_deg: the rotation of b onto a from
/// independent evidence, e.g. CompareCmc(face_a, face_b).forward.rotation_deg;
/// a sector is congruent when its ccf ≥ ccf_threshold and its rotation lies
/// within rotation_tolerance_deg of it (NaN or any non-finite value: of the
/// circular median rotation of the sectors that pass the threshold). Throws
/// toolmark::Error for invalid options or impressions on different polar
/// grids.
FiringPinComparison CompareFiringPins(const FiringPinImpression& a, const FiringPinImpression& b,
                                      double reference_rotation_deg, const FiringPinOptions& options = {});

}  // namespace toolmark
