// Package import: another jurisdiction's items, features and scans, in one transaction.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "array_store.h"
#include "catalog.h"
#include "database_impl.h"
#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"

namespace toolmark::index::detail {

bool DatabaseImpl::PackageImported(const std::string& package_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_, "SELECT 1 FROM imports WHERE package_id = ?");
  q.Bind(1, package_id);
  return q.Step();
}

std::vector<ItemId> DatabaseImpl::ImportPackage(const PackageRecord& package,
                                                const std::vector<ImportedItem>& items) {
  Check(package.level == "features" || package.level == "scans", "package level must be features or scans");
  Check(IsName(package.from) && IsName(package.to), "package: bad jurisdiction names");
  std::vector<ItemRecord> records;
  for (const ImportedItem& in : items) {
    Check(in.surface.has_value() == (package.level == "scans"), "package: scans exactly at level scans");
    ItemRecord it = in.surface ? Completed(in.item, *in.surface) : in.item;
    if (!in.surface) it.values_sha256.clear();  // features only: no stored array
    if (it.toolmark_version.empty()) it.toolmark_version = Version();
    ValidateItem(it);
    for (FeatureRecord f : in.features) CheckFeature(f);
    records.push_back(std::move(it));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<fs::path> written;
  catalog_.BeginWrite();
  try {
    Statement seen(catalog_, "SELECT 1 FROM imports WHERE package_id = ?");
    seen.Bind(1, package.id);
    Check(!seen.Step(), "package " + package.id + " was imported already (replayed)");
    const std::string now = NowUtc();
    Statement pkg(
        catalog_,
        "INSERT INTO imports (package_id, from_jurisdiction, to_jurisdiction, signer, level, created_at, "
        "imported_at, items) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    pkg.Bind(1, package.id)
        .Bind(2, package.from)
        .Bind(3, package.to)
        .Bind(4, package.signer_hex)
        .Bind(5, package.level)
        .Bind(6, package.created_at)
        .Bind(7, now)
        .Bind(8, static_cast<std::int64_t>(items.size()));
    pkg.Step();
    std::vector<ItemId> ids;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const ItemRecord& it = records[i];
      Check(!catalog_.FindBySha256(it.sha256).has_value(),
            it.file + ": this database holds that file already (sha256 " + it.sha256.substr(0, 12) + "…)");
      std::string rel;
      if (items[i].surface) {
        rel = ArrayPathFor(it.sha256);
        const fs::path abs = fs::path(folder_) / rel;
        std::error_code ec;
        if (fs::create_directories(abs.parent_path(), ec))
          base::SyncDirectory((fs::path(folder_) / "arrays").string());
        WriteSurfaceFile(abs.string(), *items[i].surface, it.values_sha256);
        written.push_back(abs);
      }
      const ItemId id = catalog_.InsertItem(it, rel);
      ids.push_back(id);
      for (FeatureRecord f : items[i].features) {
        f.item = id;
        InsertFeature(f);
      }
      Statement origin(
          catalog_,
          "INSERT INTO imported_items (item_id, package_id, origin_item, level) VALUES (?, ?, ?, ?)");
      origin.Bind(1, static_cast<std::int64_t>(id))
          .Bind(2, package.id)
          .Bind(3, static_cast<std::int64_t>(items[i].origin_item))
          .Bind(4, package.level)
          .Step();
      Statement share(
          catalog_, "INSERT INTO shares (item_id, jurisdiction, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
      share.Bind(1, static_cast<std::int64_t>(id)).Bind(2, package.to).Bind(3, now).Step();
      catalog_.Audit("import", id,
                     "package " + package.id + " from " + package.from + " (" + package.level +
                         "), origin item " + std::to_string(items[i].origin_item));
    }
    catalog_.Commit();
    return ids;
  } catch (...) {
    catalog_.Rollback();
    std::error_code ec;
    for (const fs::path& p : written) fs::remove(p, ec);
    throw;
  }
}

}  // namespace toolmark::index::detail
