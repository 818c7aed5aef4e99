// Reading any supported scan file into a Surface.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "toolmark/engine/surface.h"
#include "toolmark/ingest/read_options.h"

namespace toolmark::ingest {

/// A scan as read from a file, normalised to micrometres.
struct Scan {
  Surface surface;
  std::string format;               ///< "x3p", "png", "tiff", "jpeg", "ply", "pcd"
  std::string sha256;               ///< of the whole file, lowercase hex
  std::optional<bool> checksum_ok;  ///< X3P MD5 status; nullopt where the format has none
  std::vector<std::string> notes;   ///< what the reader assumed or tolerated
};

/// Reads any supported file, chosen by its content (zip → X3P, PNG/TIFF/JPEG
/// magic → image) and, for point clouds, its extension. Throws toolmark::Error
/// with the message "<path>: <reason>" on any problem.
Scan ReadScan(const std::string& path, const ReadOptions& options);

/// As ReadScan, for a file whose bytes the caller has already read and
/// hashed (point clouds are re-read from `path` by PCL).
Scan ReadScanBytes(const std::string& path, const std::string& bytes, const std::string& sha256,
                   const ReadOptions& options);

/// True for file names whose extension ReadScan handles.
bool IsScanFileName(const std::string& path);

}  // namespace toolmark::ingest
