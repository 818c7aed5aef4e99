// Private: the two baseline comparators ("baseline" for areal marks,
// "baseline_land" for bullet land engraved areas). They exist so that the
// accuracy harness has something honest to measure before the real CMC and
// bullet comparators arrive; see baseline_comparator.cc for the methods.
#pragma once

#include <memory>

#include "toolmark/engine/comparator.h"

namespace toolmark::detail {

/// Areal marks (breech faces, 2D intensity images): masked normalised
/// cross-correlation over rotations and translations of high-passed surfaces.
std::unique_ptr<Comparator> MakeBaselineComparator();

/// Bullet lands: normalised cross-correlation of band-passed crosscut
/// signatures across the land.
std::unique_ptr<Comparator> MakeBaselineLandComparator();

}  // namespace toolmark::detail
