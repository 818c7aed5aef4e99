// Orientation of scans: the eight ways a lab may store a scan (the dihedral
// transforms of its grid), the direction of striae measured from the data
// (gradient structure tensor of the band-passed surface, in µm terms), and
// the decision that brings a bullet land scan to the comparators' convention
// (striae along y, x across the land). Engine code: in-memory, deterministic,
// thread-safe. Method and constants: docs/orientation.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "toolmark/engine/surface.h"

namespace toolmark {

/// How a file stores a scan relative to the convention: the transform that
/// turned the upright scan into the stored one. Names as in OrientationName.
enum class Orientation {
  kUpright,        ///< "upright": as the convention (striae along y for lands)
  kTransposed,     ///< "transposed": rows and columns swapped (stored(r, c) = upright(c, r))
  kRot90,          ///< "rot90": turned a quarter counter-clockwise (as seen with rows downwards)
  kRot180,         ///< "rot180": turned a half turn (profile reversed, heel first)
  kRot270,         ///< "rot270": turned a quarter clockwise
  kFlipX,          ///< "flip-x": mirrored across the land (columns reversed)
  kFlipY,          ///< "flip-y": rows reversed (heel first)
  kAntiTransposed  ///< "antitransposed": swapped along the other diagonal
};

const char* OrientationName(Orientation o);
/// Parses an OrientationName (also "rot-90" = rot270, "transpose" = transposed);
/// nullopt for anything else.
std::optional<Orientation> ParseOrientation(const std::string& text);
/// Every name ParseOrientation accepts, in enum order (for help texts).
std::vector<std::string> OrientationNames();
/// True when the transform exchanges the x and y axes (quarter turns, transposes).
bool SwapsAxes(Orientation o);

/// The upright scan of a scan stored as `stored_as`: the inverse transform,
/// applied exactly (a permutation of points: values, spacing and origin move
/// with them; nothing is interpolated). kUpright returns a copy.
Surface ToUpright(const Surface& stored, Orientation stored_as);
/// The stored scan of an upright one: the transform itself (tests, synth).
Surface FromUpright(const Surface& upright, Orientation stored_as);

/// Options of the striae direction measurement (µm; any spacing).
struct StriaeOptions {
  double lambda_s_um = 10.0;     ///< Gaussian low-pass cut-off (noise), raised to 2.5 grid steps when coarser
  double lambda_c_um = 150.0;    ///< Gaussian high-pass cut-off (form, curvature, waviness)
  double tile_um = 100.0;        ///< side of the tiles whose directions are combined
  double min_form_weight = 0.9;  ///< the form filter's valid weight needed (keeps edge artefacts out)
  double max_points = 1.5e6;     ///< the working grid is coarsened to at most this many points
  double min_grid_um = 2.5;      ///< … and is never finer than this (a quarter of λs)
  double min_support = 0.5;      ///< least share of directional texture around the peak direction
  double min_coherence = 0.47;   ///< least mean coherence of the tiles that support it
  double axis_tolerance_deg = 25.0;  ///< within this of an axis the striae run "along" it
};

/// The dominant direction of striae (parallel lines) in a scan.
struct StriaeDirection {
  enum class Axis { kAlongY, kAlongX, kOblique, kUndetermined };
  Axis axis = Axis::kUndetermined;
  /// Direction of the striae in degrees from +y towards +x, in (−90, 90]; NaN when none.
  double angle_deg = 0;
  /// Share (0 … 1) of the directional texture — tiles weighted by their
  /// coherence² — whose direction lies within 15° of the peak direction.
  double support = 0;
  /// The same share at right angles to the peak (a grid of two directions).
  double support_across = 0;
  /// Mean coherence (0: isotropic … 1: perfectly parallel lines) of the
  /// tiles that support the peak; isotropic texture gives about 0.3.
  double coherence = 0;
  int tiles = 0;       ///< tiles with enough data
  double grid_um = 0;  ///< spacing of the working grid
  std::string reason;  ///< one line: what was found, or why nothing was
};
const char* StriaeAxisName(StriaeDirection::Axis axis);  ///< "y", "x", "oblique", "undetermined"

/// Measures the striae direction of a height map or 2D image. Never throws
/// for data problems (too little data gives kUndetermined with a reason).
StriaeDirection MeasureStriaeDirection(const Surface& surface, const StriaeOptions& options = {});

/// What was decided about a bullet land scan's orientation.
struct LandOrientation {
  Orientation stored_as = Orientation::kUpright;  ///< the inverse of this was applied
  /// true when the transform is known: stated by the user, or upright as
  /// measured; false when the data could not settle it (a quarter turn was
  /// applied whose handedness is assumed, or no direction was measured).
  bool settled = true;
  std::string source;        ///< "data", "stated", "data (assumed)", "none"
  StriaeDirection measured;  ///< of the scan as stored
  std::string note;          ///< one line for the examiner
};

/// Decides how a land scan is stored. `stated` (a flag or a manifest column)
/// wins, but is refused (toolmark::Error) when the data contradict it
/// clearly (striae measured along the other axis). Unstated: striae along y
/// → upright, settled; along x → transposed, not settled (a transpose and a
/// quarter turn differ by a mirror the data cannot see: say which with
/// --orientation); oblique or undetermined → as stored, not settled.
LandOrientation ResolveLandOrientation(const Surface& stored, std::optional<Orientation> stated,
                                       const StriaeOptions& options = {});
/// The same decision from a measurement already made of the stored scan.
LandOrientation ResolveLandOrientation(std::optional<Orientation> stated, const StriaeDirection& measured);

/// True when the scan's shape and striae look like a bullet land in any
/// orientation: its extent across the striae is at least twice its extent
/// along them (upright: x ≥ 2y unless striae clearly run along x; a quarter
/// turn: y ≥ 2x with striae clearly along x).
bool LooksLikeLandScan(const Surface& surface, const StriaeDirection& measured);

}  // namespace toolmark
