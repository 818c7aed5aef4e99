// Fuzz target: a stored embedding's bytes (a database `features` record of
// halves, two bytes a value) through UnpackHalves. A decoded vector must
// pack back to the same bytes, and one of the index's size is searched as a
// query in a small whitened index. Any exception other than toolmark::Error
// escapes and counts as a finding; a failed round trip aborts.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/half_float.h"
#include "toolmark/index/vector_index.h"

namespace {

constexpr int kDims = 8;

const toolmark::index::VectorIndex& Index() {
  static const toolmark::index::VectorIndex index = [] {
    toolmark::index::VectorIndexOptions o;
    o.kind = toolmark::index::VectorIndexKind::kFlat;
    o.whiten_at = 48;
    toolmark::index::VectorIndex built(kDims, o);
    std::vector<toolmark::index::VectorId> ids;
    std::vector<float> vectors;
    for (int i = 0; i < 64; ++i) {
      ids.push_back(i);
      for (int d = 0; d < kDims; ++d)
        vectors.push_back(static_cast<float>(((i * 5 + d * 3) % 13) - 6) / 6.0f);
    }
    built.Add(ids, vectors);
    return built;
  }();
  return index;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<float> v = toolmark::UnpackHalves(bytes);
    if (!toolmark::AllHalves(v) || toolmark::PackHalves(v) != bytes) std::abort();
    if (v.size() == static_cast<std::size_t>(kDims)) Index().Search(v.data(), 5);
  } catch (const toolmark::Error&) {
  }
  return 0;
}

/// Stored embeddings of the index's size: ordinary values, signed zeros,
/// subnormals and the largest half.
std::vector<std::string> ToolmarkFuzzSeeds() {
  std::vector<std::string> seeds;
  for (const std::vector<float>& v :
       {std::vector<float>{0.5f, -0.25f, 0.125f, 0.0f, 0.75f, -1.0f, 0.375f, 0.0625f},
        std::vector<float>{-0.0f, 0.0f, 0x1p-24f, -0x1p-24f, 65504.0f, -65504.0f, 0x1p-14f, 1.0f}})
    seeds.push_back(toolmark::PackHalves(v));
  return seeds;
}
