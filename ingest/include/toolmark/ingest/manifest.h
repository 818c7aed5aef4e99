// CSV manifests: one row per scan file with its metadata (a dataset's
// truth.csv works as one). RFC 4180 quoting; first row is the header.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace toolmark::ingest {

struct Manifest {
  std::vector<std::string> columns;
  /// One map per data row, column name → value ("" where the row is short).
  std::vector<std::map<std::string, std::string>> rows;
  /// Row whose `file` column equals `file_name`, or nullptr.
  const std::map<std::string, std::string>* Find(const std::string& file_name) const;
};

/// Parses CSV text. Requires a `file` column, unique non-empty file names and
/// at most max_rows rows. Throws toolmark::Error naming the line.
Manifest ParseManifest(const std::string& text, std::size_t max_rows = 1000000);

/// Reads and parses a manifest file (at most 64 MiB).
Manifest ReadManifest(const std::string& path);

}  // namespace toolmark::ingest
