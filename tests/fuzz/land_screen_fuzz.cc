// Fuzz target: stored land screening features (a database's `features`
// records of version land-screen-*) through the land comparator's
// CheckScreen and ScreenScore (fuzz_seeds.h, ScreenScoreInput).
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_seeds.h"

namespace {

const toolmark::Comparator& Land() {
  static const auto land = toolmark::MakeComparator("land");
  return *land;
}

/// The screening features of one land of a synthetic bullet (bullet 0 or 1).
std::vector<float> SynthCode(int bullet) {
  return Land().ScreenFeaturesOf(*Land().Prepare(toolmark::fuzz::SmallLand(bullet)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<float> valid = SynthCode(0);
  toolmark::fuzz::ScreenScoreInput(Land(), valid, data, size);
  return 0;
}

/// The screening features of the same land of two synthetic bullets.
std::vector<std::string> ToolmarkFuzzSeeds() {
  return toolmark::fuzz::FloatSeeds({SynthCode(0), SynthCode(1)});
}
