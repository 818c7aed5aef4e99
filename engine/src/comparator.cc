#include "toolmark/engine/comparator.h"

#include "baseline_comparator.h"
#include "cmc_internal.h"
#include "land_internal.h"
#include "toolmark/engine/check.h"

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

std::vector<std::string> ComparatorNames() {
  return {"cmc", "baseline", "land", "land_smoother", "baseline_land"};
}

std::unique_ptr<Comparator> MakeComparator(const std::string& name) {
  if (name == "baseline") return detail::MakeBaselineComparator();
  if (name == "cmc") return detail::MakeCmcComparator();
  if (name == "land") return detail::MakeLandComparator();
  if (name == "land_smoother") return detail::MakeLandSmootherComparator();
  if (name == "baseline_land") return detail::MakeBaselineLandComparator();
  std::string known;
  for (const std::string& n : ComparatorNames()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown comparator '" + OneLine(name) + "' (known: " + known + ")");
}

}  // namespace toolmark
