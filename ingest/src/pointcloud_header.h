// Pre-validation of PLY and PCD headers, before PCL sees a file: the stated
// point counts must fit the limits and the file's actual size, and the header
// must be one PCL parses safely (PCL 1.13 crashes on some malformed headers,
// e.g. a PCD header line of blanks). Private to ingest.
#pragma once

#include <string>

#include "toolmark/ingest/read_options.h"

namespace toolmark::ingest {

/// Throws toolmark::Error (reason only) unless the file's header is
/// well-formed, consistent and within limits. `ply` chooses PLY or PCD.
void CheckPointCloudHeader(const std::string& path, bool ply, const IngestLimits& limits);

}  // namespace toolmark::ingest
