// toolmark init | migrate: where a database's catalog lives (SQLite in the
// folder, or a PostgreSQL server shared by many workers; docs/database.md).
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/index/catalog_migration.h"

namespace toolmark::cli {
namespace {

int RunInit(const std::string& db, const std::string& catalog, bool json) {
  auto database = index::Database::Create(db, catalog);
  const std::string where = database->CatalogWhere();
  if (json)
    std::cout << nlohmann::json{{"db", db}, {"catalog", where}}.dump(2) << "\n";
  else
    std::printf("created %s: catalog %s\n", db.c_str(), where.c_str());
  return 0;
}

int RunMigrate(const std::string& db, const std::string& to, bool json) {
  const index::MigrationReport r = index::MigrateCatalogToPostgres(db, to);
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : r.tables) {
    tables.push_back({{"table", t.name},
                      {"rows", t.rows_from},
                      {"rows_copied", t.rows_to},
                      {"sha256", t.sha256_from},
                      {"sha256_copied", t.sha256_to},
                      {"equal", t.ok()}});
    if (!json)
      std::printf("%-18s %10lld rows  %s  %s\n", t.name.c_str(), static_cast<long long>(t.rows_to),
                  t.sha256_to.substr(0, 16).c_str(), t.ok() ? "equal" : "DIFFERENT");
  }
  if (json) {
    std::cout << nlohmann::json{{"db", db},         {"from", r.from}, {"to", r.to}, {"kept_as", r.kept_as},
                                {"tables", tables}, {"ok", r.ok()}}
                     .dump(2)
              << "\n";
  } else {
    std::printf(
        "migrated %s: %s -> %s; every table's rows and checksum equal; the old catalog is kept as %s\n",
        db.c_str(), r.from.c_str(), r.to.c_str(), r.kept_as.c_str());
  }
  return 0;
}

}  // namespace

void RegisterCatalog(CLI::App& app, Action* action) {
  {
    auto db = std::make_shared<std::string>();
    auto catalog = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "init",
        "Create an empty database folder, its catalog in the folder (SQLite) or on a PostgreSQL server");
    AddDbFlag(cmd, db.get());
    cmd->add_option("--catalog", *catalog,
                    "postgresql://HOST[:PORT]/DBNAME: the catalog on that server, in a schema of its own "
                    "(credentials from PGUSER/PGPASSWORD, ~/.pgpass or a service file, never here); "
                    "default: SQLite in the folder (or $TOOLMARK_CATALOG)");
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([=] {
      if (catalog->empty()) {
        const char* env = std::getenv("TOOLMARK_CATALOG");
        if (env) *catalog = env;
      }
      *action = [=] { return RunInit(*db, *catalog, *json); };
    });
  }
  {
    auto db = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand(
        "migrate",
        "Move a database's catalog from SQLite to PostgreSQL (stop every writer first): copied, "
        "counted and checksummed table by table, then switched to");
    AddDbFlag(cmd, db.get());
    cmd->add_option("--to", *to,
                    "postgresql://HOST[:PORT]/DBNAME (no password: libpq's environment or files)")
        ->required();
    cmd->add_flag("--json", *json, "Print JSON");
    cmd->callback([=] { *action = [=] { return RunMigrate(*db, *to, *json); }; });
  }
}

}  // namespace toolmark::cli
