// Replay driver for builds without libFuzzer: runs the target on the files and
// folders given (regression inputs), on every seed, and on a deterministic series of mutations of them (bit
// flips, byte overwrites, truncations, insertions, chunk duplication). Any crash or sanitizer report fails
// the CTest test.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "fuzz_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int Run(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string Mutate(std::string s, std::mt19937_64& rng) {
  if (s.empty()) return std::string(1, static_cast<char>(rng()));
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    std::size_t pos = rng() % s.size();
    switch (rng() % 6) {
      case 0:
        s[pos] = static_cast<char>(s[pos] ^ (1 << (rng() % 8)));
        break;
      case 1:
        s[pos] = static_cast<char>(rng());
        break;
      case 2:
        s.resize(pos);
        break;
      case 3:
        s.insert(pos, 1 + rng() % 16, static_cast<char>(rng()));
        break;
      case 4: {  // overwrite 4 bytes with an extreme integer (sizes, offsets)
        static const std::uint32_t kExtremes[] = {0, 1, 0x7fffffff, 0xffffffff, 0x80000000};
        std::uint32_t v = kExtremes[rng() % 5];
        for (int i = 0; i < 4 && pos + i < s.size(); ++i) s[pos + i] = static_cast<char>(v >> (8 * i));
        break;
      }
      default: {
        std::size_t len = std::min<std::size_t>(s.size() - pos, 1 + rng() % 64);
        s.insert(rng() % s.size(), s.substr(pos, len));
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 1000;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mutations") == 0 && i + 1 < argc) {
      mutations = std::atol(argv[++i]);
    } else if (std::strcmp(argv[i], "--dump-seeds") == 0 && i + 1 < argc) {
      std::string dir = argv[++i];
      int n = 0;
      for (const std::string& seed : ToolmarkFuzzSeeds()) {
        std::ofstream(dir + "/seed" + std::to_string(n++), std::ios::binary) << seed;
      }
      std::printf("wrote %d seeds to %s\n", n, dir.c_str());
      return 0;
    } else {
      files.emplace_back(argv[i]);
    }
  }
  std::vector<std::string> inputs;
  for (const std::string& f : files) {
    if (!std::filesystem::is_directory(f)) {
      inputs.push_back(f);
      continue;
    }
    for (const auto& e : std::filesystem::directory_iterator(f)) inputs.push_back(e.path().string());
  }
  for (const std::string& f : inputs) {
    std::ifstream in(f, std::ios::binary);
    Run(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  const std::vector<std::string> seeds = ToolmarkFuzzSeeds();
  for (const std::string& seed : seeds) Run(seed);
  std::mt19937_64 rng(12345);
  for (long i = 0; i < mutations && !seeds.empty(); ++i) {
    Run(Mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], rng));
  }
  std::printf("replayed %zu files, %zu seeds and %ld mutations without a crash\n", inputs.size(),
              seeds.size(), mutations);
  return 0;
}
