// Fuzz target: the X3P reader on arbitrary bytes. Only toolmark::Error may
// come out; anything else (crash, other exception, sanitizer report) is a bug.
#include <cstdint>
#include <string>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  toolmark::ingest::ReadOptions options;
  options.limits.max_points = std::size_t{1} << 22;
  options.limits.max_side = 8192;
  options.limits.max_xml_bytes = 1 << 20;
  try {
    toolmark::ingest::ReadX3pBytes(std::string_view(reinterpret_cast<const char*>(data), size), options);
  } catch (const toolmark::Error&) {
  }
  return 0;
}

std::vector<std::string> ToolmarkFuzzSeeds() {
  using toolmark::fuzz::SmallSurface;
  std::vector<std::string> seeds;
  seeds.push_back(toolmark::ingest::WriteX3pBytes(SmallSurface(7, 5)));
  seeds.push_back(toolmark::ingest::WriteX3pBytes(SmallSurface(1, 1)));
  seeds.push_back(toolmark::ingest::WriteX3pBytes(SmallSurface(32, 3)));
  return seeds;
}
