// Kinds of items, types of marks and the comparators: each described once
// here and looked up by its description everywhere (compare, eval,
// calibrate, search, correlate, reports, the UI). Kinds and marks are typed
// values, parsed once at the edge (a flag, a manifest, the catalog, a
// package). Adding a comparator: its engine code and one registration line
// in engine/src/registry.cc (docs/development.md).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/surface.h"

namespace toolmark {

/// What an item of evidence is.
enum class Kind {
  kCartridgeCase,  ///< "cartridge_case": breech face, firing pin, …
  kBullet,         ///< "bullet": one land engraved area per scan
};
const char* KindName(Kind kind);
/// "cartridge_case" or "bullet"; nullopt otherwise.
std::optional<Kind> ParseKind(std::string_view text);
/// ParseKind, or toolmark::Error naming the value and the kinds there are.
Kind KindOf(std::string_view text);

/// A Kind never goes into JSON as its enum number: write KindName(kind).
/// (Deleted, so that nlohmann::json's silent enum-to-integer is a compile error.)
void to_json(nlohmann::json& j, const Kind& kind) = delete;

/// A type of toolmark on an item.
enum class MarkType {
  kBreechFace,  ///< "breech_face"
  kFiringPin,   ///< "firing_pin"
  kLand,        ///< "land", "land1", "land2", …: a bullet's land engraved area
};
const char* MarkTypeName(MarkType type);
/// The type of a mark name ("land3" → kLand); nullopt for names of no type.
std::optional<MarkType> MarkTypeOf(std::string_view mark);
void to_json(nlohmann::json& j, const MarkType& type) = delete;  ///< write MarkTypeName(type)

/// The kind of item a mark type is found on.
Kind KindOfMark(MarkType type);

/// How a comparator's scores read.
enum class ScoreScale {
  kCount,        ///< a count of agreeing parts (congruent cells, sectors): 0, 1, 2, …
  kProbability,  ///< in [0, 1], a trained model's probability-like output
  kCorrelation,  ///< in [−1, 1], a correlation
};

/// How `toolmark compare` and the hit views show a comparison.
enum class Presentation {
  kCongruentCells,  ///< breech faces: the CMC's cells both ways, firing pins, regions, a cell plot
  kLandSignatures,  ///< bullet lands: land score matrix, phase, aligned signatures
  kScoreOnly,       ///< the comparator's score, registration and details
};

/// A comparator, described once.
struct ComparatorInfo {
  std::string name;             ///< stable: stored with every result and feature record
  std::vector<Kind> kinds;      ///< the kinds of items it compares
  std::vector<MarkType> marks;  ///< the marks it compares
  bool compares_2d = false;     ///< also compares 2D intensity images (2D with 2D)
  std::string score;            ///< what the score means, one sentence
  ScoreScale scale = ScoreScale::kCorrelation;
  /// Where examiners' practice puts an identification (CMC: Song's C = 6); none: no such threshold.
  std::optional<double> decision_threshold;
  bool embedding = false;         ///< Embed gives a vector for the vector index
  bool quick_score = false;       ///< QuickScore re-ranks a search's shortlist
  bool default_for_kind = false;  ///< the comparator searches and evaluations of its kinds use
  Presentation presentation = Presentation::kScoreOnly;
  /// `toolmark calibrate` default --max-pairs (slow comparators sample fewer non-matches).
  std::size_t calibration_max_pairs = 200000;
  std::function<std::unique_ptr<Comparator>()> make;

  bool Compares(Kind kind) const;
};

/// Every registered comparator, in registration order.
const std::vector<ComparatorInfo>& Comparators();
/// The comparator of that name, or nullptr (a name read from a file, say).
const ComparatorInfo* FindComparator(std::string_view name);
/// The comparator of that name; throws toolmark::Error naming the known ones.
const ComparatorInfo& ComparatorNamed(const std::string& name);
/// The comparator searches and evaluations of a kind use.
const ComparatorInfo& DefaultComparator(Kind kind);

}  // namespace toolmark
