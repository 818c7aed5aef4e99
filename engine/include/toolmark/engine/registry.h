// Kinds of items, types of marks and the comparators: each described once
// here and looked up by its description everywhere (compare, eval,
// calibrate, search, correlate, reports, the UI). Kinds and marks are typed
// values, parsed once at the edge (a flag, a manifest, the catalog, a
// package). Adding a comparator: its folder of engine code and one
// registration line in engine/src/comparators.def (docs/development.md).
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
/// Every kind, in a fixed order.
inline constexpr Kind kKinds[] = {Kind::kCartridgeCase, Kind::kBullet};
const char* KindName(Kind kind);
/// KindName of every kind ({"cartridge_case", "bullet"}): a command line's choices.
std::vector<std::string> KindNames();
/// "cartridge_case" or "bullet"; nullopt otherwise.
std::optional<Kind> ParseKind(std::string_view text);
/// ParseKind, or toolmark::Error naming the value and the kinds there are.
Kind KindOf(std::string_view text);

/// A Kind never goes into JSON as its enum number: write KindName(kind).
/// (Deleted, so that nlohmann::json's silent enum-to-integer is a compile error.)
void to_json(nlohmann::json& j, const Kind& kind) = delete;

/// A type of toolmark on an item, described once (MarkTypes()).
enum class MarkType {
  kBreechFace,     ///< "breech_face"
  kFiringPin,      ///< "firing_pin"
  kApertureShear,  ///< "aperture_shear": recorded, no comparator yet
  kEjector,        ///< "ejector": recorded, no comparator yet
  kExtractor,      ///< "extractor": recorded, no comparator yet
  kLand,           ///< "land", "land1", "land2", …: a bullet's land engraved area
};

/// A mark type's description.
struct MarkTypeInfo {
  MarkType type;
  const char* name;  ///< stable: stored in the catalog and in packages
  Kind kind;         ///< the kind of item it is found on
  bool numbered;     ///< a bullet's lands: "land3" is land 3 of the bullet
};
/// Every mark type, in a fixed order.
const std::vector<MarkTypeInfo>& MarkTypes();
const MarkTypeInfo& InfoOf(MarkType type);

const char* MarkTypeName(MarkType type);
/// The type of a mark name ("land3" → kLand); nullopt for names of no type.
std::optional<MarkType> MarkTypeOf(std::string_view mark);
void to_json(nlohmann::json& j, const MarkType& type) = delete;  ///< write MarkTypeName(type)

/// The kind of item a mark type is found on.
Kind KindOfMark(MarkType type);

/// One mark on an item: its type and, for a bullet's lands, which land.
struct Mark {
  MarkType type = MarkType::kBreechFace;
  int land = 0;  ///< 1, 2, … for "land1", "land2", …; 0: not numbered ("land", "breech_face")
  bool operator==(const Mark&) const = default;
  auto operator<=>(const Mark&) const = default;
};
/// "breech_face", "land", "land3", …
std::string MarkName(const Mark& mark);
/// The mark a name stands for; nullopt for anything else ("Breech Face",
/// "land0", "land3a", "landing", a land number above 99).
std::optional<Mark> ParseMark(std::string_view name);
/// True when the mark has a name that reads back as itself (a number only on a
/// land, 1…99).
bool IsValidMark(const Mark& mark);
/// ParseMark, or toolmark::Error naming the value and the mark types there are.
Mark MarkOf(std::string_view name);
/// MarkOf each name.
std::vector<Mark> MarksOf(const std::vector<std::string>& names);
/// MarkName each mark.
std::vector<std::string> MarkNames(const std::vector<Mark>& marks);
void to_json(nlohmann::json& j, const Mark& mark) = delete;  ///< write MarkName(mark)

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
/// True when `name` is a registered comparator that compares items of `kind`.
bool ComparatorCompares(std::string_view name, Kind kind);
/// The comparator searches and evaluations of a kind use.
const ComparatorInfo& DefaultComparator(Kind kind);

}  // namespace toolmark
