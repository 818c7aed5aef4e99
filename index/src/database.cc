// The Database: items and their arrays, features, settings, verification; Database::Open.
#include "toolmark/index/database.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "array_store.h"
#include "catalog.h"
#include "catalog_location.h"
#include "database_impl.h"
#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/half_float.h"
#include "toolmark/engine/version.h"

namespace toolmark::index {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMarkerName = "TOOLMARK_DATABASE";

/// Creates the folder atomically: built under a temporary name, then renamed
/// into place, so a crash never leaves a half-made database behind.
void CreateFolder(const fs::path& folder, const std::string& catalog_file) {
  const fs::path parent = folder.parent_path().empty() ? fs::path(".") : folder.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  const fs::path tmp = parent / (folder.filename().string() + ".creating-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp / "arrays", ec);
  if (ec) Fail("cannot create database folder " + folder.string() + ": " + ec.message());
  base::WriteFileAtomic((tmp / kMarkerName).string(), "toolmark database, layout 1\n");
  if (!catalog_file.empty()) base::WriteFileAtomic((tmp / detail::kCatalogFile).string(), catalog_file);
  base::SyncDirectory(tmp.string());
  if (std::rename(tmp.c_str(), folder.c_str()) != 0) {  // replaces an empty folder
    const std::string why = std::generic_category().message(errno);
    fs::remove_all(tmp, ec);
    if (fs::exists(folder / kMarkerName, ec)) return;  // another process created it first
    Fail("cannot create database folder " + folder.string() + ": " + why);
  }
  base::SyncDirectory(parent.string());
}

}  // namespace

namespace detail {

bool IsToken(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

ItemRecord Completed(ItemRecord item, const Surface& s) {
  item.surface_kind = SurfaceKindName(s.kind);
  item.spacing_x_um = s.spacing_x_um;
  item.spacing_y_um = s.spacing_y_um;
  item.size_x = s.SizeX();
  item.size_y = s.SizeY();
  item.valid_fraction = s.ValidFraction();
  item.values_sha256 = ValuesSha256(s);
  if (item.toolmark_version.empty()) item.toolmark_version = Version();
  return item;
}

AddResult DatabaseImpl::Add(const ItemRecord& input, const Surface& surface) {
  ValidateItem(input);
  Check(!surface.values.empty() && surface.values.type() == CV_64FC1, "surface is empty or not float64");
  const ItemRecord item = Completed(input, surface);
  const std::string rel = ArrayPathFor(item.sha256);
  const fs::path abs = fs::path(folder_) / rel;
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();  // serialises writers across processes too
  try {
    if (auto existing = catalog_.FindBySha256(item.sha256)) {
      catalog_.Rollback();
      return {*existing, true};
    }
    std::error_code ec;
    if (fs::create_directories(abs.parent_path(), ec))
      base::SyncDirectory((fs::path(folder_) / "arrays").string());
    if (ec) Fail("cannot create " + abs.parent_path().string() + ": " + ec.message());
    WriteSurfaceFile(abs.string(), surface, item.values_sha256);
    const ItemId id = catalog_.InsertItem(item, rel);
    catalog_.Audit("ingest", id, item.file + " sha256=" + item.sha256);
    catalog_.Commit();
    return {id, false};
  } catch (...) {
    catalog_.Rollback();
    std::error_code ec;
    fs::remove(abs, ec);
    throw;
  }
}

void CheckFeature(const FeatureRecord& f) {
  const std::string who =
      "item " + std::to_string(f.item) + " " + MarkName(f.mark) + " (" + f.comparator + "): ";
  Check(!f.vector.empty(), who + "empty feature vector");
  for (float v : f.vector) Check(std::isfinite(v), who + "non-finite feature value");
  Check(IsValidMark(f.mark) && IsToken(f.comparator) && !f.version.empty(),
        who + "bad mark, comparator or version");
}

void DatabaseImpl::InsertFeature(const FeatureRecord& f) {
  Statement known(catalog_, "SELECT 1 FROM items WHERE id = ?");
  known.Bind(1, static_cast<std::int64_t>(f.item));
  Check(known.Step(), "item " + std::to_string(f.item) + ": no such item");
  // Two bytes a value when every value is a half (embeddings are made so), else float32.
  std::optional<std::string> halves = PackedIfHalves(f.vector);
  const std::string blob =
      halves ? std::move(*halves)
             : std::string(reinterpret_cast<const char*>(f.vector.data()), f.vector.size() * sizeof(float));
  Statement put(catalog_,
                "INSERT INTO features (item_id, mark, comparator, version, dims, vector, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id, mark, comparator, version) DO UPDATE SET "
                "dims = excluded.dims, vector = excluded.vector, sha256 = excluded.sha256");
  put.Bind(1, static_cast<std::int64_t>(f.item))
      .Bind(2, MarkName(f.mark))
      .Bind(3, f.comparator)
      .Bind(4, f.version)
      .Bind(5, static_cast<std::int64_t>(f.vector.size()))
      .BindBlob(6, blob.data(), blob.size())
      .Bind(7, base::Sha256Hex(blob));
  put.Step();
}

void DatabaseImpl::PutFeatures(const std::vector<FeatureRecord>& features) {
  for (const FeatureRecord& f : features) CheckFeature(f);
  std::lock_guard<std::mutex> lock(mutex_);
  // Upserts of rows that are never deleted (their items neither): safe beside
  // other writers, so a cluster's extraction tasks do not queue on one lock.
  catalog_.BeginConcurrentWrite();
  try {
    for (const FeatureRecord& f : features) InsertFeature(f);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

namespace {

/// A features row (item_id, mark, dims, vector, sha256), checked.
FeatureRecord ReadFeatureRow(Statement& q, const std::string& comparator, const std::string& version) {
  FeatureRecord f;
  f.item = q.Int(0);
  f.mark = StoredMark(f.item, q.Text(1));
  f.comparator = comparator;
  f.version = version;
  const std::int64_t dims = q.Int(2);
  const std::string blob = q.Blob(3);
  const std::string who =
      "item " + std::to_string(f.item) + " " + MarkName(f.mark) + " (" + comparator + "): ";
  const std::size_t n = dims > 0 ? static_cast<std::size_t>(dims) : 0;
  const bool halves = n > 0 && blob.size() == n * 2;  // else float32
  Check(halves || (n > 0 && blob.size() == n * sizeof(float)),
        who + "stored feature vector has the wrong size");
  Check(base::Sha256Hex(blob) == q.Text(4), who + "stored feature vector does not match its checksum");
  if (halves) {
    f.vector = UnpackHalves(blob);
  } else {
    f.vector.resize(n);
    std::memcpy(f.vector.data(), blob.data(), blob.size());
  }
  return f;
}

}  // namespace

std::vector<FeatureRecord> DatabaseImpl::Features(const std::string& comparator, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_,
              "SELECT item_id, mark, dims, vector, sha256 FROM features WHERE comparator = ? AND version = ? "
              "ORDER BY item_id, mark");
  q.Bind(1, comparator).Bind(2, version);
  std::vector<FeatureRecord> out;
  while (q.Step()) out.push_back(ReadFeatureRow(q, comparator, version));
  return out;
}

std::optional<FeatureRecord> DatabaseImpl::Feature(ItemId item, const Mark& mark,
                                                   const std::string& comparator,
                                                   const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_,
              "SELECT item_id, mark, dims, vector, sha256 FROM features WHERE item_id = ? AND mark = ? AND "
              "comparator = ? AND version = ?");
  q.Bind(1, static_cast<std::int64_t>(item)).Bind(2, MarkName(mark)).Bind(3, comparator).Bind(4, version);
  if (!q.Step()) return std::nullopt;
  return ReadFeatureRow(q, comparator, version);
}

std::vector<ItemId> DatabaseImpl::FeatureItems(const std::string& comparator, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_,
              "SELECT DISTINCT item_id FROM features WHERE comparator = ? AND version = ? ORDER BY item_id");
  q.Bind(1, comparator).Bind(2, version);
  std::vector<ItemId> out;
  while (q.Step()) out.push_back(q.Int(0));
  return out;
}

std::string DatabaseImpl::Setting(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_, "SELECT value FROM settings WHERE key = ?");
  q.Bind(1, key);
  return q.Step() ? q.Text(0) : std::string();
}

void DatabaseImpl::SetSetting(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_,
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                "excluded.value");
    q.Bind(1, key).Bind(2, value).Step();
    catalog_.Audit("setting", kInvalidItemId, key + " = " + value);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}
Surface DatabaseImpl::LoadSurface(ItemId id) {
  std::string path, sha;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto a = catalog_.ArrayOf(id)) {
      found = true;
      path = a->path;
      sha = a->values_sha256;
    }
  }
  if (!found) Fail("item " + std::to_string(id) + ": no such item");
  if (path.empty())
    Fail("item " + std::to_string(id) + ": shared at features level, without its scan (no surface to load)");
  Surface s = ReadSurfaceFile((fs::path(folder_) / path).string());
  if (ValuesSha256(s) != sha)
    Fail("item " + std::to_string(id) + ": stored array does not match the catalog");
  return s;
}

void DatabaseImpl::FindLeftovers(VerifyReport* report, bool repair) {
  std::set<std::string> referenced;
  for (const auto& a : catalog_.Arrays())
    referenced.insert((fs::path(folder_) / a.path).lexically_normal().string());
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(fs::path(folder_) / "arrays", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string p = it->path().lexically_normal().string();
    if (referenced.count(p)) continue;
    report->leftovers.push_back(p);
    if (repair) fs::remove(it->path(), ec);
  }
}

VerifyReport DatabaseImpl::Verify(bool repair) {
  std::lock_guard<std::mutex> lock(mutex_);
  VerifyReport report;
  const std::string integrity = catalog_.IntegrityProblems();
  if (!integrity.empty()) report.problems.push_back("catalog integrity check: " + integrity);
  for (const auto& a : catalog_.Arrays()) {
    ++report.items;
    if (a.path.empty()) continue;  // an item shared at features level: no array
    try {
      Surface s = ReadSurfaceFile((fs::path(folder_) / a.path).string());
      if (ValuesSha256(s) != a.values_sha256) {
        report.problems.push_back("item " + std::to_string(a.id) +
                                  ": array does not match the catalog checksum");
      }
    } catch (const Error& e) {
      report.problems.push_back("item " + std::to_string(a.id) + ": " + e.what());
    }
  }
  if (repair) catalog_.BeginWrite();  // no writer may be between array write and commit
  FindLeftovers(&report, repair);
  if (repair) catalog_.Commit();
  return report;
}

}  // namespace detail

bool IsRole(const std::string& s) {
  return std::any_of(std::begin(kRoles), std::end(kRoles), [&](const char* r) { return s == r; });
}

bool IsConclusion(const std::string& s) {
  return std::any_of(std::begin(kConclusions), std::end(kConclusions), [&](const char* c) { return s == c; });
}

void ValidateItem(const ItemRecord& item) {
  const std::string who = item.file.empty() ? std::string("item") : item.file;
  auto need = [&](bool ok, const std::string& why) {
    if (!ok) Fail(who + ": " + why);
  };
  need(item.role == "questioned" || item.role == "reference",
       "role '" + item.role + "' must be questioned or reference");
  need(!item.case_id.empty(), "case id is empty");
  need(!item.item_label.empty(), "item label is empty");
  need(!item.jurisdiction.empty(), "jurisdiction is empty");
  need(!item.marks.empty(), "no marks given");
  for (const Mark& m : item.marks) need(IsValidMark(m), "mark " + MarkName(m) + " is not a valid mark");
  need(item.sha256.size() == 64 && item.sha256.find_first_not_of("0123456789abcdef") == std::string::npos,
       "sha256 is not 64 lowercase hex digits");
  need(item.class_marks.lands >= 0 && item.class_marks.lands <= 64, "number of lands must be 0..64");
  need(
      item.class_marks.twist.empty() || item.class_marks.twist == "left" || item.class_marks.twist == "right",
      "twist must be left or right");
}

namespace detail {

std::unique_ptr<SqlConnection> OpenCatalogOf(const fs::path& folder) {
  if (const std::optional<CatalogLocation> at = ReadCatalogFile(folder))
    return OpenPostgres(at->conninfo, at->schema);
  return OpenSqlite((folder / kCatalogName).string());
}

}  // namespace detail

std::unique_ptr<Database> Database::Open(const std::string& folder, bool create) {
  const char* env = std::getenv("TOOLMARK_CATALOG");
  return OpenOrCreate(folder, create, env ? env : "");
}

std::unique_ptr<Database> Database::Create(const std::string& folder, const std::string& catalog) {
  Check(!Exists(folder), folder + ": a Toolmark database is here already");
  return OpenOrCreate(folder, true, catalog);
}

std::unique_ptr<Database> Database::OpenOrCreate(const std::string& folder, bool create,
                                                 const std::string& catalog) {
  const fs::path dir(folder);
  std::error_code ec;
  if (!fs::exists(dir / kMarkerName, ec)) {
    if (!create) Fail(folder + ": no Toolmark database here (toolmark ingest creates one)");
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
      Fail(folder + ": folder exists and is not a Toolmark database; refusing to write into it");
    }
    const std::string catalog_file = detail::NewCatalogFile(catalog);
    if (!catalog_file.empty()) {  // the server reached and the tables made before the folder appears
      const detail::CatalogLocation at = detail::ParseCatalogFile(catalog_file, "--catalog");
      try {
        Catalog made(OpenPostgres(at.conninfo, at.schema));
      } catch (const Error& e) {
        throw Error(folder + ": " + e.what());
      }
    }
    CreateFolder(dir, catalog_file);
  }
  try {
    return std::make_unique<detail::DatabaseImpl>(dir);
  } catch (const Error& e) {
    throw Error(folder + ": " + e.what());
  }
}

bool Database::Exists(const std::string& folder) {
  std::error_code ec;
  return fs::exists(fs::path(folder) / kMarkerName, ec);
}

std::string DefaultDatabaseFolder() {
  const char* env = std::getenv("TOOLMARK_DB");
  return env && *env ? env : "./toolmark-db";
}

}  // namespace toolmark::index
