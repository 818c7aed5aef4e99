#include "fuzz_seeds.h"

#include <cmath>
#include <limits>

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

}  // namespace toolmark::fuzz
