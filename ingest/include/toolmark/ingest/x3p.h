// X3P (ISO 25178-72 / ISO 5436-2 XML) reader and writer.
// Reader: Record1-4, data types I/L/F/D, incremental axes and offsets, the
// optional validity bit mask, MD5 checksums, zip entries in any order.
// Lateral numbers in X3P are metres; Surface holds micrometres.
#pragma once

#include <string>
#include <string_view>

#include "toolmark/engine/surface.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::ingest {

/// Parses an X3P container held in memory. Throws toolmark::Error (reason
/// only, no file name) on any problem. sha256 is left empty.
Scan ReadX3pBytes(std::string_view bytes, const ReadOptions& options);

/// Serialises a surface as an X3P container (float64 heights in metres,
/// incremental axes, MD5 checksums). Round-trips bit-exactly through
/// ReadX3pBytes for every surface that was read from an X3P file (its µm
/// values are metre values × 1e6); a µm value that no double in metres maps
/// to exactly (possible for arbitrary doubles) comes back within 1 ulp.
std::string WriteX3pBytes(const Surface& surface);

/// Writes WriteX3pBytes(surface) to path atomically (temp file, fsync, rename).
void WriteX3pFile(const Surface& surface, const std::string& path);

}  // namespace toolmark::ingest
