// The ingest job behind `toolmark ingest` and `toolmark demo`.
#pragma once

#include <string>
#include <vector>

#include "cli_common.h"
#include "toolmark/index/database.h"

namespace toolmark::cli {

/// Metadata given on the command line; a manifest row's values win over these.
struct ItemFlags {
  std::string case_id, item_label, jurisdiction, kind, role;
  std::vector<std::string> marks;
  std::string caliber, firing_pin_shape, twist, make, model, serial;
  int lands = 0;
};

struct IngestRequest {
  std::vector<std::string> paths;  ///< files and folders (folders: their scan files)
  std::string manifest;            ///< CSV; with no paths, its files are ingested
  bool recursive = false;          ///< folders: also their sub-folders
  std::string db;
  ItemFlags flags;
  ReadFlags read;
  bool json = false;
  int threads = 0;  ///< 0 = all cores
};

struct IngestSummary {
  int accepted = 0, duplicates = 0, rejected = 0;
};

/// Reads, validates and stores every file; prints one line per file (or JSON
/// at the end) and a summary. Rejected files never touch the database.
IngestSummary RunIngestJob(const IngestRequest& request);

/// Adds the metadata flags (--case, --kind, …) to a subcommand.
void AddItemFlags(CLI::App* cmd, ItemFlags* flags);

}  // namespace toolmark::cli
