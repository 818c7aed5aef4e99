// Fuzz target: vector index files (TMVIDX2) through VectorIndex::Load. The
// loader reads a path, so each input is written to a per-process temporary
// file. A loaded index is searched once. It is loaded as a sketch index with
// a small re-ranking depth, so a sketch file stays one (and a flat or HNSW
// one is rebuilt as one) and an IVF file is loaded as IVF (under `auto` it
// would be refused at once). Any exception other than toolmark::Error
// escapes and counts as a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/index/vector_index.h"

namespace {

std::string TempPath() {
  static const struct File {
    std::string path = "/tmp/toolmark-fuzz-" + std::to_string(::getpid()) + ".tmvi";
    ~File() { std::remove(path.c_str()); }
  } file;
  return file.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = TempPath();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    toolmark::index::VectorIndexOptions o;
    o.kind = toolmark::index::VectorIndexKind::kSketch;
    o.sketch_rerank = 16;
    const toolmark::index::VectorIndex index = toolmark::index::VectorIndex::Load(path, o);
    const std::vector<float> query(static_cast<std::size_t>(index.dims()), 0.5f);
    index.Search(query.data(), 5);
  } catch (const toolmark::Error&) {
  }
  return 0;
}

/// Saved indexes: flat, flat whitened, IVF (whitened before its lists are
/// trained) and sketch, a few removed ids.
std::vector<std::string> ToolmarkFuzzSeeds() {
  std::vector<std::string> seeds;
  using Kind = toolmark::index::VectorIndexKind;
  for (const auto& [kind, whiten_at] : {std::pair{Kind::kFlat, 0}, std::pair{Kind::kFlat, 48},
                                        std::pair{Kind::kIvf, 0}, std::pair{Kind::kSketch, 48}}) {
    toolmark::index::VectorIndexOptions o;
    o.kind = kind;
    o.whiten_at = static_cast<std::size_t>(whiten_at);
    o.ivf_min_train = 64;
    o.ivf_dims = 4;
    o.sketch_rerank = 16;
    constexpr int kDims = 8, kCount = 96;
    toolmark::index::VectorIndex index(kDims, o);
    std::vector<toolmark::index::VectorId> ids;
    std::vector<float> vectors;
    for (int i = 0; i < kCount; ++i) {
      ids.push_back(100 + i);
      for (int d = 0; d < kDims; ++d)
        vectors.push_back(static_cast<float>(((i * 7 + d * 3) % 11) - 5) / 5.0f);
    }
    index.Add(ids, vectors);
    index.Remove(103);
    const std::string path = TempPath();
    index.Save(path);
    std::ifstream in(path, std::ios::binary);
    seeds.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  return seeds;
}
