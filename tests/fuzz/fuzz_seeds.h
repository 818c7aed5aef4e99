// Seeds for a fuzz target: small valid inputs that the mutations start from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/surface.h"

/// Defined by each fuzz target.
std::vector<std::string> ToolmarkFuzzSeeds();

namespace toolmark::fuzz {
/// A small deterministic height surface (µm) with a few NaN points.
Surface SmallSurface(int size_x, int size_y);
/// Shot `shot` (0 or 1) of a small synthetic cartridge case (64² points, seed 5).
Surface SmallCartridgeCase(int shot);
/// Land 1 of bullet `bullet` (0 or 1) of one synthetic barrel (seed 5): the same land twice.
Surface SmallLand(int bullet);
/// Stored screening features (a database's `features` records of version
/// <comparator>-screen-*) through the comparator's ScreenScore and
/// CheckScreen: `data` read as float32 numbers, checked, scored against
/// itself and against `valid` on both sides. toolmark::Error is expected;
/// any other exception escapes and counts as a finding.
void ScreenScoreInput(const Comparator& comparator, const std::vector<float>& valid, const std::uint8_t* data,
                      std::size_t size);
/// Float codes as seeds (their bytes).
std::vector<std::string> FloatSeeds(const std::vector<std::vector<float>>& codes);
}  // namespace toolmark::fuzz
