// Where a database folder's catalog is (docs/database.md): a CATALOG file
// naming a PostgreSQL server and schema, or, without one, catalog.sqlite.
// Private to index.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace toolmark::index::detail {

inline constexpr const char* kCatalogFile =
    "CATALOG";  ///< names a PostgreSQL catalog; absent: catalog.sqlite

/// A PostgreSQL catalog as its folder names it.
struct CatalogLocation {
  std::string conninfo, schema;
};

/// Refuses a connection string that holds a password (credentials come from
/// the libpq environment, ~/.pgpass or a service file, never from the folder).
void CheckNoPassword(const std::string& conninfo);

/// Reads the folder's CATALOG file (`conninfo …`, `schema …` lines), if any;
/// throws toolmark::Error for a damaged one.
std::optional<CatalogLocation> ReadCatalogFile(const std::filesystem::path& folder);

/// Parses a CATALOG file's text (`what` names it in messages).
CatalogLocation ParseCatalogFile(const std::string& text, const std::string& what);

/// A new catalog's CATALOG file for a PostgreSQL URI ("" for "": SQLite): its
/// own schema, named at random, so that many databases share one server.
std::string NewCatalogFile(const std::string& catalog);

}  // namespace toolmark::index::detail
