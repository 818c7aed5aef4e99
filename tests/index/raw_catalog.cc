#include "raw_catalog.h"

#include <cstdlib>

#include "database_impl.h"

namespace toolmark::testing {

std::unique_ptr<index::SqlConnection> RawCatalog(const std::string& folder) {
  return index::detail::OpenCatalogOf(folder);
}

void SetSchemaVersion(index::SqlConnection& c, int version) {
  if (c.dialect() == index::SqlDialect::kSqlite)
    c.Exec("PRAGMA user_version=" + std::to_string(version));
  else
    c.Exec("UPDATE toolmark_schema SET version = " + std::to_string(version));
}

std::string QueryOne(index::SqlConnection& c, const std::string& sql,
                     const std::vector<std::string>& params) {
  auto q = c.Prepare(sql);
  for (std::size_t i = 0; i < params.size(); ++i) q->BindText(static_cast<int>(i + 1), params[i]);
  const std::string first = q->Step() ? q->Text(0) : "";
  while (q->Step()) {
  }
  return first;
}

bool PostgresRun() {
  const char* env = std::getenv("TOOLMARK_CATALOG");
  return env != nullptr && *env != '\0';
}

}  // namespace toolmark::testing
