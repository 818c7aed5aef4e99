// DatabaseImpl, the Database that Database::Open returns; its methods live in database*.cc. Private.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog.h"
#include "toolmark/index/database.h"

namespace toolmark::index::detail {
namespace fs = std::filesystem;

inline constexpr const char* kCatalogName = "catalog.sqlite";

/// The folder's catalog connection: PostgreSQL when its CATALOG file names
/// one (docs/database.md), else SQLite's catalog.sqlite.
std::unique_ptr<SqlConnection> OpenCatalogOf(const fs::path& folder);
/// Lower-case letters, digits or _, at least one (marks, comparator names).
bool IsToken(const std::string& s);
/// Letters, digits, _ - . @, 1 to 100 of them (user and jurisdiction names).
bool IsName(const std::string& s);
/// The item with the fields its surface determines filled in (and this build's version if it has none).
ItemRecord Completed(ItemRecord item, const Surface& s);
/// Checks a feature record before it is stored; throws toolmark::Error.
void CheckFeature(const FeatureRecord& f);

class DatabaseImpl final : public Database {
 public:
  explicit DatabaseImpl(const fs::path& folder) : folder_(folder.string()), catalog_(OpenCatalogOf(folder)) {}

  AddResult Add(const ItemRecord& item, const Surface& surface) override;
  std::optional<ItemRecord> Get(ItemId id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto items = catalog_.Items(id);
    if (items.empty()) return std::nullopt;
    return items.front();
  }
  std::optional<ItemId> FindBySha256(const std::string& sha256) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return catalog_.FindBySha256(sha256);
  }
  std::vector<ItemRecord> List() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return catalog_.Items(std::nullopt);
  }
  Surface LoadSurface(ItemId id) override;
  VerifyReport Verify(bool repair) override;
  const std::string& folder() const override { return folder_; }
  std::string CatalogWhere() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return catalog_.sql().Where();
  }

 private:
  void PutFeatures(const std::vector<FeatureRecord>& features) override;
  bool RecordHits(ItemId query, const std::string& comparator, const std::string& version,
                  const std::vector<HitRecord>& hits) override;
  std::vector<ItemId> CorrelatedItems(const std::string& comparator, const std::string& version) override;
  std::vector<HitRecord> Hits(std::optional<ItemId> query) override;
  std::optional<HitRecord> Hit(std::int64_t id) override;
  std::vector<HitRecord> PairHits(std::int64_t id) override;
  DecisionRecord RecordDecision(std::int64_t hit, const std::string& decision, const std::string& examiner,
                                const std::string& note) override;
  std::vector<DecisionRecord> Decisions(std::optional<std::int64_t> hit) override;
  std::string Setting(const std::string& key) override;
  void SetSetting(const std::string& key, const std::string& value) override;
  void AddUser(const UserRecord& user, const std::string& token_sha256) override;
  std::optional<UserRecord> UserByTokenHash(const std::string& token_sha256) override;
  std::vector<UserRecord> Users() override;
  void RevokeUser(const std::string& name) override;
  void Trust(const TrustedKey& key) override;
  void Untrust(const std::string& jurisdiction, const std::string& public_key_hex) override;
  std::vector<TrustedKey> TrustedKeys() override;
  void SetPartnerEndpoint(const PartnerEndpoint& endpoint) override;
  std::vector<PartnerEndpoint> PartnerEndpoints() override;
  void Share(const std::vector<ItemId>& items, const std::string& jurisdiction) override;
  std::map<ItemId, std::vector<std::string>> Shares() override;
  std::map<ItemId, ItemOrigin> Origins() override;
  bool PackageImported(const std::string& package_id) override;
  std::vector<ItemId> ImportPackage(const PackageRecord& package,
                                    const std::vector<ImportedItem>& items) override;
  void Audit(const std::string& action, std::optional<ItemId> item, const std::string& detail) override;
  std::vector<FeatureRecord> Features(const std::string& comparator, const std::string& version) override;
  std::optional<FeatureRecord> Feature(ItemId item, const Mark& mark, const std::string& comparator,
                                       const std::string& version) override;
  std::vector<ItemId> FeatureItems(const std::string& comparator, const std::string& version) override;
  std::string ArrayPathFor(const std::string& sha256) const {
    return "arrays/" + sha256.substr(0, 2) + "/" + sha256 + ".h5";
  }
  void FindLeftovers(VerifyReport* report, bool repair);
  void InsertFeature(const FeatureRecord& f);  ///< in a write transaction

  std::string folder_;
  std::mutex mutex_;  // one Database object may be shared by threads
  Catalog catalog_;
};

}  // namespace toolmark::index::detail
