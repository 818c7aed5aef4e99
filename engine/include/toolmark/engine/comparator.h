// Comparators: score the similarity of two marks of the same type. Engine
// code: no files, deterministic, thread-safe (all methods const).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
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
  /// Comparator-specific named values behind the score (e.g. the land features),
  /// in a fixed order, for explanation and reports. Names are static strings.
  std::vector<std::pair<const char*, double>> details;
};

/// The value of the detail called `name`, or nullopt when there is none.
std::optional<double> DetailNamed(const std::vector<std::pair<const char*, double>>& details,
                                  const std::string& name);

class Comparator {
 public:
  virtual ~Comparator() = default;
  /// Stable name used by `toolmark eval --comparator` and stored with results.
  virtual std::string Name() const = 0;
  /// Extracts what Compare needs; throws toolmark::Error for unusable input.
  virtual std::shared_ptr<const PreparedMark> Prepare(const Surface& surface) const = 0;
  /// Compares two prepared marks of this comparator. Deterministic.
  virtual Comparison Compare(const PreparedMark& a, const PreparedMark& b) const = 0;
  /// Fixed-length embedding for the vector index (unit length, compared by dot
  /// product), invariant to the mark's nuisances; empty when the comparator has none.
  /// Values rounded to half precision (half_float.h) are stored in half the bytes.
  virtual std::vector<float> Embed(const PreparedMark& /*mark*/) const { return {}; }
  /// A cheap score that orders candidates before Compare (a search re-ranks
  /// its shortlist with it and compares only the best finely); higher = more
  /// similar, on the comparator's own scale; not a comparison result.
  /// Deterministic. Only where HasQuickScore(); the default throws.
  virtual bool HasQuickScore() const { return false; }
  virtual double QuickScore(const PreparedMark& a, const PreparedMark& b) const;
  /// What QuickScore needs of a mark, as numbers a database can store (all
  /// finite), so that a search can score candidates without preparing their
  /// scans again; QuickMark rebuilds a mark QuickScore accepts (only
  /// QuickScore: not Compare or Embed). QuickScore(QuickMark(QuickFeatures(a)),
  /// …) may differ slightly from QuickScore(a, …) (the numbers are float32),
  /// so a search uses the rebuilt marks on both sides, always. Only where
  /// HasQuickScore(); the defaults throw.
  virtual std::vector<float> QuickFeatures(const PreparedMark& mark) const;
  virtual std::shared_ptr<const PreparedMark> QuickMark(const std::vector<float>& features) const;
  /// A screening score far cheaper than Compare (microseconds a pair), so
  /// that a search can order many more candidates by it than it compares;
  /// higher = more similar. ScreenFeaturesOf makes a mark's numbers. Where
  /// the comparator has a quick score they are a pure function of the quick
  /// features (ScreenFeatures(QuickFeatures(mark)), the default), so an item
  /// that has quick features can always get them; otherwise they need the
  /// prepared mark. Deterministic. Only where HasScreen(); the defaults
  /// throw. ScreenScore throws for numbers ScreenFeaturesOf could not have
  /// made.
  virtual bool HasScreen() const { return false; }
  /// Whether its screening features need the prepared mark (a screening
  /// score and no quick score): they are made when the mark is, and an item
  /// without its scan has only those it was given.
  bool ScreenNeedsMark() const { return HasScreen() && !HasQuickScore(); }
  virtual std::vector<float> ScreenFeaturesOf(const PreparedMark& mark) const;
  virtual std::vector<float> ScreenFeatures(const std::vector<float>& quick_features) const;
  virtual double ScreenScore(const std::vector<float>& a, const std::vector<float>& b) const;
  /// Throws toolmark::Error where ScreenScore would refuse `features` (a
  /// stored code checked when loaded, without scoring it). The default
  /// scores the code against itself.
  virtual void CheckScreen(const std::vector<float>& features) const;
};

/// "baseline" (areal marks: breech faces, 2D images), "land" (bullet land
/// engraved areas: signatures, features and a trained score; docs/bullets.md)
/// or "baseline_land" (plain signature correlation). Throws toolmark::Error
/// for an unknown name.
std::unique_ptr<Comparator> MakeComparator(const std::string& name);
std::vector<std::string> ComparatorNames();

}  // namespace toolmark
