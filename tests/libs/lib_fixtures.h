// Fixtures of the library-level tests.
#pragma once

#include <filesystem>

#include "toolmark/engine/synth.h"

namespace toolmark::testing {

/// Writes every scan of the synthetic set as X3P into `folder` (created).
void WriteSynthScans(const SynthOptions& options, const std::filesystem::path& folder);

}  // namespace toolmark::testing
