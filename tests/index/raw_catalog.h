// A database folder's catalog opened beside its Database, for tests that
// tamper with it or turn it into an older schema: SQLite or PostgreSQL
// alike (the backend the folder names; tests/pg/with-postgres.sh).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sql.h"

namespace toolmark::testing {

std::unique_ptr<index::SqlConnection> RawCatalog(const std::string& folder);

/// Sets the catalog's schema version (SQLite's user_version, PostgreSQL's toolmark_schema).
void SetSchemaVersion(index::SqlConnection& c, int version);

/// Runs a statement with text parameters; the first column of its first row ("" when none).
std::string QueryOne(index::SqlConnection& c, const std::string& sql,
                     const std::vector<std::string>& params = {});

/// True when new databases of this test run go to PostgreSQL ($TOOLMARK_CATALOG).
bool PostgresRun();

}  // namespace toolmark::testing
