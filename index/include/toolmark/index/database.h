// The evidence database: a folder holding a transactional catalog (SQLite,
// WAL) and one HDF5 file of arrays per scan. See docs/database.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/base/time.h"
#include "toolmark/engine/registry.h"
#include "toolmark/engine/surface.h"

namespace toolmark::index {

using ItemId = std::int64_t;
inline constexpr ItemId kInvalidItemId = -1;

/// Class characteristics: shared by every firearm of a make and model; used
/// later to filter searches.
struct ClassCharacteristics {
  std::string caliber;
  std::string firing_pin_shape;
  int lands = 0;      ///< number of lands and grooves; 0 = unknown
  std::string twist;  ///< "left" | "right" | ""
};

/// The firearm an item came from, where known. `truth_label` holds a dataset's
/// ground truth (`firearm` of truth.csv): kept for evaluation only, never read
/// by any score, search, ranking or calibration.
struct FirearmRecord {
  std::string make, model, serial;
  std::string truth_label;
};

/// One ingested scan file and its metadata.
struct ItemRecord {
  ItemId id = kInvalidItemId;
  std::string case_id;
  std::string item_label;  ///< the physical item (a bullet's lands share it)
  std::string jurisdiction;
  Kind kind = Kind::kCartridgeCase;
  std::string role;         ///< "questioned" | "reference"
  std::vector<Mark> marks;  ///< breech_face, firing_pin, land3, … (MarkName)
  ClassCharacteristics class_marks;
  FirearmRecord firearm;
  std::string file;    ///< source file name (no folder)
  std::string sha256;  ///< of the source file
  std::string format;  ///< x3p, png, tiff, jpeg, ply, pcd
  std::string instrument;
  std::string surface_kind;  ///< "height" | "intensity"
  double spacing_x_um = 0, spacing_y_um = 0;
  int size_x = 0, size_y = 0;
  double valid_fraction = 0;
  std::optional<bool> checksum_ok;
  std::string ingested_at;  ///< UTC, ISO 8601
  std::string toolmark_version;
  std::string values_sha256;  ///< SHA-256 of the stored float64 values (integrity)
  /// The intake's verdict on the scan (ingest::QualityJson as JSON text:
  /// orientation found and applied, findings); "" when none was recorded
  /// (items ingested before version 0.3, or imported without one). The
  /// stored surface is the scan brought upright (the orientation undone).
  std::string quality;
};

/// Checks an item's fields (kind, role, marks, …); throws toolmark::Error.
void ValidateItem(const ItemRecord& item);

/// A feature vector of one item's mark, as a comparator's Embed produced it
/// (derived data: the vector index is built from these records).
struct FeatureRecord {
  ItemId item = kInvalidItemId;
  Mark mark;               ///< breech_face, land3, … (MarkName)
  std::string comparator;  ///< the comparator that produced it, e.g. "cmc", "land"
  std::string version;     ///< feature version: a new algorithm version makes new records
  std::vector<float> vector;
};

/// One candidate of a recorded hit list (batch correlation).
struct HitRecord {
  std::int64_t id = 0;  ///< assigned by the database
  ItemId query = kInvalidItemId, candidate = kInvalidItemId;
  std::string comparator, version;  ///< the comparator and feature version that scored it
  int rank = 0;                     ///< 1 = best candidate of the query
  double score = 0;
  std::optional<double> log10_lr;  ///< none until calibrated
  std::string calibration;         ///< the calibration set the LR came from ("" = none)
  float similarity = 0;            ///< embedding similarity (shortlist)
  double rotation_deg = 0, shift_x_um = 0, shift_y_um = 0;  ///< the comparator's registration
  std::string created_at;                                   ///< UTC, ISO 8601
};

/// The AFTE range of conclusions a decision may record.
inline constexpr const char* kConclusions[] = {"identification", "inconclusive", "elimination"};
/// True for "identification", "inconclusive" or "elimination".
bool IsConclusion(const std::string& s);

/// One examiner's decision on a hit: append-only; a later decision on the
/// same hit supersedes it (never overwrites it).
struct DecisionRecord {
  std::int64_t id = 0;   ///< assigned by the database, increasing
  std::int64_t hit = 0;  ///< HitRecord::id
  std::string decision;  ///< a conclusion (kConclusions)
  std::string examiner, note;
  std::string at;                ///< UTC, ISO 8601 with milliseconds
  std::string toolmark_version;  ///< of the program that recorded it
  // What it was made on: the hit as recorded.
  std::string comparator, version;
  double score = 0;
  std::optional<double> log10_lr;
  std::string calibration;
  std::optional<std::int64_t> supersedes;  ///< the decision it replaces, if any
  /// Made on the pair, with both directions' history in view; false for a
  /// decision recorded before schema 7, when each direction was reviewed apart.
  bool whole_pair = true;
};

/// Roles of users of the HTTP API (docs/exchange.md).
inline constexpr const char* kRoles[] = {"technician", "examiner", "investigator", "admin"};
bool IsRole(const std::string& s);

/// A user of the HTTP API: a jurisdiction and a role; authenticated by a
/// token of which only the SHA-256 is stored.
struct UserRecord {
  std::string name, jurisdiction, role, created_at;
  std::optional<std::string> revoked_at;
};

/// A partner jurisdiction's Ed25519 public key that this database trusts.
struct TrustedKey {
  std::string jurisdiction, public_key_hex, added_at;
};

/// Where a partner jurisdiction answers federated searches, and the TLS
/// certificate pinned for it ("" = the system's trust store decides).
struct PartnerEndpoint {
  std::string jurisdiction;
  std::string url;           ///< https://HOST[:PORT] (http:// only for a loopback host)
  std::string tls_cert_pem;  ///< one X.509 certificate, PEM: the only one its server may show
  std::string added_at;
};

/// An evidence package as recorded on import.
struct PackageRecord {
  std::string id, from, to, signer_hex, level, created_at;
};

/// One item of an imported package: its record (jurisdiction = its origin),
/// its surface (level "scans") and its feature records (item ids ignored).
struct ImportedItem {
  ItemRecord item;
  std::optional<Surface> surface;
  std::vector<FeatureRecord> features;
  ItemId origin_item = kInvalidItemId;  ///< its id in the exporting database
};

/// Where an imported item came from.
struct ItemOrigin {
  std::string package_id, level;
  ItemId origin_item = kInvalidItemId;
};

struct AddResult {
  ItemId id = kInvalidItemId;
  bool duplicate = false;  ///< the same file (SHA-256) was already there: id is that item
};

struct VerifyReport {
  std::size_t items = 0;
  std::vector<std::string> problems;   ///< damage: verification fails
  std::vector<std::string> leftovers;  ///< files of unacknowledged writes (harmless)
  bool ok() const { return problems.empty(); }
};

class Database {
 public:
  /// Opens the database folder; creates it when `create` is true and it does
  /// not exist. Throws toolmark::Error.
  static std::unique_ptr<Database> Open(const std::string& folder, bool create);
  /// Creates a database folder whose catalog is `catalog`: "" for SQLite
  /// (catalog.sqlite in the folder), or postgresql://HOST[:PORT]/DBNAME (a
  /// schema of its own on that server; no password in the string). Open
  /// with create uses $TOOLMARK_CATALOG the same way. Throws when the
  /// folder holds a database already.
  static std::unique_ptr<Database> Create(const std::string& folder, const std::string& catalog);
  /// True when `folder` holds a Toolmark database.
  static bool Exists(const std::string& folder);
  virtual ~Database() = default;

  /// Stores an item and its surface atomically and durably; when this returns
  /// the item survives any crash. A file already present (same sha256) is not
  /// stored again: the result says duplicate and names the existing item.
  virtual AddResult Add(const ItemRecord& item, const Surface& surface) = 0;
  virtual std::optional<ItemRecord> Get(ItemId id) = 0;
  virtual std::optional<ItemId> FindBySha256(const std::string& sha256) = 0;
  /// All items, by id.
  virtual std::vector<ItemRecord> List() = 0;
  /// The stored surface of an item, checked against its values_sha256.
  virtual Surface LoadSurface(ItemId id) = 0;
  /// Stores feature records in one durable transaction (all or none); a
  /// record with the same item, mark, comparator and version is replaced.
  /// Throws toolmark::Error for an unknown item, an empty or non-finite
  /// vector, or a bad name.
  virtual void PutFeatures(const std::vector<FeatureRecord>& features) = 0;
  /// Every stored record of a comparator and version, by item then mark,
  /// each checked against its stored SHA-256 (a mismatch throws).
  virtual std::vector<FeatureRecord> Features(const std::string& comparator, const std::string& version) = 0;
  /// One stored record (checked against its SHA-256; a mismatch throws), or none.
  virtual std::optional<FeatureRecord> Feature(ItemId item, const Mark& mark, const std::string& comparator,
                                               const std::string& version) = 0;
  /// The items that have a record of this comparator and version (without loading them), by id.
  virtual std::vector<ItemId> FeatureItems(const std::string& comparator, const std::string& version) = 0;
  /// Records the hit list of one correlated query item, and that the item has
  /// been correlated with this comparator and version, in one durable
  /// transaction (all or none). A query already recorded for the comparator
  /// and version is left as it is (returns false): correlation is resumable
  /// without duplicating hits.
  virtual bool RecordHits(ItemId query, const std::string& comparator, const std::string& version,
                          const std::vector<HitRecord>& hits) = 0;
  /// Items already correlated with this comparator and version.
  virtual std::vector<ItemId> CorrelatedItems(const std::string& comparator, const std::string& version) = 0;
  /// Recorded hits, by query then rank; of one query item when given.
  virtual std::vector<HitRecord> Hits(std::optional<ItemId> query = std::nullopt) = 0;
  /// One recorded hit, or none.
  virtual std::optional<HitRecord> Hit(std::int64_t id) = 0;
  /// The hits of one hit's pair, by id: the hit itself and, when both items
  /// were correlated, the hit of the other direction (same comparator and
  /// version, query and candidate swapped). A pair is one thing to review:
  /// its decisions are those recorded on either of its hits. Empty for an
  /// unknown hit.
  virtual std::vector<HitRecord> PairHits(std::int64_t id) = 0;
  /// Appends a decision on a hit in one durable transaction (with an audit
  /// row): it supersedes the latest decision of the hit's pair (either
  /// direction), if any. Throws
  /// toolmark::Error for an unknown hit, a conclusion not in kConclusions, an
  /// empty examiner, or a note or name that is too long.
  virtual DecisionRecord RecordDecision(std::int64_t hit, const std::string& decision,
                                        const std::string& examiner, const std::string& note) = 0;
  /// Decisions, oldest first; of one hit's pair (PairHits) when given.
  virtual std::vector<DecisionRecord> Decisions(std::optional<std::int64_t> hit = std::nullopt) = 0;
  // --- Access control and exchange (docs/exchange.md) ---
  /// A database setting ("" when unset), e.g. "jurisdiction" (its home).
  virtual std::string Setting(const std::string& key) = 0;
  virtual void SetSetting(const std::string& key, const std::string& value) = 0;
  /// Adds a user; throws for a bad role, an empty name or jurisdiction, a
  /// name in use or a token hash in use.
  virtual void AddUser(const UserRecord& user, const std::string& token_sha256) = 0;
  /// The user of a token hash, unless revoked.
  virtual std::optional<UserRecord> UserByTokenHash(const std::string& token_sha256) = 0;
  virtual std::vector<UserRecord> Users() = 0;
  /// Revokes a user's token; throws for an unknown user.
  virtual void RevokeUser(const std::string& name) = 0;
  virtual void Trust(const TrustedKey& key) = 0;
  /// Removes a trusted key; throws when it is not trusted.
  virtual void Untrust(const std::string& jurisdiction, const std::string& public_key_hex) = 0;
  virtual std::vector<TrustedKey> TrustedKeys() = 0;
  /// Records (or replaces) a partner's endpoint; throws for a bad
  /// jurisdiction or a URL that is not http(s)://HOST[:PORT]. The caller
  /// checks the certificate (exchange::ReadCertificatePem).
  virtual void SetPartnerEndpoint(const PartnerEndpoint& endpoint) = 0;
  /// Every partner endpoint, by jurisdiction.
  virtual std::vector<PartnerEndpoint> PartnerEndpoints() = 0;
  /// Shares items with a jurisdiction (idempotent); throws for an unknown item.
  virtual void Share(const std::vector<ItemId>& items, const std::string& jurisdiction) = 0;
  /// Every item's shares: item → jurisdictions it is shared with.
  virtual std::map<ItemId, std::vector<std::string>> Shares() = 0;
  /// Imported items and their origin.
  virtual std::map<ItemId, ItemOrigin> Origins() = 0;
  /// True when a package with this id has been imported.
  virtual bool PackageImported(const std::string& package_id) = 0;
  /// Imports a verified package in one durable transaction: every item (its
  /// scan where given), its features, its origin, a share with package.to,
  /// the package record and an audit row — all or nothing. Throws on a
  /// replayed package id or bad data; returns the new item ids in order.
  virtual std::vector<ItemId> ImportPackage(const PackageRecord& package,
                                            const std::vector<ImportedItem>& items) = 0;
  /// Appends an audit row (e.g. an access to shared evidence).
  virtual void Audit(const std::string& action, std::optional<ItemId> item, const std::string& detail) = 0;
  /// Checks the catalog and every array; `repair` removes leftovers only.
  virtual VerifyReport Verify(bool repair) = 0;
  virtual const std::string& folder() const = 0;
  /// Where the catalog is: "sqlite …" or "postgresql HOST/DB schema S" (no credentials).
  virtual std::string CatalogWhere() = 0;

 private:
  static std::unique_ptr<Database> OpenOrCreate(const std::string& folder, bool create,
                                                const std::string& catalog);
};

/// The time now, UTC, ISO 8601 with milliseconds (base::NowUtcMillis).
using base::NowUtcMillis;

/// Default database folder: $TOOLMARK_DB or ./toolmark-db.
std::string DefaultDatabaseFolder();

}  // namespace toolmark::index
