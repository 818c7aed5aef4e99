// Seeds for a fuzz target: small valid inputs that the mutations start from.
#pragma once

#include <string>
#include <vector>

#include "toolmark/engine/surface.h"

/// Defined by each fuzz target.
std::vector<std::string> ToolmarkFuzzSeeds();

namespace toolmark::fuzz {
/// A small deterministic height surface (µm) with a few NaN points.
Surface SmallSurface(int size_x, int size_y);
/// Shot `shot` (0 or 1) of a small synthetic cartridge case (64² points, seed 5).
Surface SmallCartridgeCase(int shot);
}  // namespace toolmark::fuzz
