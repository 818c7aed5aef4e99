// Private: bytes stored in float32 feature records (the catalog keeps
// features as float vectors), shared by the packed codes of every mark.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace toolmark::detail {

/// Bytes three to a float (exact integers below 2^24), appended to `out`.
void PackBytes(const std::vector<std::uint8_t>& bytes, std::vector<float>* out);
/// `bytes` bytes from the floats of `f` from position `from` on, which must
/// be exactly those PackBytes wrote; throws "<what>: bad size / bad data".
std::vector<std::uint8_t> UnpackBytes(const std::vector<float>& f, std::size_t from, std::size_t bytes,
                                      const std::string& what);

}  // namespace toolmark::detail
