// Half precision (IEEE 754 binary16) for stored feature vectors: an
// embedding is rounded to halves where it is made, so it is stored in two
// bytes a value without loss and a query's fresh embedding is the same
// numbers as its stored one.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace toolmark {

/// Each value rounded to the nearest half (ties to even), back as a float.
void RoundToHalf(std::vector<float>* values);

/// True when every value is a finite half exactly (RoundToHalf leaves it as it is).
bool AllHalves(const std::vector<float>& values);

/// The values as halves, two bytes each, little-endian, when every value is
/// a half exactly (AllHalves); none otherwise. One pass.
std::optional<std::string> PackedIfHalves(const std::vector<float>& values);

/// PackedIfHalves, for values that must be halves: throws toolmark::Error otherwise.
std::string PackHalves(const std::vector<float>& values);

/// The inverse of PackHalves; throws toolmark::Error for an odd byte count or
/// a value that is not finite.
std::vector<float> UnpackHalves(const std::string& bytes);

}  // namespace toolmark
