// The "baseline" areal comparator: the shared areal registration
// (areal_registration.cc) on a 25 µm grid, its best masked NCC as the score.
// Its bullet counterpart: baseline_land.cc. Both baseline comparators are
// deliberately simple: they give the accuracy harness an honest lower bar
// beside the real comparators (CMC for breech faces, feature-based
// land-to-land for bullets).
#include "baseline/baseline_comparator.h"

#include "areal_registration.h"

namespace toolmark::detail {

std::unique_ptr<Comparator> MakeBaselineComparator() { return MakeArealComparator(25.0); }

ComparatorInfo BaselineComparatorInfo() {
  ComparatorInfo c;
  c.name = "baseline";
  c.kinds = {Kind::kCartridgeCase};
  c.marks = {MarkType::kBreechFace};
  c.compares_2d = true;
  c.score = "the largest masked normalised cross-correlation over rotations and translations";
  c.scale = ScoreScale::kCorrelation;
  c.make = [] { return MakeBaselineComparator(); };
  return c;
}

}  // namespace toolmark::detail
