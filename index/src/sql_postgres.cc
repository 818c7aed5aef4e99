// The PostgreSQL catalog (libpq): one schema of a shared server per
// Toolmark database. Writers are serialised by a transaction-scoped advisory
// lock of that schema (as SQLite's BEGIN IMMEDIATE serialises them), and
// every commit is synchronous, whatever the server's default.
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

#include "sql.h"
#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {

constexpr Oid kInt8 = 20, kText = 25, kFloat8 = 701, kBytea = 17;

struct FreeResult {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, FreeResult>;

/// A message of libpq or the server, on one line.
std::string Message(const char* text) {
  std::string m = text ? text : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  for (char& c : m)
    if (c == '\n') c = ' ';
  return m;
}

/// `?` and `?N` parameters in PostgreSQL's words (`$k`, `$N`), outside quotes.
std::string Numbered(const std::string& sql) {
  std::string out;
  int next = 1;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      if (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) continue;
      out += std::to_string(next++);
    } else {
      out += c;
    }
  }
  return out;
}

class PgCursor final : public SqlCursor {
 public:
  PgCursor(PGconn* conn, const std::string& sql) : conn_(conn), sql_(Numbered(sql)) {}

  void BindText(int i, const std::string& v) override { Set(i, v, kText, 0); }
  void BindInt(int i, std::int64_t v) override { Set(i, std::to_string(v), kInt8, 0); }
  void BindReal(int i, double v) override {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    Set(i, buf, kFloat8, 0);
  }
  void BindNull(int i) override { Slot(i) = Param{std::nullopt, 0, 0}; }
  void BindBlob(int i, const void* data, std::size_t bytes) override {
    Set(i, std::string(static_cast<const char*>(data), bytes), kBytea, 1);
  }
  bool Step() override {
    if (!result_) Run();
    return ++row_ < PQntuples(result_.get());
  }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_.get(), row_, col),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row_, col)));
  }
  std::int64_t Int(int col) const override {
    const char* v = PQgetvalue(result_.get(), row_, col);
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);  // NOLINT(runtime/int): strtoll's type
    return *end == '\0' ? n : static_cast<std::int64_t>(std::strtod(v, nullptr));
  }
  double Real(int col) const override { return std::strtod(PQgetvalue(result_.get(), row_, col), nullptr); }
  bool IsNull(int col) const override { return PQgetisnull(result_.get(), row_, col) == 1; }
  std::string Blob(int col) const override {
    std::size_t n = 0;
    unsigned char* raw =
        PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row_, col)), &n);
    Check(raw != nullptr, "catalog: cannot decode a stored bytea value");
    std::string out(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
    return out;
  }
  int Columns() const override { return result_ ? PQnfields(result_.get()) : 0; }
  SqlType Type(int col) const override {
    if (IsNull(col)) return SqlType::kNull;
    switch (PQftype(result_.get(), col)) {
      case 20:  // int8
      case 21:  // int2
      case 23:  // int4
        return SqlType::kInt;
      case 700:  // float4
      case kFloat8:
        return SqlType::kReal;
      case kBytea:
        return SqlType::kBlob;
      default:
        return SqlType::kText;
    }
  }
  std::int64_t Changes() const override { return changes_; }

 private:
  struct Param {
    std::optional<std::string> value;
    Oid type = 0;
    int format = 0;
  };
  Param& Slot(int i) {
    Check(i >= 1 && i <= 1000, "catalog: parameter " + std::to_string(i) + " out of range");
    if (params_.size() < static_cast<std::size_t>(i)) params_.resize(static_cast<std::size_t>(i));
    return params_[static_cast<std::size_t>(i - 1)];
  }
  void Set(int i, std::string v, Oid type, int format) { Slot(i) = Param{std::move(v), type, format}; }

  void Run() {
    const int n = static_cast<int>(params_.size());
    std::vector<Oid> types(params_.size());
    std::vector<const char*> values(params_.size());
    std::vector<int> lengths(params_.size()), formats(params_.size());
    for (std::size_t k = 0; k < params_.size(); ++k) {
      types[k] = params_[k].type;
      values[k] = params_[k].value ? params_[k].value->data() : nullptr;
      lengths[k] = params_[k].value ? static_cast<int>(params_[k].value->size()) : 0;
      formats[k] = params_[k].format;
    }
    result_.reset(
        PQexecParams(conn_, sql_.c_str(), n, types.data(), values.data(), lengths.data(), formats.data(), 0));
    const ExecStatusType status = result_ ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      Fail("catalog: " + Message(result_ ? PQresultErrorMessage(result_.get()) : PQerrorMessage(conn_)));
    const char* tuples = PQcmdTuples(result_.get());
    changes_ = tuples && *tuples ? std::atoll(tuples) : 0;
    row_ = -1;
  }

  PGconn* conn_;
  std::string sql_;
  std::vector<Param> params_;
  Result result_;
  int row_ = -1;
  std::int64_t changes_ = 0;
};

class PgConnection final : public SqlConnection {
 public:
  PgConnection(const std::string& conninfo, const std::string& schema) : schema_(schema) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      const std::string why = conn_ ? Message(PQerrorMessage(conn_)) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      Fail("cannot connect to the PostgreSQL catalog (" + Redacted(conninfo) + "): " + why);
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);  // "already exists, skipping" …
    try {
      Exec("SET synchronous_commit TO on");  // acknowledged means durable, whatever the server's default
      Exec("CREATE SCHEMA IF NOT EXISTS " + schema_);
      Exec("SET search_path TO " + schema_);
    } catch (...) {
      PQfinish(conn_);
      conn_ = nullptr;
      throw;
    }
  }
  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  std::unique_ptr<SqlCursor> Prepare(const std::string& sql) override {
    return std::make_unique<PgCursor>(conn_, sql);
  }
  void Exec(const std::string& sql) override {
    Result r(PQexec(conn_, sql.c_str()));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      Fail("catalog: " + Message(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_)));
  }
  void BeginWrite() override {
    Exec("BEGIN");
    try {
      Exec("SELECT pg_advisory_xact_lock(hashtext('toolmark:" + schema_ + "'))");
    } catch (...) {
      Rollback();
      throw;
    }
  }
  void BeginConcurrentWrite() override { Exec("BEGIN"); }
  void Commit() override { Exec("COMMIT"); }
  void Rollback() override { PQclear(PQexec(conn_, "ROLLBACK")); }
  std::string IntegrityProblems() override {
    // PostgreSQL keeps its own pages consistent (WAL; data checksums where
    // the cluster has them): here the schema is checked to be whole.
    try {
      Exec("SELECT count(*) FROM items, toolmark_schema WHERE false");
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  }
  std::string Where() const override {
    return std::string("postgresql ") + PQhost(conn_) + "/" + PQdb(conn_) + " schema " + schema_;
  }

  /// A conninfo for messages: without any password (which it should not hold anyway).
  static std::string Redacted(const std::string& conninfo) {
    return conninfo.find("password") == std::string::npos && conninfo.find('@') == std::string::npos
               ? conninfo
               : "credentials redacted";
  }

 private:
  std::string schema_;
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlConnection> OpenPostgres(const std::string& conninfo, const std::string& schema) {
  Check(!schema.empty() && schema.size() <= 63 &&
            schema.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos,
        "catalog schema name '" + schema.substr(0, 70) + "' must be 1–63 of a-z, 0-9, _");
  return std::make_unique<PgConnection>(conninfo, schema);
}

}  // namespace toolmark::index
