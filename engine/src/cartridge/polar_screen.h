// Private: the CMC's screening code (docs/search.md, "Screening"): the
// lowest angular frequencies of a breech face's polar signature, small
// enough to keep one per item and cheap enough to compare with thousands of
// candidates a query.
#pragma once

#include <vector>

#include "cartridge/cmc_internal.h"

namespace toolmark::detail {

/// Format 1: the header (format, frequencies K = 32, angles of the
/// signature, ring step 2, first ring, ring slots n ≤ 64), each slot's scale
/// (the RMS of its parts), then bytes packed three to a float (quick_face.h):
/// for each slot its share of valid samples (· 255; 0: unusable), then for
/// each frequency 1…K its real and imaginary parts as signed 4-bit numbers
/// (−7…7 steps of scale / 2.5, clipped). The slots are every second ring of
/// the signature counted from the centre (100 µm apart), so every code
/// samples the same radii. About 0.8 KB for a 9 mm primer's breech face.
/// Empty signature: a code with no slot.
std::vector<float> EncodePolarScreen(const PolarSignature& polar);

/// How well two codes' rings agree at the best rotation about their
/// centres: the summed circular cross-correlation of the common rings
/// (frequencies 1…K, at 256 angles), over the rings' weights; about −1…1,
/// higher = more alike; 0 when no ring is common. Deterministic. Throws
/// toolmark::Error for a code EncodePolarScreen could not have written.
double PolarScreenScore(const std::vector<float>& a, const std::vector<float>& b);

/// Throws toolmark::Error (as PolarScreenScore would) for a code
/// EncodePolarScreen could not have written.
void CheckPolarScreen(const std::vector<float>& code);

}  // namespace toolmark::detail
