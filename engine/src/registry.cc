// The registry of kinds, marks and comparators (toolmark/engine/registry.h).
#include "toolmark/engine/registry.h"

#include <algorithm>

#include "baseline/baseline_comparator.h"
#include "bullet/land_internal.h"
#include "cartridge/cmc_internal.h"
#include "toolmark/engine/check.h"

namespace toolmark {

const char* KindName(Kind kind) { return kind == Kind::kBullet ? "bullet" : "cartridge_case"; }

std::optional<Kind> ParseKind(std::string_view text) {
  if (text == "cartridge_case") return Kind::kCartridgeCase;
  if (text == "bullet") return Kind::kBullet;
  return std::nullopt;
}

Kind KindOf(std::string_view text) {
  const std::optional<Kind> k = ParseKind(text);
  Check(k.has_value(),
        "kind '" + OneLine(std::string(text.substr(0, 40))) + "' is not cartridge_case or bullet");
  return *k;
}

const char* MarkTypeName(MarkType type) {
  switch (type) {
    case MarkType::kBreechFace:
      return "breech_face";
    case MarkType::kFiringPin:
      return "firing_pin";
    case MarkType::kLand:
      break;
  }
  return "land";
}

std::optional<MarkType> MarkTypeOf(std::string_view mark) {
  if (mark == "breech_face") return MarkType::kBreechFace;
  if (mark == "firing_pin") return MarkType::kFiringPin;
  if (mark.substr(0, 4) == "land" && mark.find_first_not_of("0123456789", 4) == std::string_view::npos)
    return MarkType::kLand;
  return std::nullopt;
}

Kind KindOfMark(MarkType type) { return type == MarkType::kLand ? Kind::kBullet : Kind::kCartridgeCase; }

bool ComparatorInfo::Compares(Kind kind) const {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

const std::vector<ComparatorInfo>& Comparators() {
  // One line per comparator; each one's description lives with its code.
  static const std::vector<ComparatorInfo> all = {
      detail::CmcComparatorInfo(),          detail::BaselineComparatorInfo(),
      detail::LandComparatorInfo(),         detail::LandSmootherComparatorInfo(),
      detail::BaselineLandComparatorInfo(),
  };
  return all;
}

const ComparatorInfo* FindComparator(std::string_view name) {
  for (const ComparatorInfo& c : Comparators())
    if (c.name == name) return &c;
  return nullptr;
}

const ComparatorInfo& ComparatorNamed(const std::string& name) {
  if (const ComparatorInfo* c = FindComparator(name)) return *c;
  std::string known;
  for (const ComparatorInfo& c : Comparators()) known += (known.empty() ? "" : ", ") + c.name;
  throw Error("unknown comparator '" + OneLine(name) + "' (known: " + known + ")");
}

const ComparatorInfo& DefaultComparator(Kind kind) {
  for (const ComparatorInfo& c : Comparators())
    if (c.default_for_kind && c.Compares(kind)) return c;
  TM_ASSERT(false);  // every kind has a default comparator (registry.cc)
}

}  // namespace toolmark
