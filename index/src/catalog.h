// The catalog: the database's tables over SQLite (WAL, synchronous=FULL: a
// committed transaction survives power loss and kill -9) or PostgreSQL
// (sql.h). Private to index.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sql.h"
#include "toolmark/base/time.h"
#include "toolmark/index/database.h"

namespace toolmark::index {

using base::NowUtc;
class Catalog;

/// A prepared statement of the catalog with positional binding (1-based)
/// and stepping: SQL that SQLite and PostgreSQL both take (sql.h).
class Statement {
 public:
  Statement(Catalog& catalog, const std::string& sql);
  Statement& Bind(int i, const std::string& v) {
    c_->BindText(i, v);
    return *this;
  }
  Statement& Bind(int i, std::int64_t v) {
    c_->BindInt(i, v);
    return *this;
  }
  Statement& Bind(int i, double v) {
    c_->BindReal(i, v);
    return *this;
  }
  Statement& BindNull(int i) {
    c_->BindNull(i);
    return *this;
  }
  Statement& BindBlob(int i, const void* data, std::size_t bytes) {
    c_->BindBlob(i, data, bytes);
    return *this;
  }
  /// Steps once: true when a row is available, false when done.
  bool Step() { return c_->Step(); }
  std::string Text(int col) const { return c_->Text(col); }
  std::int64_t Int(int col) const { return c_->Int(col); }
  double Real(int col) const { return c_->Real(col); }
  bool IsNull(int col) const { return c_->IsNull(col); }
  std::string Blob(int col) const { return c_->Blob(col); }
  /// Rows inserted, updated or deleted (after the last Step).
  std::int64_t Changes() const { return c_->Changes(); }

 private:
  std::unique_ptr<SqlCursor> c_;
};

/// The catalog: its tables (schema, migrations) over a SQL connection.
class Catalog {
 public:
  /// Opens the connection's catalog, creating or migrating its tables.
  explicit Catalog(std::unique_ptr<SqlConnection> connection);
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  SqlConnection& sql() { return *sql_; }
  SqlDialect dialect() const { return sql_->dialect(); }
  void Exec(const char* sql) { sql_->Exec(sql); }
  /// Takes the write lock now (other writers, in any process, wait).
  void BeginWrite() { sql_->BeginWrite(); }
  /// A write transaction beside other writers (SqlConnection::BeginConcurrentWrite).
  void BeginConcurrentWrite() { sql_->BeginConcurrentWrite(); }
  void Commit() { sql_->Commit(); }
  void Rollback() { sql_->Rollback(); }
  /// Runs `body` in a write transaction (BeginWrite): committed when it
  /// returns, rolled back when it throws (and the exception passed on).
  template <class Body>
  void InWrite(Body&& body) {
    BeginWrite();
    try {
      body();
      Commit();
    } catch (...) {
      Rollback();
      throw;
    }
  }

  /// Inserts the item row and its marks; returns the new id. In a transaction.
  ItemId InsertItem(const ItemRecord& item, const std::string& array_path);
  void Audit(const std::string& action, ItemId item, const std::string& detail);
  std::optional<ItemId> FindBySha256(const std::string& sha256);
  std::vector<ItemRecord> Items(std::optional<ItemId> only);
  /// (id, array path, values_sha256) of every item.
  struct ArrayRef {
    ItemId id;
    std::string path;
    std::string values_sha256;
  };
  std::vector<ArrayRef> Arrays();
  /// The array of one item, if it exists (one indexed lookup).
  std::optional<ArrayRef> ArrayOf(ItemId id);
  /// "" when the catalog's own consistency check passes.
  std::string IntegrityProblems() { return sql_->IntegrityProblems(); }

 private:
  void Migrate();
  std::int64_t SchemaVersion();
  std::unique_ptr<SqlConnection> sql_;
};

/// A mark name read from the catalog, parsed; a name of no mark type is a
/// damaged catalog (toolmark::Error naming the item).
Mark StoredMark(ItemId item, const std::string& name);

}  // namespace toolmark::index
