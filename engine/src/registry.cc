// The registry of kinds, marks and comparators (toolmark/engine/registry.h).
#include "toolmark/engine/registry.h"

#include <algorithm>

#include "toolmark/engine/check.h"

namespace toolmark {

namespace detail {
#define TOOLMARK_COMPARATOR(info) ComparatorInfo info();
#include "comparators.def"
#undef TOOLMARK_COMPARATOR
}  // namespace detail

const char* KindName(Kind kind) { return kind == Kind::kBullet ? "bullet" : "cartridge_case"; }

std::vector<std::string> KindNames() {
  std::vector<std::string> names;
  for (const Kind k : kKinds) names.emplace_back(KindName(k));
  return names;
}

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

const std::vector<MarkTypeInfo>& MarkTypes() {
  static const std::vector<MarkTypeInfo> all = {
      {MarkType::kBreechFace, "breech_face", Kind::kCartridgeCase, false},
      {MarkType::kFiringPin, "firing_pin", Kind::kCartridgeCase, false},
      {MarkType::kApertureShear, "aperture_shear", Kind::kCartridgeCase, false},
      {MarkType::kEjector, "ejector", Kind::kCartridgeCase, false},
      {MarkType::kExtractor, "extractor", Kind::kCartridgeCase, false},
      {MarkType::kLand, "land", Kind::kBullet, true},
  };
  return all;
}

const MarkTypeInfo& InfoOf(MarkType type) {
  for (const MarkTypeInfo& m : MarkTypes())
    if (m.type == type) return m;
  TM_ASSERT(false);  // every MarkType is in MarkTypes()
  return MarkTypes().front();
}

const char* MarkTypeName(MarkType type) { return InfoOf(type).name; }

std::optional<MarkType> MarkTypeOf(std::string_view mark) {
  const std::optional<Mark> m = ParseMark(mark);
  if (!m) return std::nullopt;
  return m->type;
}

Kind KindOfMark(MarkType type) { return InfoOf(type).kind; }

std::string MarkName(const Mark& mark) {
  std::string name = MarkTypeName(mark.type);
  if (mark.land > 0) name += std::to_string(mark.land);
  return name;
}

std::optional<Mark> ParseMark(std::string_view name) {
  for (const MarkTypeInfo& t : MarkTypes()) {
    const std::string_view type(t.name);
    if (name.substr(0, type.size()) != type) continue;
    const std::string_view number = name.substr(type.size());
    if (number.empty()) return Mark{t.type, 0};
    // Numbered marks: 1..99, no leading zero.
    if (!t.numbered || number.size() > 2 || number.front() == '0' ||
        number.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    return Mark{t.type, std::stoi(std::string(number))};
  }
  return std::nullopt;
}

bool IsValidMark(const Mark& mark) {
  for (const MarkTypeInfo& t : MarkTypes())
    if (t.type == mark.type) return mark.land == 0 || (t.numbered && mark.land >= 1 && mark.land <= 99);
  return false;
}

Mark MarkOf(std::string_view name) {
  const std::optional<Mark> m = ParseMark(name);
  if (m) return *m;
  std::string known;
  for (const MarkTypeInfo& t : MarkTypes())
    known += (known.empty() ? "" : ", ") + std::string(t.name) + (t.numbered ? "[N]" : "");
  throw Error("mark '" + OneLine(std::string(name.substr(0, 40))) + "' is not one of " + known);
}

std::vector<Mark> MarksOf(const std::vector<std::string>& names) {
  std::vector<Mark> marks;
  marks.reserve(names.size());
  for (const std::string& n : names) marks.push_back(MarkOf(n));
  return marks;
}

std::vector<std::string> MarkNames(const std::vector<Mark>& marks) {
  std::vector<std::string> names;
  names.reserve(marks.size());
  for (const Mark& m : marks) names.push_back(MarkName(m));
  return names;
}

bool ComparatorInfo::Compares(Kind kind) const {
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

const std::vector<ComparatorInfo>& Comparators() {
  // comparators.def: one line per comparator; each one's description lives with its code.
  static const std::vector<ComparatorInfo> all = {
#define TOOLMARK_COMPARATOR(info) detail::info(),
#include "comparators.def"
#undef TOOLMARK_COMPARATOR
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

bool ComparatorCompares(std::string_view name, Kind kind) {
  const ComparatorInfo* c = FindComparator(name);
  return c != nullptr && c->Compares(kind);
}

const ComparatorInfo& DefaultComparator(Kind kind) {
  for (const ComparatorInfo& c : Comparators())
    if (c.default_for_kind && c.Compares(kind)) return c;
  TM_ASSERT(false);  // every kind has a default comparator (registry.cc)
}

}  // namespace toolmark
