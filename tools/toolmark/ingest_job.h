// The ingest command behind `toolmark ingest` and `toolmark demo`: the
// pipeline (toolmark/ingest/pipeline.h) with the command's output.
#pragma once

#include <string>
#include <vector>

#include "cli_common.h"
#include "toolmark/index/database.h"
#include "toolmark/ingest/pipeline.h"

namespace toolmark::cli {

/// Metadata given on the command line; a manifest row's values win over these.
using ItemFlags = ingest::ItemDefaults;

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

using ingest::IngestSummary;

/// Reads, validates and stores every file; prints one line per file (or JSON
/// at the end) and a summary. Rejected files never touch the database.
IngestSummary RunIngestJob(const IngestRequest& request);

/// Adds the metadata flags (--case, --kind, …) to a subcommand.
void AddItemFlags(CLI::App* cmd, ItemFlags* flags);

}  // namespace toolmark::cli
