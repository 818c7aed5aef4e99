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
}  // namespace toolmark::fuzz
