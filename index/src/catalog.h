// The catalog: SQLite in WAL mode with synchronous=FULL, so a committed
// transaction survives power loss and kill -9. Private to index.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/base/time.h"
#include "toolmark/index/database.h"

struct sqlite3;
struct sqlite3_stmt;

namespace toolmark::index {

using base::NowUtc;

/// A prepared statement with positional binding (1-based) and stepping.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& Bind(int i, const std::string& v);
  Statement& Bind(int i, std::int64_t v);
  Statement& Bind(int i, double v);
  Statement& BindNull(int i);
  Statement& BindBlob(int i, const void* data, std::size_t bytes);
  /// Steps once: true when a row is available, false when done.
  bool Step();
  std::string Text(int col) const;
  std::int64_t Int(int col) const;
  double Real(int col) const;
  bool IsNull(int col) const;
  std::string Blob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Catalog {
 public:
  explicit Catalog(const std::string& path);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  void Exec(const char* sql);
  /// BEGIN IMMEDIATE: takes the write lock now (other writers wait).
  void BeginWrite() { Exec("BEGIN IMMEDIATE"); }
  void Commit() { Exec("COMMIT"); }
  void Rollback();

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
  std::string IntegrityCheck();
  sqlite3* handle() { return db_; }

 private:
  void Migrate();
  sqlite3* db_ = nullptr;
};

/// A mark name read from the catalog, parsed; a name of no mark type is a
/// damaged catalog (toolmark::Error naming the item).
Mark StoredMark(ItemId item, const std::string& name);

}  // namespace toolmark::index
