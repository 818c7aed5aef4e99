// 2D images (PNG, TIFF, JPEG; 8 and 16 bit grey or colour) as intensity
// surfaces. The pixel spacing is never guessed: it comes from
// ReadOptions::spacing_um or from a JSON sidecar next to the image.
#pragma once

#include <string>
#include <string_view>

#include "toolmark/ingest/scan.h"

namespace toolmark::ingest {

/// Decodes an image held in memory. `path` names the file only to find its
/// sidecar ("<path>.json" or "<stem>.json" with {"spacing_um": …} or
/// {"spacing_x_um": …, "spacing_y_um": …}); pass "" to use options alone.
/// Throws toolmark::Error (reason only) on any problem, including a missing
/// spacing.
Scan ReadImageBytes(std::string_view bytes, const std::string& path, const ReadOptions& options);

/// "png", "tiff", "jpeg" from the magic bytes, or "" when not an image.
std::string SniffImageFormat(std::string_view bytes);

}  // namespace toolmark::ingest
