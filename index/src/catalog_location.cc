// Where a database folder's catalog is: its CATALOG file naming a
// PostgreSQL server and schema, or catalog.sqlite.
#include "catalog_location.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"

namespace toolmark::index::detail {
namespace fs = std::filesystem;

void CheckNoPassword(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &err);
  if (options == nullptr) {
    const std::string why = err ? err : "cannot parse it";
    PQfreemem(err);
    Fail("catalog " + conninfo.substr(0, 80) + ": " + OneLine(why));
  }
  bool password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o)
    password |= std::string(o->keyword) == "password" && o->val != nullptr && *o->val != '\0';
  PQconninfoFree(options);
  Check(
      !password,
      "catalog: the connection string holds a password; give it in ~/.pgpass, a service file or PGPASSWORD");
}

std::optional<CatalogLocation> ReadCatalogFile(const fs::path& folder) {
  std::error_code ec;
  const fs::path file = folder / kCatalogFile;
  if (!fs::exists(file, ec)) return std::nullopt;
  return ParseCatalogFile(base::ReadFileBounded(file.string(), 4096), file.string());
}

CatalogLocation ParseCatalogFile(const std::string& text, const std::string& what) {
  const std::string& file = what;
  CatalogLocation at;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t end = std::min(text.find('\n', begin), text.size());
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    const std::size_t space = line.find(' ');
    const std::string key = line.substr(0, space),
                      value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "backend")
      Check(value == "postgresql", file + ": backend '" + OneLine(value.substr(0, 40)) + "' is unknown");
    else if (key == "conninfo")
      at.conninfo = value;
    else if (key == "schema")
      at.schema = value;
    else if (!key.empty() && key[0] != '#')
      Fail(file + ": unknown line '" + OneLine(line.substr(0, 40)) + "'");
  }
  Check(!at.conninfo.empty() && !at.schema.empty(), file + ": needs a conninfo and a schema line");
  CheckNoPassword(at.conninfo);
  return at;
}

std::string NewCatalogFile(const std::string& catalog) {
  if (catalog.empty()) return "";
  Check(
      catalog.rfind("postgresql://", 0) == 0 || catalog.rfind("postgres://", 0) == 0,
      "--catalog " + catalog.substr(0, 80) + ": give postgresql://HOST[:PORT]/DBNAME (or none, for SQLite)");
  Check(catalog.find_first_of("\n\r") == std::string::npos, "--catalog: one line");
  CheckNoPassword(catalog);
  std::random_device random;
  char schema[32];
  std::snprintf(schema, sizeof schema, "toolmark_%08x%08x", random(), random());
  return std::string("# toolmark catalog: PostgreSQL (docs/database.md)\nbackend postgresql\nconninfo ") +
         catalog + "\nschema " + schema + "\n";
}

}  // namespace toolmark::index::detail
