#include "catalog.h"

#include <sqlite3.h>

#include <map>

#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {

// 2: features; 3: correlations, hits; 4: decisions; 5: exchange, access; 6: item quality;
// 7: a pair (A→B and B→A) is reviewed as one (pair_review); 8: a feature vector of
// halves is stored in two bytes a value (an earlier Toolmark would misread it);
// 9: partner endpoints (federated search over HTTPS, pinned certificates)
constexpr int kSchemaVersion = 9;

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sha256 TEXT NOT NULL UNIQUE,
  file TEXT NOT NULL,
  format TEXT NOT NULL,
  case_id TEXT NOT NULL,
  item_label TEXT NOT NULL,
  jurisdiction TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('cartridge_case', 'bullet')),
  role TEXT NOT NULL CHECK (role IN ('questioned', 'reference')),
  caliber TEXT NOT NULL DEFAULT '',
  firing_pin_shape TEXT NOT NULL DEFAULT '',
  lands INTEGER NOT NULL DEFAULT 0,
  twist TEXT NOT NULL DEFAULT '',
  firearm_make TEXT NOT NULL DEFAULT '',
  firearm_model TEXT NOT NULL DEFAULT '',
  firearm_serial TEXT NOT NULL DEFAULT '',
  truth_firearm TEXT NOT NULL DEFAULT '',  -- ground truth: evaluation only
  instrument TEXT NOT NULL DEFAULT '',
  surface_kind TEXT NOT NULL CHECK (surface_kind IN ('height', 'intensity')),
  spacing_x_um REAL NOT NULL,
  spacing_y_um REAL NOT NULL,
  size_x INTEGER NOT NULL,
  size_y INTEGER NOT NULL,
  valid_fraction REAL NOT NULL,
  checksum_ok INTEGER,
  ingested_at TEXT NOT NULL,
  toolmark_version TEXT NOT NULL,
  array_path TEXT NOT NULL,
  values_sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
  item_id INTEGER NOT NULL REFERENCES items(id),
  mark TEXT NOT NULL,
  PRIMARY KEY (item_id, mark)
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  action TEXT NOT NULL,
  item_id INTEGER,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS items_case ON items(case_id);
CREATE TABLE IF NOT EXISTS features (
  item_id INTEGER NOT NULL REFERENCES items(id),
  mark TEXT NOT NULL,
  comparator TEXT NOT NULL,
  version TEXT NOT NULL,
  dims INTEGER NOT NULL CHECK (dims > 0),
  vector BLOB NOT NULL,  -- dims float32 (host, little-endian order), or dims halves (2 bytes, little-endian)
  sha256 TEXT NOT NULL,  -- of vector
  PRIMARY KEY (item_id, mark, comparator, version)
);
CREATE TABLE IF NOT EXISTS correlations (
  item_id INTEGER NOT NULL REFERENCES items(id),
  comparator TEXT NOT NULL,
  version TEXT NOT NULL,
  hits INTEGER NOT NULL,
  done_at TEXT NOT NULL,
  PRIMARY KEY (item_id, comparator, version)
);
CREATE TABLE IF NOT EXISTS hits (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  query_item INTEGER NOT NULL REFERENCES items(id),
  candidate_item INTEGER NOT NULL REFERENCES items(id),
  comparator TEXT NOT NULL,
  version TEXT NOT NULL,
  rank INTEGER NOT NULL CHECK (rank >= 1),
  score REAL NOT NULL,
  log10_lr REAL,
  calibration TEXT NOT NULL DEFAULT '',
  similarity REAL NOT NULL,
  rotation_deg REAL NOT NULL,
  shift_x_um REAL NOT NULL,
  shift_y_um REAL NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (query_item, candidate_item, comparator, version)
);
CREATE INDEX IF NOT EXISTS hits_query ON hits(query_item, rank);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hit_id INTEGER NOT NULL REFERENCES hits(id),
  decision TEXT NOT NULL CHECK (decision IN ('identification', 'inconclusive', 'elimination')),
  examiner TEXT NOT NULL CHECK (length(examiner) > 0),
  note TEXT NOT NULL DEFAULT '',
  at TEXT NOT NULL,
  toolmark_version TEXT NOT NULL,
  comparator TEXT NOT NULL,
  version TEXT NOT NULL,
  score REAL NOT NULL,
  log10_lr REAL,
  calibration TEXT NOT NULL DEFAULT '',
  supersedes INTEGER REFERENCES decisions(id)
);
CREATE INDEX IF NOT EXISTS decisions_hit ON decisions(hit_id, id);
CREATE TRIGGER IF NOT EXISTS decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  jurisdiction TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('technician', 'examiner', 'investigator', 'admin')),
  token_sha256 TEXT NOT NULL UNIQUE,  -- the token itself is never stored
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS trusted_keys (
  jurisdiction TEXT NOT NULL,
  public_key TEXT NOT NULL,  -- Ed25519, hex
  added_at TEXT NOT NULL,
  PRIMARY KEY (jurisdiction, public_key)
);
CREATE TABLE IF NOT EXISTS partner_endpoints (
  jurisdiction TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  tls_cert_pem TEXT NOT NULL DEFAULT '',  -- the pinned certificate ('' = system trust store)
  added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
  item_id INTEGER NOT NULL REFERENCES items(id),
  jurisdiction TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (item_id, jurisdiction)
);
CREATE TABLE IF NOT EXISTS imports (
  package_id TEXT PRIMARY KEY,
  from_jurisdiction TEXT NOT NULL,
  to_jurisdiction TEXT NOT NULL,
  signer TEXT NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('features', 'scans')),
  created_at TEXT NOT NULL,
  imported_at TEXT NOT NULL,
  items INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS imported_items (
  item_id INTEGER PRIMARY KEY REFERENCES items(id),
  package_id TEXT NOT NULL REFERENCES imports(package_id),
  origin_item INTEGER NOT NULL,
  level TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pair_review (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  -- decisions up to this id were recorded before schema 7, on one direction
  -- of a pair alone; later ones were made on the pair (both histories shown)
  legacy_until INTEGER NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS item_quality (
  item_id INTEGER PRIMARY KEY REFERENCES items(id),
  quality TEXT NOT NULL  -- JSON: orientation, findings (docs/quality.md)
);
)SQL";

}  // namespace

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
    Fail(std::string("catalog: ") + sqlite3_errmsg(db));
  }
}
Statement::~Statement() { sqlite3_finalize(stmt_); }
Statement& Statement::Bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
bool Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Fail(std::string("catalog: ") + sqlite3_errmsg(db_));
}
std::string Statement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : "";
}
std::int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Real(int col) const { return sqlite3_column_double(stmt_, col); }
bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
Statement& Statement::BindBlob(int i, const void* data, std::size_t bytes) {
  sqlite3_bind_blob64(stmt_, i, data, static_cast<sqlite3_uint64>(bytes), SQLITE_TRANSIENT);
  return *this;
}
std::string Statement::Blob(int col) const {
  const void* data = sqlite3_column_blob(stmt_, col);
  const int bytes = sqlite3_column_bytes(stmt_, col);
  return data && bytes > 0 ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(bytes))
                           : std::string();
}

Catalog::Catalog(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    Fail("cannot open catalog " + path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 30000);
  try {
    // 16 KiB pages (a new catalog; an existing one keeps its own): feature
    // records of 2–4 KB then share pages instead of leaving most of a 4 KiB
    // page empty or spilling into overflow pages (measured on 10,000
    // bench items: 8.2 KB of features an item with 4 KiB pages, 7.6 with 16).
    Exec("PRAGMA page_size=16384");
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("PRAGMA foreign_keys=ON");
    Migrate();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Catalog::~Catalog() {
  if (db_) sqlite3_close(db_);
}

void Catalog::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    Fail("catalog: " + why);
  }
}

void Catalog::Rollback() { sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr); }

void Catalog::Migrate() {
  Statement v(db_, "PRAGMA user_version");
  v.Step();
  const std::int64_t version = v.Int(0);
  if (version > kSchemaVersion) {
    Fail("catalog schema version " + std::to_string(version) + " is newer than this Toolmark understands (" +
         std::to_string(kSchemaVersion) + "); upgrade Toolmark");
  }
  if (version == kSchemaVersion) return;
  BeginWrite();
  try {
    Exec(kSchema);
    // Decisions recorded so far were made on one direction of a pair each
    // (before schema 7): kept as they are (append-only), and read as such.
    Statement pairs(db_,
                    "INSERT OR IGNORE INTO pair_review (id, legacy_until, at) "
                    "SELECT 1, COALESCE(max(id), 0), ?1 FROM decisions");
    pairs.Bind(1, NowUtc()).Step();
    if (version > 0)
      Audit("migrate", kInvalidItemId,
            "catalog schema " + std::to_string(version) + " -> " + std::to_string(kSchemaVersion));
    Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    Commit();
  } catch (...) {
    Rollback();
    throw;
  }
}

ItemId Catalog::InsertItem(const ItemRecord& it, const std::string& array_path) {
  Statement s(db_, R"SQL(INSERT INTO items (sha256, file, format, case_id, item_label, jurisdiction,
    kind, role, caliber, firing_pin_shape, lands, twist, firearm_make, firearm_model, firearm_serial,
    truth_firearm, instrument, surface_kind, spacing_x_um, spacing_y_um, size_x, size_y,
    valid_fraction, checksum_ok, ingested_at, toolmark_version, array_path, values_sha256)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?))SQL");
  s.Bind(1, it.sha256)
      .Bind(2, it.file)
      .Bind(3, it.format)
      .Bind(4, it.case_id)
      .Bind(5, it.item_label)
      .Bind(6, it.jurisdiction)
      .Bind(7, std::string(KindName(it.kind)))
      .Bind(8, it.role)
      .Bind(9, it.class_marks.caliber)
      .Bind(10, it.class_marks.firing_pin_shape)
      .Bind(11, std::int64_t{it.class_marks.lands})
      .Bind(12, it.class_marks.twist)
      .Bind(13, it.firearm.make)
      .Bind(14, it.firearm.model)
      .Bind(15, it.firearm.serial)
      .Bind(16, it.firearm.truth_label)
      .Bind(17, it.instrument)
      .Bind(18, it.surface_kind)
      .Bind(19, it.spacing_x_um)
      .Bind(20, it.spacing_y_um)
      .Bind(21, std::int64_t{it.size_x})
      .Bind(22, std::int64_t{it.size_y})
      .Bind(23, it.valid_fraction);
  if (it.checksum_ok)
    s.Bind(24, std::int64_t{*it.checksum_ok ? 1 : 0});
  else
    s.BindNull(24);
  s.Bind(25, it.ingested_at.empty() ? NowUtc() : it.ingested_at)
      .Bind(26, it.toolmark_version)
      .Bind(27, array_path)
      .Bind(28, it.values_sha256);
  s.Step();
  const ItemId id = sqlite3_last_insert_rowid(db_);
  for (const Mark& mark : it.marks) {
    Statement m(db_, "INSERT OR IGNORE INTO marks (item_id, mark) VALUES (?, ?)");
    m.Bind(1, id).Bind(2, MarkName(mark)).Step();
  }
  if (!it.quality.empty()) {
    Statement q(db_, "INSERT INTO item_quality (item_id, quality) VALUES (?, ?)");
    q.Bind(1, id).Bind(2, it.quality).Step();
  }
  return id;
}

void Catalog::Audit(const std::string& action, ItemId item, const std::string& detail) {
  Statement s(db_, "INSERT INTO audit (at, action, item_id, detail) VALUES (?, ?, ?, ?)");
  s.Bind(1, NowUtc()).Bind(2, action);
  if (item == kInvalidItemId)
    s.BindNull(3);
  else
    s.Bind(3, item);
  s.Bind(4, detail).Step();
}

std::optional<ItemId> Catalog::FindBySha256(const std::string& sha256) {
  Statement s(db_, "SELECT id FROM items WHERE sha256 = ?");
  s.Bind(1, sha256);
  if (s.Step()) return s.Int(0);
  return std::nullopt;
}

Mark StoredMark(ItemId item, const std::string& name) {
  const std::optional<Mark> m = ParseMark(name);
  Check(m.has_value(), "item " + std::to_string(item) + ": stored mark '" + OneLine(name.substr(0, 40)) +
                           "' is not a known mark (damaged catalog?)");
  return *m;
}

std::vector<ItemRecord> Catalog::Items(std::optional<ItemId> only) {
  std::map<ItemId, std::vector<Mark>> marks;
  {
    Statement m(db_,
                "SELECT item_id, mark FROM marks WHERE ?1 IS NULL OR item_id = ?1 ORDER BY item_id, rowid");
    if (only)
      m.Bind(1, *only);
    else
      m.BindNull(1);
    while (m.Step()) marks[m.Int(0)].push_back(StoredMark(m.Int(0), m.Text(1)));
  }
  Statement s(db_, R"SQL(SELECT id, sha256, file, format, case_id, item_label, jurisdiction, kind, role,
    caliber, firing_pin_shape, lands, twist, firearm_make, firearm_model, firearm_serial, truth_firearm,
    instrument, surface_kind, spacing_x_um, spacing_y_um, size_x, size_y, valid_fraction, checksum_ok,
    ingested_at, toolmark_version, values_sha256, q.quality FROM items LEFT JOIN item_quality q ON q.item_id = id
    WHERE ?1 IS NULL OR id = ?1 ORDER BY id)SQL");
  if (only)
    s.Bind(1, *only);
  else
    s.BindNull(1);
  std::vector<ItemRecord> out;
  while (s.Step()) {
    ItemRecord r;
    r.id = s.Int(0);
    r.sha256 = s.Text(1);
    r.file = s.Text(2);
    r.format = s.Text(3);
    r.case_id = s.Text(4);
    r.item_label = s.Text(5);
    r.jurisdiction = s.Text(6);
    r.kind = KindOf(s.Text(7));
    r.role = s.Text(8);
    r.class_marks = {s.Text(9), s.Text(10), static_cast<int>(s.Int(11)), s.Text(12)};
    r.firearm = {s.Text(13), s.Text(14), s.Text(15), s.Text(16)};
    r.instrument = s.Text(17);
    r.surface_kind = s.Text(18);
    r.spacing_x_um = s.Real(19);
    r.spacing_y_um = s.Real(20);
    r.size_x = static_cast<int>(s.Int(21));
    r.size_y = static_cast<int>(s.Int(22));
    r.valid_fraction = s.Real(23);
    if (!s.IsNull(24)) r.checksum_ok = s.Int(24) != 0;
    r.ingested_at = s.Text(25);
    r.toolmark_version = s.Text(26);
    r.values_sha256 = s.Text(27);
    r.quality = s.IsNull(28) ? "" : s.Text(28);
    r.marks = marks[r.id];
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Catalog::ArrayRef> Catalog::Arrays() {
  Statement s(db_, "SELECT id, array_path, values_sha256 FROM items ORDER BY id");
  std::vector<ArrayRef> out;
  while (s.Step()) out.push_back({s.Int(0), s.Text(1), s.Text(2)});
  return out;
}

std::optional<Catalog::ArrayRef> Catalog::ArrayOf(ItemId id) {
  Statement s(db_, "SELECT id, array_path, values_sha256 FROM items WHERE id = ?1");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ArrayRef{s.Int(0), s.Text(1), s.Text(2)};
}

std::string Catalog::IntegrityCheck() {
  Statement s(db_, "PRAGMA integrity_check");
  std::string result;
  while (s.Step()) result += (result.empty() ? "" : "; ") + s.Text(0);
  return result;
}

}  // namespace toolmark::index
