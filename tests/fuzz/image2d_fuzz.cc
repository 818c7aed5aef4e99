// Fuzz target: 2D image decoding (PNG, TIFF, JPEG) through ReadImageBytes.
// Any exception other than toolmark::Error escapes and counts as a finding.
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/image2d.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  toolmark::ingest::ReadOptions options;
  options.spacing_um = 5.0;
  options.limits.max_side = 4096;
  options.limits.max_points = std::size_t{1} << 22;
  try {
    toolmark::ingest::ReadImageBytes(std::string_view(reinterpret_cast<const char*>(data), size), "",
                                     options);
  } catch (const toolmark::Error&) {
  }
  return 0;
}

namespace {

/// A small 17 x 12 grey gradient scaled to `max_level`, as `depth` with
/// `channels` channels (colour seeds get a different pattern per channel).
cv::Mat SeedImage(int depth, int channels, double max_level) {
  std::vector<cv::Mat> planes;
  for (int c = 0; c < channels; ++c) {
    cv::Mat plane(12, 17, CV_64FC1);
    for (int y = 0; y < plane.rows; ++y) {
      for (int x = 0; x < plane.cols; ++x) {
        plane.at<double>(y, x) = max_level * ((x * (7 + c) + y * 13) % 31) / 30.0;
      }
    }
    planes.push_back(plane);
  }
  cv::Mat merged, image;
  cv::merge(planes, merged);
  merged.convertTo(image, CV_MAKETYPE(depth, channels));
  return image;
}

std::string Encode(const char* ext, const cv::Mat& image) {
  std::vector<std::uint8_t> buffer;
  cv::imencode(ext, image, buffer);
  return std::string(buffer.begin(), buffer.end());
}

}  // namespace

std::vector<std::string> ToolmarkFuzzSeeds() {
  const cv::Mat grey8 = SeedImage(CV_8U, 1, 255);
  const cv::Mat grey16 = SeedImage(CV_16U, 1, 65535);
  const cv::Mat colour = SeedImage(CV_8U, 3, 255);
  return {Encode(".png", grey8),  Encode(".png", grey16), Encode(".png", colour), Encode(".tif", grey8),
          Encode(".tif", grey16), Encode(".jpg", grey8),  Encode(".jpg", colour)};
}
