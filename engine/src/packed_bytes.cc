#include "packed_bytes.h"

#include <cmath>

#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

constexpr std::uint32_t kPackedLimit = 1u << 24;  ///< a float holds 3 bytes exactly below this

}  // namespace

void PackBytes(const std::vector<std::uint8_t>& bytes, std::vector<float>* out) {
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t word = bytes[i];
    if (i + 1 < bytes.size()) word |= std::uint32_t{bytes[i + 1]} << 8;
    if (i + 2 < bytes.size()) word |= std::uint32_t{bytes[i + 2]} << 16;
    out->push_back(static_cast<float>(word));
  }
}

std::vector<std::uint8_t> UnpackBytes(const std::vector<float>& f, std::size_t from, std::size_t bytes,
                                      const std::string& what) {
  Check(from <= f.size() && f.size() - from == (bytes + 2) / 3, what + ": bad size");
  std::vector<std::uint8_t> out;
  out.reserve(bytes);
  for (std::size_t i = from; i < f.size(); ++i) {
    const float v = f[i];
    Check(v >= 0 && v < static_cast<float>(kPackedLimit) && v == std::floor(v), what + ": bad data");
    const auto word = static_cast<std::uint32_t>(v);
    for (int b = 0; b < 3 && out.size() < bytes; ++b)
      out.push_back(static_cast<std::uint8_t>(word >> (8 * b)));
  }
  return out;
}

}  // namespace toolmark::detail
