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
    Check(IsPackedWord(v), what + ": bad data");
    const auto word = static_cast<std::uint32_t>(v);
    for (int b = 0; b < 3 && out.size() < bytes; ++b)
      out.push_back(static_cast<std::uint8_t>(word >> (8 * b)));
  }
  return out;
}

bool IsPackedWord(float v) { return v >= 0 && v < static_cast<float>(kPackedLimit) && v == std::floor(v); }

void FailCode(const char* code, const std::string& what) { throw Error(std::string(code) + ": " + what); }

int WholeNumber(float v, int lo, int hi, const char* code, const char* what) {
  if (!(std::isfinite(v) && v == std::floor(v) && v >= static_cast<float>(lo) && v <= static_cast<float>(hi)))
    FailCode(code, std::string("bad ") + what);
  return static_cast<int>(v);
}

}  // namespace toolmark::detail
