// Shared (engine/src): areal registration by masked normalised
// cross-correlation over rotations and translations of high-passed surfaces
// (method: areal_registration.cc). The "baseline" comparator is this method
// on a 25 µm grid; the CMC registers breech faces with it on a coarser one.
#pragma once

#include <memory>
#include <vector>

#include "toolmark/engine/comparator.h"

namespace toolmark::detail {

/// A comparator over the areal registration on a working grid of
/// `spacing_um` (its score: the best masked NCC, in [-1, 1]); named
/// "baseline" (25 µm is the baseline comparator).
std::unique_ptr<Comparator> MakeArealComparator(double spacing_um);

/// The registration of b onto a at the `count` best distinct rotations
/// (≥ 12° apart), best first; marks from MakeArealComparator. refine = false:
/// the 6° coarse angles only (no 1.5° refinement); only rotations within
/// ±max_abs_deg are searched.
std::vector<Comparison> RegisterArealCandidates(const PreparedMark& a, const PreparedMark& b, int count,
                                                bool refine = true, double max_abs_deg = 180);

}  // namespace toolmark::detail
