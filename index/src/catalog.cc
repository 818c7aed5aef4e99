#include "catalog.h"

#include <cctype>
#include <map>
#include <utility>

#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {

// 2: features; 3: correlations, hits; 4: decisions; 5: exchange, access; 6: item quality;
// 7: a pair (A→B and B→A) is reviewed as one (pair_review); 8: a feature vector of
// halves is stored in two bytes a value (an earlier Toolmark would misread it);
// 9: partner endpoints (federated search over HTTPS, pinned certificates)
constexpr int kSchemaVersion = 9;

// The tables, in SQLite's words; PostgreSQL's are made from them (PostgresSchema).
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

const char* kSqliteTriggers = R"SQL(
CREATE TRIGGER IF NOT EXISTS decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
)SQL";

const char* kPostgresTriggers = R"SQL(
CREATE TABLE IF NOT EXISTS toolmark_schema (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
CREATE OR REPLACE FUNCTION toolmark_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'decisions are append-only'; END $$;
CREATE OR REPLACE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
FOR EACH ROW EXECUTE FUNCTION toolmark_append_only();
)SQL";

/// Replaces every whole-word `from` in `text` by `to`.
std::string ReplaceWord(std::string text, const std::string& from, const std::string& to) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    const bool whole = (at == 0 || !word(text[at - 1])) &&
                       (at + from.size() == text.size() || !word(text[at + from.size()]));
    if (!whole) {
      at += from.size();
      continue;
    }
    text.replace(at, from.size(), to);
    at += to.size();
  }
  return text;
}

/// The tables in PostgreSQL's words: 64-bit ids from sequences, doubles,
/// bytea, and an insertion order for marks (SQLite's rowid).
std::string PostgresSchema() {
  std::string s = ReplaceWord(kSchema, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY");
  s = ReplaceWord(s, "INTEGER", "BIGINT");
  s = ReplaceWord(s, "REAL", "DOUBLE PRECISION");
  s = ReplaceWord(s, "BLOB", "BYTEA");
  const std::string marks = "CREATE TABLE IF NOT EXISTS marks (\n";
  s.replace(s.find(marks), marks.size(), marks + "  seq BIGSERIAL,\n");
  return s + kPostgresTriggers;
}

}  // namespace

Statement::Statement(Catalog& catalog, const std::string& sql) : c_(catalog.sql().Prepare(sql)) {}

Catalog::Catalog(std::unique_ptr<SqlConnection> connection) : sql_(std::move(connection)) { Migrate(); }

std::int64_t Catalog::SchemaVersion() {
  if (dialect() == SqlDialect::kSqlite) {
    Statement v(*this, "PRAGMA user_version");
    v.Step();
    return v.Int(0);
  }
  Statement known(*this,
                  "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                  "AND table_name = 'toolmark_schema'");
  if (!known.Step()) return 0;
  Statement v(*this, "SELECT version FROM toolmark_schema WHERE id = 1");
  return v.Step() ? v.Int(0) : 0;
}

void Catalog::Migrate() {
  // PostgreSQL: looked at and migrated under the write lock (several
  // workers may open a new catalog at once). SQLite: looked at first, and
  // locked only to migrate (every statement below is idempotent).
  const bool sqlite = dialect() == SqlDialect::kSqlite;
  if (!sqlite) BeginWrite();
  std::int64_t version = 0;
  try {
    version = SchemaVersion();
    if (version > kSchemaVersion)
      Fail("catalog schema version " + std::to_string(version) +
           " is newer than this Toolmark understands (" + std::to_string(kSchemaVersion) +
           "); upgrade Toolmark");
  } catch (...) {
    if (!sqlite) Rollback();
    throw;
  }
  if (version == kSchemaVersion) {
    if (!sqlite) Commit();
    return;
  }
  if (sqlite) BeginWrite();
  try {
    Exec(sqlite ? (std::string(kSchema) + kSqliteTriggers).c_str() : PostgresSchema().c_str());
    // Decisions recorded so far were made on one direction of a pair each
    // (before schema 7): kept as they are (append-only), and read as such.
    Statement pairs(*this,
                    "INSERT INTO pair_review (id, legacy_until, at) "
                    "SELECT 1, COALESCE(max(id), 0), ?1 FROM decisions WHERE true ON CONFLICT DO NOTHING");
    pairs.Bind(1, NowUtc()).Step();
    if (version > 0)
      Audit("migrate", kInvalidItemId,
            "catalog schema " + std::to_string(version) + " -> " + std::to_string(kSchemaVersion));
    if (sqlite) {
      Exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    } else {
      Statement v(*this,
                  "INSERT INTO toolmark_schema (id, version) VALUES (1, ?1) "
                  "ON CONFLICT (id) DO UPDATE SET version = excluded.version");
      v.Bind(1, std::int64_t{kSchemaVersion}).Step();
    }
    Commit();
  } catch (...) {
    Rollback();
    throw;
  }
}

ItemId Catalog::InsertItem(const ItemRecord& it, const std::string& array_path) {
  Statement s(*this, R"SQL(INSERT INTO items (sha256, file, format, case_id, item_label, jurisdiction,
    kind, role, caliber, firing_pin_shape, lands, twist, firearm_make, firearm_model, firearm_serial,
    truth_firearm, instrument, surface_kind, spacing_x_um, spacing_y_um, size_x, size_y,
    valid_fraction, checksum_ok, ingested_at, toolmark_version, array_path, values_sha256)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id)SQL");
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
  Check(s.Step(), "catalog: no id for the new item");
  const ItemId id = s.Int(0);
  while (s.Step()) {
  }
  for (const Mark& mark : it.marks) {
    Statement m(*this, "INSERT INTO marks (item_id, mark) VALUES (?, ?) ON CONFLICT DO NOTHING");
    m.Bind(1, id).Bind(2, MarkName(mark)).Step();
  }
  if (!it.quality.empty()) {
    Statement q(*this, "INSERT INTO item_quality (item_id, quality) VALUES (?, ?)");
    q.Bind(1, id).Bind(2, it.quality).Step();
  }
  return id;
}

void Catalog::Audit(const std::string& action, ItemId item, const std::string& detail) {
  Statement s(*this, "INSERT INTO audit (at, action, item_id, detail) VALUES (?, ?, ?, ?)");
  s.Bind(1, NowUtc()).Bind(2, action);
  if (item == kInvalidItemId)
    s.BindNull(3);
  else
    s.Bind(3, item);
  s.Bind(4, detail).Step();
}

std::optional<ItemId> Catalog::FindBySha256(const std::string& sha256) {
  Statement s(*this, "SELECT id FROM items WHERE sha256 = ?");
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
    // ?1 = 0: every item (ids start at 1)
    Statement m(
        *this,
        std::string("SELECT item_id, mark FROM marks WHERE ?1 = 0 OR item_id = ?1 ORDER BY item_id, ") +
            (dialect() == SqlDialect::kSqlite ? "rowid" : "seq"));
    m.Bind(1, only ? *only : ItemId{0});
    while (m.Step()) marks[m.Int(0)].push_back(StoredMark(m.Int(0), m.Text(1)));
  }
  Statement s(*this, R"SQL(SELECT id, sha256, file, format, case_id, item_label, jurisdiction, kind, role,
    caliber, firing_pin_shape, lands, twist, firearm_make, firearm_model, firearm_serial, truth_firearm,
    instrument, surface_kind, spacing_x_um, spacing_y_um, size_x, size_y, valid_fraction, checksum_ok,
    ingested_at, toolmark_version, values_sha256, q.quality FROM items LEFT JOIN item_quality q ON q.item_id = id
    WHERE ?1 = 0 OR id = ?1 ORDER BY id)SQL");
  s.Bind(1, only ? *only : ItemId{0});
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
  Statement s(*this, "SELECT id, array_path, values_sha256 FROM items ORDER BY id");
  std::vector<ArrayRef> out;
  while (s.Step()) out.push_back({s.Int(0), s.Text(1), s.Text(2)});
  return out;
}

std::optional<Catalog::ArrayRef> Catalog::ArrayOf(ItemId id) {
  Statement s(*this, "SELECT id, array_path, values_sha256 FROM items WHERE id = ?1");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ArrayRef{s.Int(0), s.Text(1), s.Text(2)};
}

}  // namespace toolmark::index
