// Point clouds (PLY, PCD via PCL) gridded into a height map.
#pragma once

#include <string>

#include "toolmark/ingest/scan.h"

namespace toolmark::ingest {

/// Reads a PLY or PCD file (chosen by extension) and grids it: the grid
/// spacing is ReadOptions::spacing_um or, without it, the median
/// nearest-neighbour distance in x-y. Each cell holds the mean z of its
/// points; empty cells are NaN. Coordinates are in ReadOptions::xy_unit /
/// z_unit, or inferred from the lateral extent (documented in
/// docs/ingest.md). Throws toolmark::Error (reason only) on any problem.
Scan ReadPointCloudFile(const std::string& path, const ReadOptions& options);

}  // namespace toolmark::ingest
