#include "toolmark/index/database.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>

#include "array_store.h"
#include "catalog.h"
#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"

namespace toolmark::index {
namespace fs = std::filesystem;
namespace {

constexpr const char* kMarkerName = "TOOLMARK_DATABASE";
constexpr const char* kCatalogName = "catalog.sqlite";

bool IsToken(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

/// Creates the folder atomically: built under a temporary name, then renamed
/// into place, so a crash never leaves a half-made database behind.
void CreateFolder(const fs::path& folder) {
  const fs::path parent = folder.parent_path().empty() ? fs::path(".") : folder.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  const fs::path tmp = parent / (folder.filename().string() + ".creating-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp / "arrays", ec);
  if (ec) Fail("cannot create database folder " + folder.string() + ": " + ec.message());
  base::WriteFileAtomic((tmp / kMarkerName).string(), "toolmark database, layout 1\n");
  base::SyncDirectory(tmp.string());
  if (std::rename(tmp.c_str(), folder.c_str()) != 0) {  // replaces an empty folder
    const std::string why = std::generic_category().message(errno);
    fs::remove_all(tmp, ec);
    if (fs::exists(folder / kMarkerName, ec)) return;  // another process created it first
    Fail("cannot create database folder " + folder.string() + ": " + why);
  }
  base::SyncDirectory(parent.string());
}

class DatabaseImpl final : public Database {
 public:
  explicit DatabaseImpl(const fs::path& folder)
      : folder_(folder.string()), catalog_((folder / kCatalogName).string()) {}

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

 private:
  void PutFeatures(const std::vector<FeatureRecord>& features) override;
  bool RecordHits(ItemId query, const std::string& comparator, const std::string& version,
                  const std::vector<HitRecord>& hits) override;
  std::vector<ItemId> CorrelatedItems(const std::string& comparator, const std::string& version) override;
  std::vector<HitRecord> Hits(std::optional<ItemId> query) override;
  std::optional<HitRecord> Hit(std::int64_t id) override;
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
  void Share(const std::vector<ItemId>& items, const std::string& jurisdiction) override;
  std::map<ItemId, std::vector<std::string>> Shares() override;
  std::map<ItemId, ItemOrigin> Origins() override;
  bool PackageImported(const std::string& package_id) override;
  std::vector<ItemId> ImportPackage(const PackageRecord& package,
                                    const std::vector<ImportedItem>& items) override;
  void Audit(const std::string& action, std::optional<ItemId> item, const std::string& detail) override;
  std::vector<FeatureRecord> Features(const std::string& comparator, const std::string& version) override;
  std::optional<FeatureRecord> Feature(ItemId item, const std::string& mark, const std::string& comparator,
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
  const std::string who = "item " + std::to_string(f.item) + " " + f.mark + " (" + f.comparator + "): ";
  Check(!f.vector.empty(), who + "empty feature vector");
  for (float v : f.vector) Check(std::isfinite(v), who + "non-finite feature value");
  Check(IsToken(f.mark) && IsToken(f.comparator) && !f.version.empty(),
        who + "bad mark, comparator or version");
}

void DatabaseImpl::InsertFeature(const FeatureRecord& f) {
  Statement known(catalog_.handle(), "SELECT 1 FROM items WHERE id = ?");
  known.Bind(1, static_cast<std::int64_t>(f.item));
  Check(known.Step(), "item " + std::to_string(f.item) + ": no such item");
  const std::size_t bytes = f.vector.size() * sizeof(float);
  const std::string blob(reinterpret_cast<const char*>(f.vector.data()), bytes);
  Statement put(catalog_.handle(),
                "INSERT OR REPLACE INTO features (item_id, mark, comparator, version, dims, vector, sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)");
  put.Bind(1, static_cast<std::int64_t>(f.item))
      .Bind(2, f.mark)
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
  catalog_.BeginWrite();
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
  f.mark = q.Text(1);
  f.comparator = comparator;
  f.version = version;
  const std::int64_t dims = q.Int(2);
  const std::string blob = q.Blob(3);
  const std::string who = "item " + std::to_string(f.item) + " " + f.mark + " (" + comparator + "): ";
  Check(dims > 0 && blob.size() == static_cast<std::size_t>(dims) * sizeof(float),
        who + "stored feature vector has the wrong size");
  Check(base::Sha256Hex(blob) == q.Text(4), who + "stored feature vector does not match its checksum");
  f.vector.resize(static_cast<std::size_t>(dims));
  std::memcpy(f.vector.data(), blob.data(), blob.size());
  return f;
}

}  // namespace

std::vector<FeatureRecord> DatabaseImpl::Features(const std::string& comparator, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT item_id, mark, dims, vector, sha256 FROM features WHERE comparator = ? AND version = ? "
              "ORDER BY item_id, mark");
  q.Bind(1, comparator).Bind(2, version);
  std::vector<FeatureRecord> out;
  while (q.Step()) out.push_back(ReadFeatureRow(q, comparator, version));
  return out;
}

std::optional<FeatureRecord> DatabaseImpl::Feature(ItemId item, const std::string& mark,
                                                   const std::string& comparator,
                                                   const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT item_id, mark, dims, vector, sha256 FROM features WHERE item_id = ? AND mark = ? AND "
              "comparator = ? AND version = ?");
  q.Bind(1, static_cast<std::int64_t>(item)).Bind(2, mark).Bind(3, comparator).Bind(4, version);
  if (!q.Step()) return std::nullopt;
  return ReadFeatureRow(q, comparator, version);
}

std::vector<ItemId> DatabaseImpl::FeatureItems(const std::string& comparator, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT DISTINCT item_id FROM features WHERE comparator = ? AND version = ? ORDER BY item_id");
  q.Bind(1, comparator).Bind(2, version);
  std::vector<ItemId> out;
  while (q.Step()) out.push_back(q.Int(0));
  return out;
}

bool DatabaseImpl::RecordHits(ItemId query, const std::string& comparator, const std::string& version,
                              const std::vector<HitRecord>& hits) {
  Check(IsToken(comparator) && !version.empty(), "hits: bad comparator or version");
  for (const HitRecord& h : hits)
    Check(h.rank >= 1 && std::isfinite(h.score) && (!h.log10_lr || std::isfinite(*h.log10_lr)) &&
              std::isfinite(h.rotation_deg) && std::isfinite(h.shift_x_um) && std::isfinite(h.shift_y_um),
          "hits of item " + std::to_string(query) + ": bad rank, score or registration");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement done(catalog_.handle(),
                   "SELECT 1 FROM correlations WHERE item_id = ? AND comparator = ? AND version = ?");
    done.Bind(1, static_cast<std::int64_t>(query)).Bind(2, comparator).Bind(3, version);
    if (done.Step()) {
      catalog_.Rollback();
      return false;
    }
    const std::string now = NowUtc();
    for (const HitRecord& h : hits) {
      Statement put(
          catalog_.handle(),
          "INSERT INTO hits (query_item, candidate_item, comparator, version, rank, score, log10_lr, "
          "calibration, similarity, rotation_deg, shift_x_um, shift_y_um, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      put.Bind(1, static_cast<std::int64_t>(query))
          .Bind(2, static_cast<std::int64_t>(h.candidate))
          .Bind(3, comparator)
          .Bind(4, version)
          .Bind(5, static_cast<std::int64_t>(h.rank))
          .Bind(6, h.score);
      if (h.log10_lr)
        put.Bind(7, *h.log10_lr);
      else
        put.BindNull(7);
      put.Bind(8, h.calibration)
          .Bind(9, static_cast<double>(h.similarity))
          .Bind(10, h.rotation_deg)
          .Bind(11, h.shift_x_um)
          .Bind(12, h.shift_y_um)
          .Bind(13, now);
      put.Step();
    }
    Statement mark(
        catalog_.handle(),
        "INSERT INTO correlations (item_id, comparator, version, hits, done_at) VALUES (?, ?, ?, ?, ?)");
    mark.Bind(1, static_cast<std::int64_t>(query))
        .Bind(2, comparator)
        .Bind(3, version)
        .Bind(4, static_cast<std::int64_t>(hits.size()))
        .Bind(5, now);
    mark.Step();
    catalog_.Audit("correlate", query,
                   comparator + " " + version + ": " + std::to_string(hits.size()) + " hits");
    catalog_.Commit();
    return true;
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::vector<ItemId> DatabaseImpl::CorrelatedItems(const std::string& comparator, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT item_id FROM correlations WHERE comparator = ? AND version = ? ORDER BY item_id");
  q.Bind(1, comparator).Bind(2, version);
  std::vector<ItemId> out;
  while (q.Step()) out.push_back(q.Int(0));
  return out;
}

constexpr const char* kHitColumns =
    "SELECT id, query_item, candidate_item, comparator, version, rank, score, log10_lr, calibration, "
    "similarity, rotation_deg, shift_x_um, shift_y_um, created_at FROM hits ";

HitRecord HitFromRow(const Statement& q) {
  HitRecord h;
  h.id = q.Int(0);
  h.query = q.Int(1);
  h.candidate = q.Int(2);
  h.comparator = q.Text(3);
  h.version = q.Text(4);
  h.rank = static_cast<int>(q.Int(5));
  h.score = q.Real(6);
  if (!q.IsNull(7)) h.log10_lr = q.Real(7);
  h.calibration = q.Text(8);
  h.similarity = static_cast<float>(q.Real(9));
  h.rotation_deg = q.Real(10);
  h.shift_x_um = q.Real(11);
  h.shift_y_um = q.Real(12);
  h.created_at = q.Text(13);
  return h;
}

std::vector<HitRecord> DatabaseImpl::Hits(std::optional<ItemId> query) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string sql = std::string(kHitColumns) + (query ? "WHERE query_item = ? " : "") +
                          "ORDER BY query_item, comparator, rank";
  Statement q(catalog_.handle(), sql.c_str());
  if (query) q.Bind(1, static_cast<std::int64_t>(*query));
  std::vector<HitRecord> out;
  while (q.Step()) out.push_back(HitFromRow(q));
  return out;
}

std::optional<HitRecord> DatabaseImpl::Hit(std::int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string sql = std::string(kHitColumns) + "WHERE id = ?";
  Statement q(catalog_.handle(), sql.c_str());
  q.Bind(1, id);
  if (!q.Step()) return std::nullopt;
  return HitFromRow(q);
}

constexpr std::size_t kMaxExaminer = 200, kMaxNote = 10000;

DecisionRecord DatabaseImpl::RecordDecision(std::int64_t hit, const std::string& decision,
                                            const std::string& examiner, const std::string& note) {
  Check(IsConclusion(decision),
        "decision '" + decision + "' must be identification, inconclusive or elimination");
  Check(examiner.find_first_not_of(" \t") != std::string::npos, "examiner is empty");
  Check(examiner.size() <= kMaxExaminer, "examiner name is longer than 200 bytes");
  Check(note.size() <= kMaxNote, "note is longer than 10,000 bytes");
  Check(examiner.find_first_of("\n\r") == std::string::npos, "examiner name has a line break");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();  // serialises writers across threads and processes
  try {
    const std::string sql = std::string(kHitColumns) + "WHERE id = ?";
    Statement q(catalog_.handle(), sql.c_str());
    q.Bind(1, hit);
    if (!q.Step()) Fail("hit " + std::to_string(hit) + ": no such hit");
    const HitRecord h = HitFromRow(q);
    DecisionRecord d;
    d.hit = hit;
    d.decision = decision;
    d.examiner = examiner;
    d.note = note;
    d.at = NowUtcMillis();
    d.toolmark_version = Version();
    d.comparator = h.comparator;
    d.version = h.version;
    d.score = h.score;
    d.log10_lr = h.log10_lr;
    d.calibration = h.calibration;
    Statement last(catalog_.handle(), "SELECT max(id) FROM decisions WHERE hit_id = ?");
    last.Bind(1, hit);
    if (last.Step() && !last.IsNull(0)) d.supersedes = last.Int(0);
    Statement put(
        catalog_.handle(),
        "INSERT INTO decisions (hit_id, decision, examiner, note, at, toolmark_version, comparator, "
        "version, score, log10_lr, calibration, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    put.Bind(1, hit)
        .Bind(2, d.decision)
        .Bind(3, d.examiner)
        .Bind(4, d.note)
        .Bind(5, d.at)
        .Bind(6, d.toolmark_version)
        .Bind(7, d.comparator)
        .Bind(8, d.version)
        .Bind(9, d.score);
    if (d.log10_lr)
      put.Bind(10, *d.log10_lr);
    else
      put.BindNull(10);
    put.Bind(11, d.calibration);
    if (d.supersedes)
      put.Bind(12, *d.supersedes);
    else
      put.BindNull(12);
    put.Step();
    d.id = sqlite3_last_insert_rowid(catalog_.handle());
    catalog_.Audit(
        "review", h.query,
        "hit " + std::to_string(hit) + " (item " + std::to_string(h.candidate) + "): " + decision + " by " +
            examiner +
            (d.supersedes ? ", supersedes decision " + std::to_string(*d.supersedes) : std::string()));
    catalog_.Commit();
    return d;
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::vector<DecisionRecord> DatabaseImpl::Decisions(std::optional<std::int64_t> hit) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string sql =
      std::string(
          "SELECT id, hit_id, decision, examiner, note, at, toolmark_version, comparator, version, "
          "score, log10_lr, calibration, supersedes FROM decisions ") +
      (hit ? "WHERE hit_id = ? " : "") + "ORDER BY id";
  Statement q(catalog_.handle(), sql.c_str());
  if (hit) q.Bind(1, *hit);
  std::vector<DecisionRecord> out;
  while (q.Step()) {
    DecisionRecord d;
    d.id = q.Int(0);
    d.hit = q.Int(1);
    d.decision = q.Text(2);
    d.examiner = q.Text(3);
    d.note = q.Text(4);
    d.at = q.Text(5);
    d.toolmark_version = q.Text(6);
    d.comparator = q.Text(7);
    d.version = q.Text(8);
    d.score = q.Real(9);
    if (!q.IsNull(10)) d.log10_lr = q.Real(10);
    d.calibration = q.Text(11);
    if (!q.IsNull(12)) d.supersedes = q.Int(12);
    out.push_back(std::move(d));
  }
  return out;
}

std::string DatabaseImpl::Setting(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(), "SELECT value FROM settings WHERE key = ?");
  q.Bind(1, key);
  return q.Step() ? q.Text(0) : std::string();
}

void DatabaseImpl::SetSetting(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_.handle(), "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)");
    q.Bind(1, key).Bind(2, value).Step();
    catalog_.Audit("setting", kInvalidItemId, key + " = " + value);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

namespace {
UserRecord UserFromRow(const Statement& q) {
  UserRecord u;
  u.name = q.Text(0);
  u.jurisdiction = q.Text(1);
  u.role = q.Text(2);
  u.created_at = q.Text(3);
  if (!q.IsNull(4)) u.revoked_at = q.Text(4);
  return u;
}
bool IsName(const std::string& s) {
  return !s.empty() && s.size() <= 100 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
  });
}
}  // namespace

void DatabaseImpl::AddUser(const UserRecord& user, const std::string& token_sha256) {
  Check(IsName(user.name), "user name '" + user.name + "' must be letters, digits, _ - . @ (at most 100)");
  Check(IsName(user.jurisdiction),
        "jurisdiction '" + user.jurisdiction + "' must be letters, digits, _ - . @");
  Check(IsRole(user.role), "role '" + user.role + "' must be technician, examiner, investigator or admin");
  Check(token_sha256.size() == 64, "token hash must be 64 hex digits");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement known(catalog_.handle(), "SELECT 1 FROM users WHERE name = ?");
    known.Bind(1, user.name);
    Check(!known.Step(), "user '" + user.name + "' exists already");
    Statement q(
        catalog_.handle(),
        "INSERT INTO users (name, jurisdiction, role, token_sha256, created_at) VALUES (?, ?, ?, ?, ?)");
    q.Bind(1, user.name)
        .Bind(2, user.jurisdiction)
        .Bind(3, user.role)
        .Bind(4, token_sha256)
        .Bind(5, NowUtc());
    q.Step();
    catalog_.Audit("user", kInvalidItemId,
                   "added " + user.name + " (" + user.role + ", " + user.jurisdiction + ")");
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::optional<UserRecord> DatabaseImpl::UserByTokenHash(const std::string& token_sha256) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT name, jurisdiction, role, created_at, revoked_at FROM users WHERE token_sha256 = ? AND "
              "revoked_at IS NULL");
  q.Bind(1, token_sha256);
  if (!q.Step()) return std::nullopt;
  return UserFromRow(q);
}

std::vector<UserRecord> DatabaseImpl::Users() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT name, jurisdiction, role, created_at, revoked_at FROM users ORDER BY name");
  std::vector<UserRecord> out;
  while (q.Step()) out.push_back(UserFromRow(q));
  return out;
}

void DatabaseImpl::RevokeUser(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_.handle(), "UPDATE users SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL");
    q.Bind(1, NowUtc()).Bind(2, name).Step();
    Check(sqlite3_changes(catalog_.handle()) == 1, "user '" + name + "': no such user (or revoked already)");
    catalog_.Audit("user", kInvalidItemId, "revoked " + name);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

void DatabaseImpl::Trust(const TrustedKey& key) {
  Check(IsName(key.jurisdiction), "jurisdiction '" + key.jurisdiction + "' must be letters, digits, _ - . @");
  Check(key.public_key_hex.size() == 64 &&
            key.public_key_hex.find_first_not_of("0123456789abcdef") == std::string::npos,
        "public key must be 64 lower-case hex digits (Ed25519)");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_.handle(),
                "INSERT OR IGNORE INTO trusted_keys (jurisdiction, public_key, added_at) VALUES (?, ?, ?)");
    q.Bind(1, key.jurisdiction).Bind(2, key.public_key_hex).Bind(3, NowUtc()).Step();
    catalog_.Audit("trust", kInvalidItemId, key.jurisdiction + " " + key.public_key_hex);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

void DatabaseImpl::Untrust(const std::string& jurisdiction, const std::string& public_key_hex) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement q(catalog_.handle(), "DELETE FROM trusted_keys WHERE jurisdiction = ? AND public_key = ?");
    q.Bind(1, jurisdiction).Bind(2, public_key_hex).Step();
    Check(sqlite3_changes(catalog_.handle()) == 1, "key of " + jurisdiction + " is not trusted");
    catalog_.Audit("untrust", kInvalidItemId, jurisdiction + " " + public_key_hex);
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::vector<TrustedKey> DatabaseImpl::TrustedKeys() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(),
              "SELECT jurisdiction, public_key, added_at FROM trusted_keys ORDER BY jurisdiction, added_at");
  std::vector<TrustedKey> out;
  while (q.Step()) out.push_back({q.Text(0), q.Text(1), q.Text(2)});
  return out;
}

void DatabaseImpl::Share(const std::vector<ItemId>& items, const std::string& jurisdiction) {
  Check(IsName(jurisdiction), "jurisdiction '" + jurisdiction + "' must be letters, digits, _ - . @");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    for (ItemId id : items) {
      Statement known(catalog_.handle(), "SELECT 1 FROM items WHERE id = ?");
      known.Bind(1, static_cast<std::int64_t>(id));
      Check(known.Step(), "item " + std::to_string(id) + ": no such item");
      Statement q(catalog_.handle(),
                  "INSERT OR IGNORE INTO shares (item_id, jurisdiction, at) VALUES (?, ?, ?)");
      q.Bind(1, static_cast<std::int64_t>(id)).Bind(2, jurisdiction).Bind(3, NowUtc()).Step();
      catalog_.Audit("share", id, "with " + jurisdiction);
    }
    catalog_.Commit();
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::map<ItemId, std::vector<std::string>> DatabaseImpl::Shares() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(), "SELECT item_id, jurisdiction FROM shares ORDER BY item_id, jurisdiction");
  std::map<ItemId, std::vector<std::string>> out;
  while (q.Step()) out[q.Int(0)].push_back(q.Text(1));
  return out;
}

std::map<ItemId, ItemOrigin> DatabaseImpl::Origins() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(), "SELECT item_id, package_id, level, origin_item FROM imported_items");
  std::map<ItemId, ItemOrigin> out;
  while (q.Step()) out[q.Int(0)] = {q.Text(1), q.Text(2), q.Int(3)};
  return out;
}

bool DatabaseImpl::PackageImported(const std::string& package_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_.handle(), "SELECT 1 FROM imports WHERE package_id = ?");
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
    Statement seen(catalog_.handle(), "SELECT 1 FROM imports WHERE package_id = ?");
    seen.Bind(1, package.id);
    Check(!seen.Step(), "package " + package.id + " was imported already (replayed)");
    const std::string now = NowUtc();
    Statement pkg(
        catalog_.handle(),
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
          catalog_.handle(),
          "INSERT INTO imported_items (item_id, package_id, origin_item, level) VALUES (?, ?, ?, ?)");
      origin.Bind(1, static_cast<std::int64_t>(id))
          .Bind(2, package.id)
          .Bind(3, static_cast<std::int64_t>(items[i].origin_item))
          .Bind(4, package.level)
          .Step();
      Statement share(catalog_.handle(),
                      "INSERT OR IGNORE INTO shares (item_id, jurisdiction, at) VALUES (?, ?, ?)");
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

void DatabaseImpl::Audit(const std::string& action, std::optional<ItemId> item, const std::string& detail) {
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    catalog_.Audit(action, item.value_or(kInvalidItemId), detail);
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
  const std::string integrity = catalog_.IntegrityCheck();
  if (integrity != "ok") report.problems.push_back("catalog integrity check: " + integrity);
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

}  // namespace

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
  for (const auto& m : item.marks)
    need(IsToken(m), "mark '" + m + "' must be lower-case letters, digits or _");
  need(item.sha256.size() == 64 && item.sha256.find_first_not_of("0123456789abcdef") == std::string::npos,
       "sha256 is not 64 lowercase hex digits");
  need(item.class_marks.lands >= 0 && item.class_marks.lands <= 64, "number of lands must be 0..64");
  need(
      item.class_marks.twist.empty() || item.class_marks.twist == "left" || item.class_marks.twist == "right",
      "twist must be left or right");
}

std::unique_ptr<Database> Database::Open(const std::string& folder, bool create) {
  const fs::path dir(folder);
  std::error_code ec;
  if (!fs::exists(dir / kMarkerName, ec)) {
    if (!create) Fail(folder + ": no Toolmark database here (toolmark ingest creates one)");
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
      Fail(folder + ": folder exists and is not a Toolmark database; refusing to write into it");
    }
    CreateFolder(dir);
  }
  try {
    return std::make_unique<DatabaseImpl>(dir);
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
