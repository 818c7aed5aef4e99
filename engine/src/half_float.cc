// Half precision through OpenCV's cv::float16_t (rounds to nearest, ties to even).
#include "toolmark/engine/half_float.h"

#include <cmath>
#include <cstdint>
#include <opencv2/core.hpp>
#include <utility>

#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

float Rounded(float v) { return static_cast<float>(cv::float16_t(v)); }

}  // namespace

void RoundToHalf(std::vector<float>* values) {
  for (float& v : *values) v = Rounded(v);
}

bool AllHalves(const std::vector<float>& values) {
  for (const float v : values)
    if (!std::isfinite(v) || Rounded(v) != v) return false;
  return true;
}

std::optional<std::string> PackedIfHalves(const std::vector<float>& values) {
  std::string out(values.size() * 2, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    const cv::float16_t half(values[i]);
    if (!std::isfinite(values[i]) || static_cast<float>(half) != values[i]) return std::nullopt;
    const std::uint16_t bits = half.bits();
    out[2 * i] = static_cast<char>(bits & 0xff);
    out[2 * i + 1] = static_cast<char>(bits >> 8);
  }
  return out;
}

std::string PackHalves(const std::vector<float>& values) {
  std::optional<std::string> packed = PackedIfHalves(values);
  Check(packed.has_value(), "feature vector: a value is not a half-precision number");
  return std::move(*packed);
}

std::vector<float> UnpackHalves(const std::string& bytes) {
  Check(bytes.size() % 2 == 0, "feature vector: an odd number of bytes for half-precision values");
  std::vector<float> out(bytes.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto bits = static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                                 (static_cast<unsigned char>(bytes[2 * i + 1]) << 8));
    out[i] = static_cast<float>(cv::float16_t::fromBits(bits));
    Check(std::isfinite(out[i]), "feature vector: a half-precision value is not finite");
  }
  return out;
}

}  // namespace toolmark
