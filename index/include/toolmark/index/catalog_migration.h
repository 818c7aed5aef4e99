// Moving a database's catalog from SQLite to PostgreSQL (toolmark migrate):
// every table copied row for row (ids kept), then counted and checksummed
// on both sides; only when all agree does the folder switch to the new
// catalog. See docs/database.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace toolmark::index {

struct MigrationReport {
  struct Table {
    std::string name;
    std::int64_t rows_from = 0, rows_to = 0;
    std::string sha256_from, sha256_to;  ///< of the rows in key order, each value typed
    bool ok() const { return rows_from == rows_to && sha256_from == sha256_to; }
  };
  std::vector<Table> tables;
  std::string from, to;  ///< where the catalogs are (no credentials)
  std::string kept_as;   ///< the old SQLite file, renamed (a backup; nothing deletes it)
  bool ok() const {
    for (const Table& t : tables)
      if (!t.ok()) return false;
    return !tables.empty();
  }
};

/// Copies the SQLite catalog of the database in `folder` into a new schema
/// on the PostgreSQL server `uri` (postgresql://HOST[:PORT]/DBNAME, no
/// password), compares counts and checksums, and when they all agree makes
/// the folder use it (its CATALOG file; catalog.sqlite renamed to
/// catalog.sqlite.migrated-TIME). Holds the SQLite write lock throughout:
/// stop every writer first. Throws toolmark::Error, leaving the folder as
/// it was, for a database that is not on SQLite, a server it cannot reach,
/// or a copy that does not compare equal (the report says which table).
MigrationReport MigrateCatalogToPostgres(const std::string& folder, const std::string& uri);

}  // namespace toolmark::index
