// Comparators: score the similarity of two marks of the same type. Engine
// code: no files, deterministic, thread-safe (all methods const).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "toolmark/engine/surface.h"

namespace toolmark {

/// What a comparator extracted from one surface (opaque to callers); computed
/// once per scan so that n scans cost n preparations, not n².
class PreparedMark {
 public:
  virtual ~PreparedMark() = default;
};

/// The outcome of one comparison.
struct Comparison {
  double score = 0;         ///< higher = more similar; the comparator's own scale
  double rotation_deg = 0;  ///< rotation of B that best registers it onto A (degrees)
  double shift_x_um = 0;    ///< translation of B onto A after rotation, µm
  double shift_y_um = 0;
  double overlap_fraction = 0;  ///< fraction of A's valid area that B overlaps at the registration
};

class Comparator {
 public:
  virtual ~Comparator() = default;
  /// Stable name used by `toolmark eval --comparator` and stored with results.
  virtual std::string Name() const = 0;
  /// Extracts what Compare needs; throws toolmark::Error for unusable input.
  virtual std::shared_ptr<const PreparedMark> Prepare(const Surface& surface) const = 0;
  /// Compares two prepared marks of this comparator. Deterministic.
  virtual Comparison Compare(const PreparedMark& a, const PreparedMark& b) const = 0;
};

/// "baseline" (areal marks: breech faces, 2D images) or "baseline_land"
/// (bullet land engraved areas). Throws toolmark::Error for an unknown name.
std::unique_ptr<Comparator> MakeComparator(const std::string& name);
std::vector<std::string> ComparatorNames();

}  // namespace toolmark
