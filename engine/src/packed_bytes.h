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

/// Whether `v` is a number PackBytes writes (a whole number below 2^24).
bool IsPackedWord(float v);

/// For decoders of stored codes, which run thousands of times a query and so
/// build their error messages only when a check fails: throws
/// toolmark::Error "<code>: <what>".
[[noreturn]] void FailCode(const char* code, const std::string& what);
/// `v` when it is a whole number in [lo, hi]; otherwise throws
/// "<code>: bad <what>".
int WholeNumber(float v, int lo, int hi, const char* code, const char* what);

}  // namespace toolmark::detail
