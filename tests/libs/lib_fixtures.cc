#include "lib_fixtures.h"

#include "toolmark/ingest/x3p.h"

namespace toolmark::testing {

void WriteSynthScans(const SynthOptions& options, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  for (int i = 0; i < SynthScanCount(options); ++i) {
    const SynthScan scan = GenerateSynthScan(options, i);
    ingest::WriteX3pFile(scan.surface, (folder / scan.file).string());
  }
}

}  // namespace toolmark::testing
