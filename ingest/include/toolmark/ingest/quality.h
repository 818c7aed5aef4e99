// Scan intake: bringing a scan to the comparators' conventions (bullet land
// orientation) and its quality findings — what an examiner must know about a
// scan before trusting a comparison of it. Every entry point that takes a
// scan from outside (info, ingest, compare, eval, search) goes through
// TakeIn, so a scan is judged the same way everywhere. docs/quality.md.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/engine/orientation.h"
#include "toolmark/engine/registry.h"
#include "toolmark/engine/surface.h"

namespace toolmark::ingest {

enum class Severity {
  kInfo,     ///< what was found or done; nothing to worry about
  kWarning,  ///< comparisons of this scan are weaker or rest on an assumption
  kRefused,  ///< no usable data: the scan is not taken
};
const char* SeverityName(Severity s);  ///< "info", "warning", "refused"

/// One finding: a stable code for programs, a sentence for the examiner.
struct QualityFinding {
  std::string code;  ///< e.g. "valid_fraction", "orientation", "grooves", "breech_face"
  Severity severity = Severity::kInfo;
  std::string message;
};

/// The intake verdict on one scan.
struct ScanQuality {
  Kind kind = Kind::kCartridgeCase;  ///< what it was assessed as (a bullet: one land)
  std::string kind_source;           ///< "stated" or "detected" (shape and striae)
  double valid_fraction = 0;         ///< of the stored grid
  double value_range = 0;            ///< max − min of the values (µm for heights; NaN-free)
  // Orientation (bullet lands; empty orientation for cartridge cases).
  std::string orientation;          ///< OrientationName of how the file stores it ("" : not assessed)
  bool orientation_settled = true;  ///< false: assumed, not known (see the "orientation" finding)
  std::string orientation_source;   ///< "data", "stated", "data (assumed)", "none"
  std::string striae_axis;          ///< of the stored scan: "y", "x", "oblique", "undetermined"
  double striae_angle_deg = 0;      ///< from +y towards +x (stored scan); NaN when undetermined
  double striae_support = 0;        ///< share of directional texture along that direction, 0 … 1
  double striae_coherence = 0;      ///< 0 … 1 (isotropic texture: about 0.3)
  // Bullet lands (after the orientation).
  std::optional<bool> left_shoulder, right_shoulder;  ///< groove shoulders found
  double land_extent_um = 0;                          ///< the scan's extent across the land
  double signature_um = 0;                            ///< valid signature length
  double land_remaining = 0;                          ///< signature_um / land_extent_um
  // Cartridge cases.
  std::optional<bool> breech_face_found;      ///< the primer's outer edge
  std::optional<bool> firing_pin_found;       ///< the firing-pin hole
  std::optional<bool> firing_pin_impression;  ///< an impression with data to compare
  double breech_face_mm2 = 0;                 ///< valid band-passed breech-face area
  std::vector<QualityFinding> findings;

  bool Refused() const;
  /// The first refusal's message ("" when not refused).
  std::string RefusalReason() const;
  /// Count of warnings.
  int Warnings() const;
  /// "good" when there is no warning, else "weak".
  std::string Grade() const;
  /// The warnings' messages joined by "; " ("" when none).
  std::string WarningText() const;
};

/// What the caller knows about a scan.
struct IntakeOptions {
  /// A bullet land or a cartridge case; none: decided from the scan's shape
  /// and striae (LooksLikeLandScan).
  std::optional<Kind> kind;
  /// How a land scan is stored (a flag or a manifest column); none: measured.
  std::optional<Orientation> orientation;
  std::string orientation_source = "flag";  ///< where a stated orientation came from ("flag", "manifest")
  /// Run the comparators' preprocessing to judge the scan (groove shoulders,
  /// breech-face region, …): the thorough check; false: orientation, valid
  /// fraction and ranges only.
  bool preprocess = true;
};

/// A scan taken in: upright (comparators' conventions) and judged.
struct Intake {
  Surface surface;  ///< upright: the stored scan with the land orientation undone
  ScanQuality quality;
};

/// Takes a scan in. Throws toolmark::Error (one line, the reason only) when
/// it is refused: no valid data, too little after preprocessing, or a
/// stated orientation the data contradict. A cartridge case is never
/// transformed; an upright land comes out bit-identical to the input.
Intake TakeIn(const Surface& stored, const IntakeOptions& options);
/// As TakeIn, but a refused scan is returned with its findings (quality.Refused()).
Intake AssessScan(const Surface& stored, const IntakeOptions& options);

/// The kind stated, else LooksLikeLandScan's verdict on the stored scan.
Kind ResolveKind(std::optional<Kind> kind, const Surface& stored, const StriaeDirection& measured);

nlohmann::json QualityJson(const ScanQuality& q);
/// Parses QualityJson's output; throws toolmark::Error for malformed input.
ScanQuality QualityFromJson(const nlohmann::json& j);

}  // namespace toolmark::ingest
