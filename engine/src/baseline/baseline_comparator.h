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

/// Areal marks (breech faces, 2D intensity images): masked normalised
/// cross-correlation over rotations and translations of high-passed surfaces,
/// on a working grid of spacing_um (25 µm for "baseline"; the CMC comparator
/// uses a coarser one for its global registration).
std::unique_ptr<Comparator> MakeBaselineComparator(double spacing_um = 25.0);

/// The baseline's registration of b onto a at the `count` best distinct
/// rotations (≥ 12° apart), best first; marks from MakeBaselineComparator.
/// refine = false: the 6° coarse angles only (no 1.5° refinement); only
/// rotations within ±max_abs_deg are searched.
std::vector<Comparison> RegisterArealCandidates(const PreparedMark& a, const PreparedMark& b, int count,
                                                bool refine = true, double max_abs_deg = 180);

/// Bullet lands: normalised cross-correlation of band-passed crosscut
/// signatures across the land.
std::unique_ptr<Comparator> MakeBaselineLandComparator();

/// The "baseline" and "baseline_land" comparators' registrations (registry.cc).
ComparatorInfo BaselineComparatorInfo();
ComparatorInfo BaselineLandComparatorInfo();

}  // namespace toolmark::detail
