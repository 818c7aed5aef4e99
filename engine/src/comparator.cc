#include "toolmark/engine/comparator.h"

#include "toolmark/engine/check.h"
#include "toolmark/engine/registry.h"

namespace toolmark {

double Comparator::QuickScore(const PreparedMark& /*a*/, const PreparedMark& /*b*/) const {
  throw Error("the " + Name() + " comparator has no quick score");
}

std::vector<float> Comparator::QuickFeatures(const PreparedMark& /*mark*/) const {
  throw Error("the " + Name() + " comparator has no quick score");
}

std::shared_ptr<const PreparedMark> Comparator::QuickMark(const std::vector<float>& /*features*/) const {
  throw Error("the " + Name() + " comparator has no quick score");
}

std::vector<float> Comparator::ScreenFeaturesOf(const PreparedMark& mark) const {
  if (!HasQuickScore()) throw Error("the " + Name() + " comparator has no screening score");
  return ScreenFeatures(QuickFeatures(mark));
}

std::vector<float> Comparator::ScreenFeatures(const std::vector<float>& /*quick_features*/) const {
  throw Error("the " + Name() + " comparator has no screening score");
}

double Comparator::ScreenScore(const std::vector<float>& /*a*/, const std::vector<float>& /*b*/) const {
  throw Error("the " + Name() + " comparator has no screening score");
}

void Comparator::CheckScreen(const std::vector<float>& features) const { ScreenScore(features, features); }

std::optional<double> DetailNamed(const std::vector<std::pair<const char*, double>>& details,
                                  const std::string& name) {
  for (const auto& [key, value] : details)
    if (name == key) return value;
  return std::nullopt;
}

std::vector<std::string> ComparatorNames() {
  std::vector<std::string> names;
  for (const ComparatorInfo& c : Comparators()) names.push_back(c.name);
  return names;
}

std::unique_ptr<Comparator> MakeComparator(const std::string& name) { return ComparatorNamed(name).make(); }

}  // namespace toolmark
