// Private: the two baseline comparators ("baseline" for areal marks,
// "baseline_land" for bullet land engraved areas). They exist so that the
// accuracy harness has something honest to measure before the real CMC and
// bullet comparators arrive; see baseline_comparator.cc for the methods.
#pragma once

#include <memory>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/registry.h"

namespace toolmark::detail {

/// Areal marks (breech faces, 2D intensity images): the shared areal
/// registration (areal_registration.h) on a 25 µm working grid.
std::unique_ptr<Comparator> MakeBaselineComparator();

/// Bullet lands: normalised cross-correlation of band-passed crosscut
/// signatures across the land.
std::unique_ptr<Comparator> MakeBaselineLandComparator();

/// The "baseline" and "baseline_land" comparators' registrations (comparators.def).
ComparatorInfo BaselineComparatorInfo();
ComparatorInfo BaselineLandComparatorInfo();

}  // namespace toolmark::detail
