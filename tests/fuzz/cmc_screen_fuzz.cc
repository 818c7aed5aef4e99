// Fuzz target: stored CMC screening features (a database's `features`
// records of version cmc-screen-*) through the cmc comparator's
// CheckScreen and ScreenScore (fuzz_seeds.h, ScreenScoreInput).
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_seeds.h"

namespace {

const toolmark::Comparator& Cmc() {
  static const auto cmc = toolmark::MakeComparator("cmc");
  return *cmc;
}

/// The screening features of a small synthetic cartridge case (shot 0 or 1).
std::vector<float> SynthCode(int shot) {
  return Cmc().ScreenFeatures(Cmc().QuickFeatures(*Cmc().Prepare(toolmark::fuzz::SmallCartridgeCase(shot))));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<float> valid = SynthCode(0);
  toolmark::fuzz::ScreenScoreInput(Cmc(), valid, data, size);
  return 0;
}

/// The screening features of two small synthetic cartridge cases.
std::vector<std::string> ToolmarkFuzzSeeds() {
  return toolmark::fuzz::FloatSeeds({SynthCode(0), SynthCode(1)});
}
