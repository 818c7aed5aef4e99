// The ingest pipeline (toolmark ingest, toolmark demo; a server or a
// cluster task can run it too): scan files and an optional CSV manifest in,
// each file read, taken in (bullet lands turned upright, quality judged) and
// stored as an item with its metadata, in parallel batches, one durable
// transaction per item. A file that cannot be read or is refused is
// reported and never touches the database; a run that accepts nothing
// creates no database. This library sits above index (it stores into the
// database) and beside the readers it drives; docs/development.md has the
// layer map.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/engine/orientation.h"
#include "toolmark/index/database.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/read_options.h"

namespace toolmark::ingest {

/// Metadata for every file (the command line's flags); a manifest row's
/// values win over these.
struct ItemDefaults {
  std::string case_id, item_label, jurisdiction;
  std::optional<Kind> kind;
  std::string role;
  std::vector<Mark> marks;
  std::string caliber, firing_pin_shape, twist, make, model, serial;
  int lands = 0;
};

struct IngestRequest {
  std::vector<std::string> paths;  ///< files and folders (folders: their scan files)
  std::string manifest;            ///< CSV; with no paths, its files are ingested
  bool recursive = false;          ///< folders: also their sub-folders
  std::string db;                  ///< the database folder (created with the first item)
  ItemDefaults defaults;
  ReadOptions read;
  std::optional<Orientation> orientation;  ///< how land scans are stored (--orientation); none: measured
  int threads = 0;                         ///< 0 = all cores
};

/// What happened to one file, in file order.
struct IngestEvent {
  enum class Outcome { kAccepted, kDuplicate, kRejected };
  Outcome outcome = Outcome::kRejected;
  std::string file;                          ///< as given (path)
  index::ItemId id = index::kInvalidItemId;  ///< the new item, or the existing one (duplicate)
  index::ItemRecord item;                    ///< accepted / duplicate: its record (sha256 at least)
  const ScanQuality* quality = nullptr;      ///< accepted: the intake's findings (valid during the call)
  std::string error;                         ///< rejected: "<file>: <reason>", one line
};
using IngestListener = std::function<void(const IngestEvent&)>;

struct IngestSummary {
  int accepted = 0, duplicates = 0, rejected = 0;
};

/// Runs the pipeline; `on_file` hears of every file after its outcome is
/// durable (an accepted item is committed before it is reported). Throws
/// toolmark::Error only for what stops the whole run (an unreadable
/// manifest, no files).
IngestSummary RunIngest(const IngestRequest& request, const IngestListener& on_file = nullptr);

}  // namespace toolmark::ingest
