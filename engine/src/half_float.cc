// Half precision through OpenCV's cv::float16_t (rounds to nearest, ties to even).
#include "toolmark/engine/half_float.h"

#include <cmath>
#include <cstdint>
#include <opencv2/core.hpp>

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

std::string PackHalves(const std::vector<float>& values) {
  Check(AllHalves(values), "feature vector: a value is not a half-precision number");
  std::string out(values.size() * 2, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint16_t bits = cv::float16_t(values[i]).bits();
    out[2 * i] = static_cast<char>(bits & 0xff);
    out[2 * i + 1] = static_cast<char>(bits >> 8);
  }
  return out;
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
