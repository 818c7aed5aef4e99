// Private: the land comparator's screening code (docs/search.md,
// "Screening"): a land signature coarsened and quantised, small enough to
// keep one per land and cheap enough to compare with thousands of
// candidates a query.
#pragma once

#include <vector>

#include "toolmark/engine/land.h"

namespace toolmark::detail {

/// Format 1: the header (format, step µm, samples n, valid samples, bits a
/// sample = 4), then n signed 4-bit samples, two to a byte (the first in
/// the low half), bytes packed three to a float (packed_bytes.h). A sample
/// is the mean of the signature over one step (about 4 µm: whole samples of
/// the signature's spacing), valid where at least half of it is, standardised
/// over the valid samples and rounded to steps of 1 / 2.5 standard
/// deviations (−7…7, clipped); −8 marks a missing sample. About 340 bytes
/// for a 2 mm land. Throws toolmark::Error for a signature longer than the
/// format holds (32 mm at 4 µm: no land is).
std::vector<float> EncodeLandScreen(const LandSignature& signature);

/// How well two codes' signatures agree at their best lateral shift: the
/// normalised cross-correlation of the samples both have, over every shift
/// where they share at least half of the shorter one's valid samples (as
/// the land comparison itself), weighted by the square root of that share
/// so that short chance overlaps do not win; about −1…1, higher = more
/// alike; −1 when no shift qualifies. Integer sums: the same number on every
/// machine. Throws toolmark::Error for a code EncodeLandScreen could not
/// have written, or codes of different steps.
double LandScreenScore(const std::vector<float>& a, const std::vector<float>& b);

/// Throws toolmark::Error (as LandScreenScore would) for a code
/// EncodeLandScreen could not have written.
void CheckLandScreen(const std::vector<float>& code);

}  // namespace toolmark::detail
