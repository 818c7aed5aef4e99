// Small, careful file helpers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace toolmark::base {

/// Reads a whole regular file, refusing files larger than max_bytes.
/// Throws toolmark::Error (reason only).
std::string ReadFileBounded(const std::string& path, std::size_t max_bytes);

/// Writes bytes to path atomically and durably: a temporary file in the same
/// folder, fsync, rename over path, fsync of the folder.
void WriteFileAtomic(const std::string& path, std::string_view bytes);

/// fsyncs a regular file (its content and size).
void SyncFile(const std::string& path);

/// fsyncs a directory so that a rename inside it is durable.
void SyncDirectory(const std::string& dir);

}  // namespace toolmark::base
