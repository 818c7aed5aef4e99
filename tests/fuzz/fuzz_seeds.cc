#include "fuzz_seeds.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "toolmark/engine/check.h"
#include "toolmark/engine/synth.h"

namespace toolmark::fuzz {

Surface SmallSurface(int size_x, int size_y) {
  Surface s;
  s.values.create(size_y, size_x, CV_64FC1);
  for (int y = 0; y < size_y; ++y) {
    for (int x = 0; x < size_x; ++x) {
      s.values.at<double>(y, x) = std::sin(0.3 * x) + 0.1 * y;
    }
  }
  if (size_x > 2 && size_y > 2) s.values.at<double>(1, 1) = std::numeric_limits<double>::quiet_NaN();
  s.spacing_x_um = 1.5625;
  s.spacing_y_um = 1.5625;
  return s;
}

Surface SmallCartridgeCase(int shot) {
  SynthOptions o;
  o.kind = Kind::kCartridgeCase;
  o.firearms = 1;
  o.per_firearm = 2;
  o.size = 64;
  o.seed = 5;
  return GenerateSynthScan(o, shot).surface;
}

Surface SmallLand(int bullet) {
  SynthOptions o;
  o.kind = Kind::kBullet;
  o.firearms = 1;
  o.per_firearm = 2;
  o.lands = 3;
  o.seed = 5;
  return GenerateSynthScan(o, bullet * o.lands).surface;
}

void ScreenScoreInput(const Comparator& comparator, const std::vector<float>& valid, const std::uint8_t* data,
                      std::size_t size) {
  std::vector<float> features(size / sizeof(float));
  if (!features.empty()) std::memcpy(features.data(), data, features.size() * sizeof(float));
  for (int order = 0; order < 4; ++order) {
    try {
      if (order == 0) comparator.CheckScreen(features);
      if (order == 1) comparator.ScreenScore(features, features);
      if (order == 2) comparator.ScreenScore(valid, features);
      if (order == 3) comparator.ScreenScore(features, valid);
    } catch (const Error&) {
    }
  }
}

std::vector<std::string> FloatSeeds(const std::vector<std::vector<float>>& codes) {
  std::vector<std::string> seeds;
  for (const std::vector<float>& f : codes)
    seeds.emplace_back(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float));
  return seeds;
}

}  // namespace toolmark::fuzz
