// CSV manifests: one row per scan file with its metadata (a dataset's
// truth.csv works as one). RFC 4180 quoting; first row is the header.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/engine/orientation.h"
#include "toolmark/ingest/read_options.h"

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

/// How one file of a manifest (or a dataset's truth.csv) is to be read and
/// taken in, where its row says so, over the command line's defaults:
/// columns `xy_unit`, `z_unit` (m, mm, um), `spacing_um` (a positive
/// number) and `orientation` (OrientationNames; empty: the default).
struct RowOverrides {
  ReadOptions read;
  std::optional<Orientation> orientation;
  std::string orientation_source;  ///< "manifest", or `orientation_source` of the default
};
/// Applies a row's columns over the defaults; throws toolmark::Error naming
/// the column for a value it cannot take.
RowOverrides ApplyRowOverrides(const std::map<std::string, std::string>* row, const ReadOptions& read,
                               std::optional<Orientation> orientation);

/// A reader's refusal that names a flag (--xy-unit, --z-unit, --spacing-um,
/// --orientation) with the per-file alternative added: the manifest /
/// truth.csv column of the same name fixes one file without touching the rest.
std::string ColumnHint(const std::string& reason);

}  // namespace toolmark::ingest
