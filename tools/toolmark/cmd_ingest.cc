// toolmark ingest FILE/DIR…: add evidence to the database.
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "cli_common.h"
#include "ingest_job.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/file_io.h"
#include "toolmark/ingest/hash.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::cli {
namespace fs = std::filesystem;
namespace {

using Row = std::map<std::string, std::string>;

/// Files to ingest: explicit files, scan files of folders (sorted), or the
/// manifest's files when no path is given.
std::vector<std::string> CollectFiles(const IngestRequest& req, const ingest::Manifest* manifest) {
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
      if (e.is_regular_file() && ingest::IsScanFileName(e.path().string()))
        in_dir.push_back(e.path().string());
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

std::vector<std::string> MarksFor(const Row* row, const ItemFlags& f, const std::string& kind) {
  std::vector<std::string> marks = SplitMarks(Pick(row, "mark", ""));
  if (marks.empty()) marks = f.marks;
  const std::string land = Pick(row, "land", "");
  for (auto& m : marks)
    if (m == "land" && !land.empty()) m = "land" + land;
  if (marks.empty())
    marks.push_back(kind == "bullet" ? (land.empty() ? "land" : "land" + land) : "breech_face");
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
index::ItemRecord Describe(const std::string& path, const Row* row, const ItemFlags& f) {
  index::ItemRecord it;
  it.file = fs::path(path).filename().string();
  it.case_id = Pick(row, "case", f.case_id);
  if (it.case_id.empty()) Fail("no case id: pass --case or give the manifest a 'case' column");
  it.item_label = Pick(row, "item", Pick(row, "bullet", f.item_label));
  if (it.item_label.empty()) it.item_label = fs::path(path).stem().string();
  it.jurisdiction = Pick(row, "jurisdiction", f.jurisdiction.empty() ? "local" : f.jurisdiction);
  it.kind = Pick(row, "kind", f.kind);
  if (it.kind.empty()) Fail("kind unknown: pass --kind cartridge_case|bullet or a manifest 'kind' column");
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
const Row* ManifestRow(const ingest::Manifest& manifest, const std::string& manifest_path,
                       const std::string& path) {
  std::error_code ec;
  const fs::path base = fs::absolute(fs::path(manifest_path), ec).parent_path();
  const fs::path relative = fs::absolute(fs::path(path), ec).lexically_relative(base);
  if (const Row* row = manifest.Find(relative.generic_string())) return row;
  return manifest.Find(fs::path(path).filename().string());
}

struct Prepared {
  std::optional<index::ItemId> duplicate_of;  ///< the file is already stored
  std::optional<index::ItemRecord> item;
  std::optional<ingest::Scan> scan;  ///< its surface: upright (the intake's)
  ingest::ScanQuality quality;
  std::string error;
};

Prepared Prepare(const std::string& path, const ingest::Manifest* manifest, const IngestRequest& req,
                 const ingest::ReadOptions& options, index::Database* db) {
  Prepared p;
  try {
    // A file already stored is recognised by its SHA-256 before any parsing.
    const std::string bytes = ingest::ReadFileBounded(path, options.limits.max_file_bytes);
    const std::string sha = ingest::Sha256Hex(bytes);
    if (db && (p.duplicate_of = db->FindBySha256(sha))) {
      p.item.emplace();
      p.item->sha256 = sha;
      return p;
    }
    const Row* row = manifest ? ManifestRow(*manifest, req.manifest, path) : nullptr;
    if (manifest && !row) Fail("not listed in the manifest " + req.manifest);
    index::ItemRecord item = Describe(path, row, req.flags);
    const ingest::RowOverrides own = ingest::ApplyRowOverrides(row, options, req.read.StatedOrientation());
    p.scan = ingest::ReadScanBytes(path, bytes, sha, own.read);
    ingest::IntakeOptions intake;
    intake.kind = item.kind;
    intake.orientation = own.orientation;
    intake.orientation_source = own.orientation_source;
    ingest::Intake in = ingest::TakeIn(p.scan->surface, intake);
    p.scan->surface = std::move(in.surface);
    p.quality = std::move(in.quality);
    item.quality = ingest::QualityJson(p.quality).dump();
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

nlohmann::json QualityOrientation(const ingest::ScanQuality& q) {
  return {{"stored_as", q.orientation}, {"settled", q.orientation_settled}, {"source", q.orientation_source}};
}

/// " (turned upright from transposed; not settled)" for a land not stored upright.
std::string OrientationRemark(const ingest::ScanQuality& q) {
  if (q.orientation.empty() || q.orientation == "upright") return "";
  return " (turned upright from " + q.orientation + (q.orientation_settled ? ")" : "; not settled)");
}

struct Reporter {
  bool json;
  IngestSummary summary;
  nlohmann::json accepted = nlohmann::json::array(), duplicates = nlohmann::json::array(),
                 rejected = nlohmann::json::array();

  void Rejected(const std::string& file, const std::string& error) {
    ++summary.rejected;
    PrintError(error);
    rejected.push_back({{"file", file}, {"reason", error}});
  }
  void Stored(const std::string& file, const index::ItemRecord& item, const index::AddResult& r,
              const ingest::ScanQuality* quality = nullptr) {
    if (r.duplicate) {
      ++summary.duplicates;
      duplicates.push_back({{"file", file}, {"sha256", item.sha256}, {"existing_id", r.id}});
      if (!json)
        std::printf("duplicate %s: same file as item %lld\n", file.c_str(), static_cast<long long>(r.id));
    } else {
      ++summary.accepted;
      nlohmann::json a = {{"id", r.id}, {"file", file}, {"sha256", item.sha256}};
      if (quality) {
        a["quality"] = quality->Grade();
        a["warnings"] = quality->Warnings();
        if (!quality->orientation.empty()) a["orientation"] = QualityOrientation(*quality);
      }
      accepted.push_back(a);
      if (!json) {
        std::printf("accepted %lld %s%s\n", static_cast<long long>(r.id), file.c_str(),
                    quality ? OrientationRemark(*quality).c_str() : "");
        if (quality)
          for (const auto& f : quality->findings)
            if (f.severity == ingest::Severity::kWarning)
              std::printf("  warning: %s: %s\n", f.code.c_str(), f.message.c_str());
      }
    }
    std::fflush(stdout);  // an "accepted" line is printed only after the commit
  }
};

/// Stores a prepared file; the database is created with the first item, so a
/// run that accepts nothing leaves no trace.
void Store(const std::string& folder, std::unique_ptr<index::Database>& db, const std::string& path,
           Prepared& p, Reporter& rep) {
  if (!p.error.empty()) return rep.Rejected(path, p.error);
  if (p.duplicate_of) return rep.Stored(path, *p.item, {*p.duplicate_of, true});
  if (!db) db = index::Database::Open(folder, true);
  try {
    rep.Stored(path, *p.item, db->Add(*p.item, p.scan->surface), &p.quality);
  } catch (const Error& e) {
    rep.Rejected(path, path + ": " + e.what());
  }
}

}  // namespace

IngestSummary RunIngestJob(const IngestRequest& req) {
  std::optional<ingest::Manifest> manifest;
  if (!req.manifest.empty()) manifest = ingest::ReadManifest(req.manifest);
  const std::vector<std::string> files = CollectFiles(req, manifest ? &*manifest : nullptr);
  if (files.empty()) Fail("nothing to ingest: no scan files given");
  const ingest::ReadOptions options = req.read.Options();
  std::unique_ptr<index::Database> db;
  if (index::Database::Exists(req.db)) db = index::Database::Open(req.db, false);
  std::optional<tbb::global_control> limit;
  if (req.threads > 0) limit.emplace(tbb::global_control::max_allowed_parallelism, req.threads);
  Reporter rep{req.json, {}};
  Progress progress(files.size(), "ingest");
  // Small batches bound memory and let acknowledgements follow the work closely.
  const std::size_t kBatch =
      2 * static_cast<std::size_t>(
              std::max(1, req.threads > 0 ? req.threads : tbb::this_task_arena::max_concurrency()));
  for (std::size_t start = 0; start < files.size(); start += kBatch) {
    const std::size_t end = std::min(files.size(), start + kBatch);
    std::vector<Prepared> batch(end - start);
    {
      QuietStderr quiet;
      tbb::parallel_for(start, end, [&](std::size_t i) {
        batch[i - start] = Prepare(files[i], manifest ? &*manifest : nullptr, req, options, db.get());
      });
    }
    for (std::size_t i = start; i < end; ++i) {
      Store(req.db, db, files[i], batch[i - start], rep);
      progress.Tick(fs::path(files[i]).filename().string());
    }
  }
  if (req.json) {
    std::cout << nlohmann::json{{"db", req.db},
                                {"accepted", rep.accepted},
                                {"duplicates", rep.duplicates},
                                {"rejected", rep.rejected}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("%s: %d accepted, %d duplicate, %d rejected\n", req.db.c_str(), rep.summary.accepted,
                rep.summary.duplicates, rep.summary.rejected);
  }
  return rep.summary;
}

void AddItemFlags(CLI::App* cmd, ItemFlags* f) {
  cmd->add_option("--case", f->case_id, "Case identifier");
  cmd->add_option("--item", f->item_label, "Item label (default: the file name without extension)");
  cmd->add_option("--jurisdiction", f->jurisdiction, "Owning jurisdiction (default: local)");
  cmd->add_option("--kind", f->kind, "cartridge_case or bullet")
      ->check(CLI::IsMember({"cartridge_case", "bullet"}));
  cmd->add_option("--role", f->role, "questioned (default) or reference (a test fire)")
      ->check(CLI::IsMember({"questioned", "reference"}));
  cmd->add_option("--mark", f->marks, "Marks on the scan: breech_face, firing_pin, land1, … (repeatable)");
  cmd->add_option("--caliber", f->caliber, "Class characteristic: caliber");
  cmd->add_option("--firing-pin-shape", f->firing_pin_shape, "Class characteristic: firing-pin shape");
  cmd->add_option("--lands", f->lands, "Class characteristic: number of lands")->check(CLI::Range(0, 64));
  cmd->add_option("--twist", f->twist, "Class characteristic: twist (left, right)")
      ->check(CLI::IsMember({"left", "right"}));
  cmd->add_option("--make", f->make, "Firearm make, where known");
  cmd->add_option("--model", f->model, "Firearm model, where known");
  cmd->add_option("--serial", f->serial, "Firearm serial number, where known");
}

void RegisterIngest(CLI::App& app, Action* action) {
  auto req = std::make_shared<IngestRequest>();
  CLI::App* cmd = app.add_subcommand("ingest", "Add scans with their metadata to the database");
  cmd->add_option("paths", req->paths, "Scan files or folders of scans");
  cmd->add_option("--manifest", req->manifest,
                  "CSV with a 'file' column and metadata columns (a dataset's truth.csv works); "
                  "its values win over flags")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", req->json, "Print the result as JSON");
  cmd->add_flag("--recursive,-r", req->recursive,
                "Also take scan files from sub-folders of the folders given");
  cmd->add_option("--threads", req->threads, "Reader threads (default: all cores)")
      ->check(CLI::Range(1, 256));
  AddDbFlag(cmd, &req->db);
  AddItemFlags(cmd, &req->flags);
  req->read.Add(cmd);
  cmd->callback([req, action] {
    *action = [req] {
      const IngestSummary s = RunIngestJob(*req);
      return s.rejected ? 1 : 0;
    };
  });
}

}  // namespace toolmark::cli
