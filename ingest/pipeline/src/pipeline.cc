// The ingest pipeline: files (and a manifest) in, validated items out into
// the database. See toolmark/ingest/pipeline.h.
#include "toolmark/ingest/pipeline.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/base/terminal.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/registry.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::ingest {
namespace fs = std::filesystem;
namespace {

using Row = std::map<std::string, std::string>;

/// Files to ingest: explicit files, scan files of folders (sorted), or the
/// manifest's files when no path is given.
std::vector<std::string> CollectFiles(const IngestRequest& req, const Manifest* manifest) {
  std::vector<std::string> files;
  if (req.paths.empty() && manifest) {
    const fs::path base = fs::path(req.manifest).parent_path();
    for (const auto& row : manifest->rows) files.push_back((base / row.at("file")).string());
    return files;
  }
  for (const std::string& p : req.paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> in_dir;
    auto take = [&](const fs::directory_entry& e) {
      if (e.is_regular_file() && IsScanFileName(e.path().string())) in_dir.push_back(e.path().string());
    };
    if (req.recursive) {
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) take(e);
    } else {
      for (const auto& e : fs::directory_iterator(p, ec)) take(e);
    }
    std::sort(in_dir.begin(), in_dir.end());
    files.insert(files.end(), in_dir.begin(), in_dir.end());
  }
  return files;
}

std::string Pick(const Row* row, const char* column, const std::string& fallback) {
  if (row) {
    auto it = row->find(column);
    if (it != row->end() && !it->second.empty()) return it->second;
  }
  return fallback;
}

std::vector<std::string> SplitMarks(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ";") {
    if (c == ';' || c == ' ' || c == '|') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else
      cur += c;
  }
  return out;
}

/// The row's marks (else the flags'; else the kind's default), an unnumbered
/// land numbered by the row's land column.
std::vector<Mark> MarksFor(const Row* row, const ItemDefaults& f, Kind kind) {
  const std::vector<std::string> named = SplitMarks(Pick(row, "mark", ""));
  std::vector<Mark> marks = named.empty() ? f.marks : MarksOf(named);
  if (marks.empty()) marks.push_back({kind == Kind::kBullet ? MarkType::kLand : MarkType::kBreechFace, 0});
  const std::string land = Pick(row, "land", "");
  for (Mark& m : marks)
    if (m.type == MarkType::kLand && m.land == 0 && !land.empty()) m = MarkOf("land" + land);
  return marks;
}

int ParseLands(const std::string& text) {
  if (text.empty()) return 0;
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  Fail("lands '" + text + "' is not a whole number");
}

/// Item metadata for one file; throws Error when something required is missing.
index::ItemRecord Describe(const std::string& path, const Row* row, const ItemDefaults& f) {
  index::ItemRecord it;
  it.file = fs::path(path).filename().string();
  it.case_id = Pick(row, "case", f.case_id);
  if (it.case_id.empty()) Fail("no case id: pass --case or give the manifest a 'case' column");
  it.item_label = Pick(row, "item", Pick(row, "bullet", f.item_label));
  if (it.item_label.empty()) it.item_label = fs::path(path).stem().string();
  it.jurisdiction = Pick(row, "jurisdiction", f.jurisdiction.empty() ? "local" : f.jurisdiction);
  const std::string kind = Pick(row, "kind", f.kind ? KindName(*f.kind) : "");
  if (kind.empty()) Fail("kind unknown: pass --kind cartridge_case|bullet or a manifest 'kind' column");
  Check(ParseKind(kind).has_value(), "kind '" + kind + "' must be cartridge_case or bullet");
  it.kind = KindOf(kind);
  it.role = Pick(row, "role", f.role.empty() ? "questioned" : f.role);
  it.marks = MarksFor(row, f, it.kind);
  it.class_marks = {Pick(row, "caliber", f.caliber), Pick(row, "firing_pin_shape", f.firing_pin_shape),
                    ParseLands(Pick(row, "lands", f.lands ? std::to_string(f.lands) : "")),
                    Pick(row, "twist", f.twist)};
  it.firearm = {Pick(row, "make", f.make), Pick(row, "model", f.model), Pick(row, "serial", f.serial),
                Pick(row, "firearm", "")};
  return it;
}

/// The manifest row of a file: by its path relative to the manifest's folder
/// (rows may name sub-folders), else by its file name.
const Row* ManifestRow(const Manifest& manifest, const std::string& manifest_path, const std::string& path) {
  std::error_code ec;
  const fs::path base = fs::absolute(fs::path(manifest_path), ec).parent_path();
  const fs::path relative = fs::absolute(fs::path(path), ec).lexically_relative(base);
  if (const Row* row = manifest.Find(relative.generic_string())) return row;
  return manifest.Find(fs::path(path).filename().string());
}

struct Prepared {
  std::optional<index::ItemId> duplicate_of;  ///< the file is already stored
  std::optional<index::ItemRecord> item;
  std::optional<Scan> scan;  ///< its surface: upright (the intake's)
  ScanQuality quality;
  std::string error;
};

Prepared Prepare(const std::string& path, const Manifest* manifest, const IngestRequest& req,
                 const ReadOptions& options, index::Database* db) {
  Prepared p;
  try {
    // A file already stored is recognised by its SHA-256 before any parsing.
    const std::string bytes = base::ReadFileBounded(path, options.limits.max_file_bytes);
    const std::string sha = base::Sha256Hex(bytes);
    if (db && (p.duplicate_of = db->FindBySha256(sha))) {
      p.item.emplace();
      p.item->sha256 = sha;
      return p;
    }
    const Row* row = manifest ? ManifestRow(*manifest, req.manifest, path) : nullptr;
    if (manifest && !row) Fail("not listed in the manifest " + req.manifest);
    index::ItemRecord item = Describe(path, row, req.defaults);
    const RowOverrides own = ApplyRowOverrides(row, options, req.orientation);
    p.scan = ReadScanBytes(path, bytes, sha, own.read);
    IntakeOptions intake;
    intake.kind = item.kind;
    intake.orientation = own.orientation;
    intake.orientation_source = own.orientation_source;
    Intake in = TakeIn(p.scan->surface, intake);
    p.scan->surface = std::move(in.surface);
    p.quality = std::move(in.quality);
    item.quality = QualityJson(p.quality).dump();
    item.sha256 = p.scan->sha256;
    item.format = p.scan->format;
    item.instrument = p.scan->surface.meta.Instrument();
    item.checksum_ok = p.scan->checksum_ok;
    index::ValidateItem(item);
    p.item = std::move(item);
  } catch (const Error& e) {
    const std::string msg = e.what();
    p.error = msg.rfind(path, 0) == 0 ? msg : path + ": " + msg;
    p.scan.reset();
  }
  return p;
}

/// Stores a prepared file; the database is created with the first item, so a
/// run that accepts nothing leaves no trace.
void Store(const std::string& folder, std::unique_ptr<index::Database>& db, const std::string& path,
           Prepared& p, const IngestListener& on_file, IngestSummary* summary) {
  IngestEvent ev;
  ev.file = path;
  if (!p.error.empty()) {
    ev.outcome = IngestEvent::Outcome::kRejected;
    ev.error = p.error;
  } else if (p.duplicate_of) {
    ev.outcome = IngestEvent::Outcome::kDuplicate;
    ev.item = *p.item;
    ev.id = *p.duplicate_of;
  } else {
    if (!db) db = index::Database::Open(folder, true);
    try {
      const index::AddResult r = db->Add(*p.item, p.scan->surface);
      ev.outcome = r.duplicate ? IngestEvent::Outcome::kDuplicate : IngestEvent::Outcome::kAccepted;
      ev.id = r.id;
      ev.item = *p.item;
      ev.quality = &p.quality;
    } catch (const Error& e) {
      ev.outcome = IngestEvent::Outcome::kRejected;
      ev.error = path + ": " + e.what();
    }
  }
  switch (ev.outcome) {
    case IngestEvent::Outcome::kAccepted:
      ++summary->accepted;
      break;
    case IngestEvent::Outcome::kDuplicate:
      ++summary->duplicates;
      break;
    case IngestEvent::Outcome::kRejected:
      ++summary->rejected;
      break;
  }
  if (on_file) on_file(ev);
}

}  // namespace

IngestSummary RunIngest(const IngestRequest& req, const IngestListener& on_file) {
  std::optional<Manifest> manifest;
  if (!req.manifest.empty()) manifest = ReadManifest(req.manifest);
  const std::vector<std::string> files = CollectFiles(req, manifest ? &*manifest : nullptr);
  if (files.empty()) Fail("nothing to ingest: no scan files given");
  const ReadOptions& options = req.read;
  std::unique_ptr<index::Database> db;
  if (index::Database::Exists(req.db)) db = index::Database::Open(req.db, false);
  std::optional<tbb::global_control> limit;
  if (req.threads > 0) limit.emplace(tbb::global_control::max_allowed_parallelism, req.threads);
  IngestSummary summary;
  base::Progress progress(files.size(), "ingest");
  // Small batches bound memory and let acknowledgements follow the work closely.
  const std::size_t kBatch =
      2 * static_cast<std::size_t>(
              std::max(1, req.threads > 0 ? req.threads : tbb::this_task_arena::max_concurrency()));
  for (std::size_t start = 0; start < files.size(); start += kBatch) {
    const std::size_t end = std::min(files.size(), start + kBatch);
    std::vector<Prepared> batch(end - start);
    {
      base::QuietStderr quiet;
      tbb::parallel_for(start, end, [&](std::size_t i) {
        batch[i - start] = Prepare(files[i], manifest ? &*manifest : nullptr, req, options, db.get());
      });
    }
    for (std::size_t i = start; i < end; ++i) {
      Store(req.db, db, files[i], batch[i - start], on_file, &summary);
      progress.Tick(fs::path(files[i]).filename().string());
    }
  }
  return summary;
}

}  // namespace toolmark::ingest
