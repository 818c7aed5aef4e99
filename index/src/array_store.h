// One HDF5 file per scan under <db>/arrays/. Private to index.
#pragma once

#include <string>

#include "toolmark/engine/surface.h"

namespace toolmark::index {

/// SHA-256 of a surface's float64 values, row-major (the stored array).
std::string ValuesSha256(const Surface& surface);

/// Writes the surface to `path` atomically and durably (temp file, fsync,
/// rename, folder fsync). Layout: dataset /surface/values (float64,
/// size_y × size_x, chunked, shuffle + deflate) with attributes spacing_x_um,
/// spacing_y_um, origin_x_um, origin_y_um, kind, values_sha256 (=
/// ValuesSha256(surface), passed in), layout_version. Chunks are filtered in
/// parallel and written directly.
void WriteSurfaceFile(const std::string& path, const Surface& surface, const std::string& values_sha256);

/// Reads a surface written by WriteSurfaceFile (metadata not included).
/// Throws toolmark::Error naming the file on any problem.
Surface ReadSurfaceFile(const std::string& path);

}  // namespace toolmark::index
