// toolmark migrate: a database's SQLite catalog copied into PostgreSQL,
// compared table by table, then switched to.
#include "toolmark/index/catalog_migration.h"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "catalog.h"
#include "catalog_location.h"
#include "database_impl.h"
#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {
namespace fs = std::filesystem;

/// Every table of the catalog, parents before children, with the columns
/// that order its rows (its key).
struct TableKey {
  const char* name;
  std::vector<const char*> key;
  bool text_key;  ///< the key holds text: ordered byte by byte on both sides
};
const std::vector<TableKey>& Tables() {
  static const std::vector<TableKey> tables = {
      {"items", {"id"}, false},
      {"marks", {"item_id", "mark"}, true},
      {"item_quality", {"item_id"}, false},
      {"audit", {"id"}, false},
      {"features", {"item_id", "mark", "comparator", "version"}, true},
      {"correlations", {"item_id", "comparator", "version"}, true},
      {"hits", {"id"}, false},
      {"decisions", {"id"}, false},
      {"pair_review", {"id"}, false},
      {"settings", {"key"}, true},
      {"users", {"name"}, true},
      {"trusted_keys", {"jurisdiction", "public_key"}, true},
      {"partner_endpoints", {"jurisdiction"}, true},
      {"shares", {"item_id", "jurisdiction"}, true},
      {"imports", {"package_id"}, true},
      {"imported_items", {"item_id"}, false},
  };
  return tables;
}
/// Tables whose id comes from a sequence in PostgreSQL.
constexpr const char* kSerial[] = {"items", "audit", "hits", "decisions"};

/// The columns of a table as SQLite has them.
std::vector<std::string> ColumnsOf(SqlConnection& sqlite, const std::string& table) {
  auto q = sqlite.Prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid");
  q->BindText(1, table);
  std::vector<std::string> out;
  while (q->Step()) out.push_back(q->Text(0));
  Check(!out.empty(), "migrate: the catalog has no table " + table);
  return out;
}

std::string SelectAll(const TableKey& t, const std::vector<std::string>& columns, SqlDialect d) {
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i];
  sql += std::string(" FROM ") + t.name + " ORDER BY ";
  for (std::size_t i = 0; i < t.key.size(); ++i) {
    sql += std::string(i ? ", " : "") + t.key[i];
    if (t.text_key && std::string(t.key[i]) != "item_id")
      sql += d == SqlDialect::kSqlite ? " COLLATE BINARY" : " COLLATE \"C\"";
  }
  return sql;
}

/// Appends one value, typed, for the checksum: the same row reads the same on both sides.
void Render(const SqlCursor& c, int col, std::string* out) {
  switch (c.Type(col)) {
    case SqlType::kNull:
      out->push_back('N');
      break;
    case SqlType::kInt:
      out->push_back('I');
      out->append(std::to_string(c.Int(col)));
      break;
    case SqlType::kReal: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "R%.17g", c.Real(col));
      out->append(buf);
      break;
    }
    case SqlType::kText: {
      const std::string text = c.Text(col);
      out->push_back('T');
      out->append(std::to_string(text.size()));
      out->push_back(':');
      out->append(text);
      break;
    }
    case SqlType::kBlob:
      out->push_back('B');
      out->append(base::Sha256Hex(c.Blob(col)));
      break;
  }
  out->push_back('|');
}

/// Rows and the SHA-256 of their rendering, in key order.
std::pair<std::int64_t, std::string> Summary(SqlConnection& c, const std::string& select) {
  auto q = c.Prepare(select);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> hash(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Check(hash && EVP_DigestInit_ex(hash.get(), EVP_sha256(), nullptr) == 1, "migrate: no SHA-256");
  std::int64_t rows = 0;
  while (q->Step()) {
    ++rows;
    std::string row;
    for (int col = 0; col < q->Columns(); ++col) Render(*q, col, &row);
    row.push_back('\n');
    EVP_DigestUpdate(hash.get(), row.data(), row.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(hash.get(), md, &n);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return {rows, hex};
}

/// Copies a table's rows, in key order, keeping every value's type.
void Copy(SqlConnection& from, SqlConnection& to, const TableKey& t,
          const std::vector<std::string>& columns) {
  std::string insert = std::string("INSERT INTO ") + t.name + " (";
  std::string values;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    insert += (i ? ", " : "") + columns[i];
    values += i ? ", ?" : "?";
  }
  insert += ") VALUES (" + values + ")";
  // marks in the order they were made (an item's marks keep their order): SQLite's rowid
  std::string select = SelectAll(t, columns, SqlDialect::kSqlite);
  if (std::string(t.name) == "marks")
    select = select.substr(0, select.find(" ORDER BY ")) + " ORDER BY item_id, rowid";
  auto q = from.Prepare(select);
  while (q->Step()) {
    auto put = to.Prepare(insert);
    for (int col = 0; col < q->Columns(); ++col) {
      switch (q->Type(col)) {
        case SqlType::kNull:
          put->BindNull(col + 1);
          break;
        case SqlType::kInt:
          put->BindInt(col + 1, q->Int(col));
          break;
        case SqlType::kReal:
          put->BindReal(col + 1, q->Real(col));
          break;
        case SqlType::kText:
          put->BindText(col + 1, q->Text(col));
          break;
        case SqlType::kBlob: {
          const std::string blob = q->Blob(col);
          put->BindBlob(col + 1, blob.data(), blob.size());
          break;
        }
      }
    }
    put->Step();
  }
}

std::string UtcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

MigrationReport MigrateCatalogToPostgres(const std::string& folder, const std::string& uri) {
  const fs::path dir(folder);
  Check(Database::Exists(folder), folder + ": no Toolmark database here");
  Check(!detail::ReadCatalogFile(dir), folder + ": its catalog is on PostgreSQL already");
  const std::string catalog_file = detail::NewCatalogFile(uri);
  Check(!catalog_file.empty(), "migrate: give --to postgresql://HOST[:PORT]/DBNAME");
  const detail::CatalogLocation at = detail::ParseCatalogFile(catalog_file, "migrate");
  { Catalog upgraded(OpenSqlite((dir / detail::kCatalogName).string())); }  // the source at this schema first
  std::unique_ptr<SqlConnection> from = OpenSqlite((dir / detail::kCatalogName).string());
  MigrationReport report;
  report.from = from->Where();
  from->BeginWrite();  // no writer changes the source while it is copied, compared and switched
  try {
    Catalog target(OpenPostgres(at.conninfo, at.schema));  // the tables, at this schema version
    SqlConnection& to = target.sql();
    report.to = to.Where();
    to.BeginWrite();
    try {
      to.Exec("DELETE FROM pair_review");  // made by the new schema; the source's row is copied
      for (const TableKey& t : Tables()) Copy(*from, to, t, ColumnsOf(*from, t.name));
      for (const char* table : kSerial)
        to.Exec(std::string("SELECT setval(pg_get_serial_sequence('") + table +
                "', 'id'), COALESCE(max(id), 1), " + "max(id) IS NOT NULL) FROM " + table);
      to.Commit();
    } catch (...) {
      to.Rollback();
      throw;
    }
    for (const TableKey& t : Tables()) {
      const std::vector<std::string> columns = ColumnsOf(*from, t.name);
      MigrationReport::Table row;
      row.name = t.name;
      std::tie(row.rows_from, row.sha256_from) = Summary(*from, SelectAll(t, columns, SqlDialect::kSqlite));
      std::tie(row.rows_to, row.sha256_to) = Summary(to, SelectAll(t, columns, SqlDialect::kPostgres));
      report.tables.push_back(row);
    }
    for (const MigrationReport::Table& t : report.tables)
      Check(t.ok(), "migrate: table " + t.name + " differs after the copy (" + std::to_string(t.rows_from) +
                        " rows, " + std::to_string(t.rows_to) +
                        " copied); the folder still uses SQLite, and " + "schema " + at.schema +
                        " on the server can be dropped");
    // The switch: the CATALOG file (durably), then the old file renamed away.
    base::WriteFileAtomic((dir / detail::kCatalogFile).string(), catalog_file);
    base::SyncDirectory(dir.string());
    report.kept_as = std::string(detail::kCatalogName) + ".migrated-" + UtcStamp();
  } catch (...) {
    from->Rollback();
    throw;
  }
  from->Rollback();
  from.reset();
  std::error_code ec;
  fs::rename(dir / detail::kCatalogName, dir / report.kept_as, ec);
  // Its write-ahead log goes with it (it may hold committed transactions); -shm is rebuilt.
  fs::rename(dir / (std::string(detail::kCatalogName) + "-wal"), dir / (report.kept_as + "-wal"), ec);
  fs::remove(dir / (std::string(detail::kCatalogName) + "-shm"), ec);
  base::SyncDirectory(dir.string());
  return report;
}

}  // namespace toolmark::index
