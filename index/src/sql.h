// The catalog's SQL connection: SQLite (a file in the database folder, the
// default) or PostgreSQL (a shared server), behind one small interface.
// Statements are written once, with `?` or `?N` parameters and SQL that both
// understand (UPSERT with ON CONFLICT, RETURNING); the PostgreSQL driver
// numbers the parameters its way. Private to index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace toolmark::index {

enum class SqlDialect { kSqlite, kPostgres };
/// A value's type in a result row.
enum class SqlType { kNull, kInt, kReal, kText, kBlob };

/// A prepared statement: positional parameters (1-based), then Step() row by
/// row. Errors throw toolmark::Error ("catalog: …").
class SqlCursor {
 public:
  virtual ~SqlCursor() = default;
  virtual void BindText(int i, const std::string& v) = 0;
  virtual void BindInt(int i, std::int64_t v) = 0;
  virtual void BindReal(int i, double v) = 0;
  virtual void BindNull(int i) = 0;
  virtual void BindBlob(int i, const void* data, std::size_t bytes) = 0;
  /// Runs the statement on the first call; true while a row is available.
  virtual bool Step() = 0;
  virtual std::string Text(int col) const = 0;
  virtual std::int64_t Int(int col) const = 0;
  virtual double Real(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  virtual std::string Blob(int col) const = 0;
  /// Columns of the result, and the type of a value of the current row.
  virtual int Columns() const = 0;
  virtual SqlType Type(int col) const = 0;
  /// Rows inserted, updated or deleted by the statement (after Step).
  virtual std::int64_t Changes() const = 0;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  virtual std::unique_ptr<SqlCursor> Prepare(const std::string& sql) = 0;
  /// One or more statements without parameters.
  virtual void Exec(const std::string& sql) = 0;
  /// Starts a write transaction that excludes every other writer of the
  /// catalog (other processes too) until Commit or Rollback.
  virtual void BeginWrite() = 0;
  /// Starts a write transaction that other writers may run beside: for
  /// statements that are safe so (upserts of rows no one deletes). SQLite:
  /// the same as BeginWrite; PostgreSQL: no catalog-wide lock.
  virtual void BeginConcurrentWrite() = 0;
  /// Commits durably: when it returns, the transaction survives a crash.
  virtual void Commit() = 0;
  /// Rolls back; never throws.
  virtual void Rollback() = 0;
  /// "" when the catalog's own consistency check passes, else what it found.
  virtual std::string IntegrityProblems() = 0;
  /// Where it is, for messages (a file path, or the server and schema; never a password).
  virtual std::string Where() const = 0;
};

/// SQLite in WAL mode, synchronous=FULL, foreign keys on.
std::unique_ptr<SqlConnection> OpenSqlite(const std::string& path);

/// PostgreSQL: `conninfo` is a libpq URI or key=value string without a
/// password (credentials come from the environment, ~/.pgpass or a service
/// file); every table lives in `schema`, created when absent.
std::unique_ptr<SqlConnection> OpenPostgres(const std::string& conninfo, const std::string& schema);

}  // namespace toolmark::index
