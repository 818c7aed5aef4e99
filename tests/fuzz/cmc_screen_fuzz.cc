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
#include "toolmark/engine/synth.h"

namespace {

const toolmark::Comparator& Cmc() {
  static const auto cmc = toolmark::MakeComparator("cmc");
  return *cmc;
}

/// The screening features of a small synthetic cartridge case (`index` of a firearm's two).
std::vector<float> SynthCode(int index) {
  toolmark::SynthOptions o;
  o.kind = toolmark::Kind::kCartridgeCase;
  o.firearms = 1;
  o.per_firearm = 2;
  o.size = 64;
  o.seed = 5;
  return Cmc().ScreenFeatures(
      Cmc().QuickFeatures(*Cmc().Prepare(toolmark::GenerateSynthScan(o, index).surface)));
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
