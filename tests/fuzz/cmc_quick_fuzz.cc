// Fuzz target: stored CMC quick features (a database's `features` records of
// version cmc-quick-*) through Comparator::QuickMark: the input's bytes are
// read as float32 numbers. A rebuilt mark is scored against itself. Any
// exception other than toolmark::Error escapes and counts as a finding.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<float> features(size / sizeof(float));
  if (!features.empty()) std::memcpy(features.data(), data, features.size() * sizeof(float));
  try {
    const auto mark = Cmc().QuickMark(features);
    Cmc().QuickScore(*mark, *mark);
  } catch (const toolmark::Error&) {
  }
  return 0;
}

/// The quick features of two small synthetic cartridge cases.
std::vector<std::string> ToolmarkFuzzSeeds() {
  std::vector<std::string> seeds;
  for (int i = 0; i < 2; ++i) {
    const std::vector<float> f = Cmc().QuickFeatures(*Cmc().Prepare(toolmark::fuzz::SmallCartridgeCase(i)));
    seeds.emplace_back(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float));
  }
  return seeds;
}
