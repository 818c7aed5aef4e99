// Private: the CMC quick score's stored features (see docs/search.md,
// "Re-ranking"): a processed breech face at the quick score's spacing,
// packed small enough to keep one per item in the catalog.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "packed_bytes.h"
#include "toolmark/engine/breech_face.h"

namespace toolmark::detail {

/// `face` resampled to `spacing_um` (a coarser grid): values and mask
/// averaged over each new cell (cv::resize INTER_AREA), the cell valid where
/// at least half of it was. Positions in µm keep their meaning.
BreechFace Coarser(const BreechFace& face, double spacing_um);

/// Format 2: `face` (already at the quick spacing) as float32 numbers, all
/// finite: the header (format, rows, cols, spacing µm, firing_pin_found,
/// its centre x, y and radius µm, outer_found, primer centre x, y and radius
/// µm, the height step, the valid cells, the mask's bytes, bits a value),
/// then bytes packed three to a float (exact integers below 2^24): the
/// mask as run lengths (missing and valid cells in turn, row by row, runs
/// above 255 split by empty runs), then each valid cell's height in
/// 5 bits, rounded to the step (4 RMS over the largest level, 15, larger
/// heights clipped). About 0.9 bytes a valid cell with the mask: 3.4 KB
/// for a 9 mm primer's breech face at 50 µm (format 1: 83 KB).
std::vector<float> EncodeQuickFace(const BreechFace& face);

/// A decoded quick face, and whether it came at the CMC's spacing (format 1,
/// written before format 2: the face at CmcOptions::spacing_um, float32) or
/// already at the quick spacing (format 2).
struct QuickFace {
  BreechFace face;
  bool at_cmc_spacing = false;
};

/// Either format. Throws toolmark::Error for anything EncodeQuickFace (or
/// format 1's encoder) could not have written at these spacings: stored data
/// is checked, not trusted.
QuickFace DecodeQuickFace(const std::vector<float>& f, double cmc_spacing_um, double quick_spacing_um);

}  // namespace toolmark::detail
