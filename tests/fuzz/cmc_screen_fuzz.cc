// Fuzz target: stored CMC screening features (a database's `features`
// records of version cmc-screen-*) through Comparator::ScreenScore: the
// input's bytes are read as float32 numbers and scored against themselves
// and against a valid code, on both sides. Any exception other than
// toolmark::Error escapes and counts as a finding.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"

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
  std::vector<float> features(size / sizeof(float));
  if (!features.empty()) std::memcpy(features.data(), data, features.size() * sizeof(float));
  for (int order = 0; order < 3; ++order) {
    try {
      if (order == 0) Cmc().ScreenScore(features, features);
      if (order == 1) Cmc().ScreenScore(valid, features);
      if (order == 2) Cmc().ScreenScore(features, valid);
    } catch (const toolmark::Error&) {
    }
  }
  return 0;
}

/// The screening features of two small synthetic cartridge cases.
std::vector<std::string> ToolmarkFuzzSeeds() {
  std::vector<std::string> seeds;
  for (int i = 0; i < 2; ++i) {
    const std::vector<float> f = SynthCode(i);
    seeds.emplace_back(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float));
  }
  return seeds;
}
