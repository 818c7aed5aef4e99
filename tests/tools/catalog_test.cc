// Where the catalog lives (docs/database.md): `toolmark init` (SQLite, or a
// PostgreSQL server: refused with a password in the string, or a server it
// cannot reach, leaving no folder), `toolmark migrate` from SQLite to
// PostgreSQL (every row the same before and after, writes go on after the
// switch, the old file kept), and several writer processes at once on one
// catalog, whichever backend this run uses. The PostgreSQL parts need a
// server (tests/pg/with-postgres.sh, as ctest's pg/ tests run them) and
// skip without one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "run_cli.h"
#include "test_util.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/database.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string TestServer() {
  const char* env = std::getenv("TOOLMARK_TEST_PG");
  return env ? env : "";
}

/// Everything a reader sees of a database, as JSON text: items, hits, decisions.
std::string Contents(const std::string& db) {
  auto d = index::Database::Open(db, false);
  json out = json::array();
  for (const index::ItemRecord& it : d->List())
    out.push_back({it.id, it.file, it.sha256, it.case_id, it.values_sha256, it.quality, it.marks.size(),
                   it.spacing_x_um, it.valid_fraction, it.ingested_at});
  for (const index::HitRecord& h : d->Hits())
    out.push_back({h.id, h.query, h.candidate, h.rank, h.score, h.similarity, h.rotation_deg, h.created_at});
  for (const index::DecisionRecord& x : d->Decisions())
    out.push_back({x.id, x.hit, x.decision, x.examiner, x.at, x.supersedes.value_or(-1)});
  for (const index::FeatureRecord& f : d->Features("cmc", std::string("cmc-") + Version()))
    out.push_back({f.item, f.vector.size(), f.vector.front(), f.vector.back()});
  out.push_back(d->Setting("jurisdiction"));
  return out.dump();
}

class Catalog : public ::testing::Test {
 protected:
  void SetUp() override {
    CliOk({"synth", dir_ / "cc", "--kind", "cartridge_case", "--firearms", "3", "--per-firearm", "2",
           "--size", "96", "--seed", "21"});
  }
  /// A SQLite database with items, hits, a decision, a key and a user.
  std::string Populated() {
    const std::string db = dir_ / "sqlite-db";
    CliOk({"init", "--db", db});
    CliOk({"ingest", "--db", db, "--case", "C-1", "--kind", "cartridge_case", "--role", "reference",
           dir_ / "cc"});
    CliOk({"correlate", "--db", db, "--top", "2"});
    const json hits = json::parse(CliOk({"hits", "--db", db, "--json"}));
    const std::string hit = std::to_string(hits.at(0).at("id").get<long long>());
    CliOk({"review", "--db", db, hit, "--decision", "inconclusive", "--examiner", "A. Examiner"});
    CliOk({"review", "--db", db, hit, "--decision", "identification", "--examiner", "B. Examiner"});
    CliOk({"keys", "init", "--db", db, "--jurisdiction", "NL"});
    CliOk({"users", "add", "--db", db, "ops", "--role", "admin"});
    return db;
  }
  TempDir dir_;
};

TEST_F(Catalog, InitMakesAnEmptyDatabaseAndRefusesWhatItCannotUse) {
  const std::string db = dir_ / "db";
  EXPECT_NE(CliOk({"init", "--db", db}).find("catalog "), std::string::npos);
  EXPECT_TRUE(index::Database::Exists(db));
  EXPECT_NE(CliRefused({"init", "--db", db}).find("a Toolmark database is here already"), std::string::npos);
  EXPECT_NE(
      CliRefused({"init", "--db", dir_ / "p", "--catalog", "postgresql://ops:secret@db.example/toolmark"})
          .find("holds a password"),
      std::string::npos);
  EXPECT_NE(CliRefused({"init", "--db", dir_ / "m", "--catalog", "mysql://db.example/toolmark"})
                .find("postgresql://"),
            std::string::npos);
  EXPECT_NE(CliRefused({"init", "--db", dir_ / "u", "--catalog",
                        "postgresql:///toolmark?host=" + (dir_ / "nowhere")})
                .find("cannot connect"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "p") || fs::exists(dir_ / "m") || fs::exists(dir_ / "u"))
      << "a refused init leaves no folder";
  if (TestServer().empty()) GTEST_SKIP() << "no PostgreSQL server (tests/pg/with-postgres.sh runs one)";
  const std::string pg = dir_ / "pg-db";
  EXPECT_NE(CliOk({"init", "--db", pg, "--catalog", TestServer()}).find("postgresql"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(pg) / "CATALOG"));
  EXPECT_FALSE(fs::exists(fs::path(pg) / "catalog.sqlite"));
  CliOk({"ingest", "--db", pg, "--case", "C-2", "--kind", "cartridge_case", "--role", "reference",
         dir_ / "cc"});
  EXPECT_EQ(index::Database::Open(pg, false)->List().size(), 6u);
  EXPECT_NE(CliOk({"verify", "--db", pg}).find("OK"), std::string::npos);
}

TEST_F(Catalog, MigrateCopiesEveryRowThenSwitches) {
  if (TestServer().empty()) GTEST_SKIP() << "no PostgreSQL server (tests/pg/with-postgres.sh runs one)";
  if (std::getenv("TOOLMARK_CATALOG")) GTEST_SKIP() << "this run's new databases are on PostgreSQL already";
  const std::string db = Populated();
  const std::string before = Contents(db);
  EXPECT_NE(CliRefused({"migrate", "--db", db, "--to", "postgresql:///toolmark?host=" + (dir_ / "nowhere")})
                .find("cannot connect"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(db) / "catalog.sqlite"))
      << "a failed migration leaves the folder as it was";
  EXPECT_EQ(Contents(db), before);

  const json report = json::parse(CliOk({"migrate", "--db", db, "--to", TestServer(), "--json"}));
  EXPECT_TRUE(report["ok"].get<bool>());
  std::set<std::string> tables;
  for (const json& t : report["tables"]) {
    EXPECT_TRUE(t["equal"].get<bool>()) << t.dump();
    tables.insert(t["table"].get<std::string>());
    if (t["table"] == "decisions") {
      EXPECT_EQ(t["rows"], 2);
    }
    if (t["table"] == "items") {
      EXPECT_EQ(t["rows_copied"], 6);
    }
  }
  EXPECT_EQ(tables.size(), 16u);
  EXPECT_TRUE(fs::exists(fs::path(db) / "CATALOG"));
  EXPECT_FALSE(fs::exists(fs::path(db) / "catalog.sqlite"));
  EXPECT_TRUE(fs::exists(fs::path(db) / report["kept_as"].get<std::string>())) << "the old catalog is kept";
  EXPECT_EQ(Contents(db), before) << "every reader sees the same database";
  EXPECT_NE(index::Database::Open(db, false)->CatalogWhere().find("postgresql"), std::string::npos);
  EXPECT_NE(CliOk({"verify", "--db", db}).find("OK"), std::string::npos);
  // Writes go on where the old catalog stopped (ids continue, decisions append).
  CliOk({"synth", dir_ / "more", "--kind", "cartridge_case", "--firearms", "1", "--per-firearm", "1",
         "--size", "96", "--seed", "22"});
  CliOk({"ingest", "--db", db, "--case", "C-3", "--kind", "cartridge_case", "--role", "questioned",
         dir_ / "more"});
  auto d = index::Database::Open(db, false);
  ASSERT_EQ(d->List().size(), 7u);
  EXPECT_EQ(d->List().back().id, 7);
  const index::DecisionRecord third = d->RecordDecision(d->Decisions().back().hit, "elimination", "C", "");
  EXPECT_EQ(third.id, 3);
  EXPECT_EQ(third.supersedes, std::optional<std::int64_t>(2));
  EXPECT_NE(CliRefused({"migrate", "--db", db, "--to", TestServer()}).find("on PostgreSQL already"),
            std::string::npos);
}

TEST_F(Catalog, WriterProcessesAtOnceLoseAndDuplicateNothing) {
  const std::string db = dir_ / "shared-db";
  CliOk({"init", "--db", db});
  // Three ingests of the same six files at once: each file once.
  std::vector<std::thread> writers;
  std::vector<CliResult> results(5);
  for (int i = 0; i < 3; ++i)
    writers.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] = RunCli({"ingest", "--db", db, "--case", "C-1", "--kind",
                                                     "cartridge_case", "--role", "reference", dir_ / "cc"});
    });
  for (auto& t : writers) t.join();
  writers.clear();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(results[static_cast<std::size_t>(i)].status, 0) << results[static_cast<std::size_t>(i)].err;
  // Two correlations at once: every item's hit list recorded once.
  for (int i = 3; i < 5; ++i)
    writers.emplace_back([&, i] {
      results[static_cast<std::size_t>(i)] = RunCli({"correlate", "--db", db, "--top", "3"});
    });
  for (auto& t : writers) t.join();
  for (int i = 3; i < 5; ++i)
    EXPECT_EQ(results[static_cast<std::size_t>(i)].status, 0) << results[static_cast<std::size_t>(i)].err;
  auto d = index::Database::Open(db, false);
  EXPECT_EQ(d->CatalogWhere().rfind(std::getenv("TOOLMARK_CATALOG") ? "postgresql" : "sqlite", 0), 0u)
      << d->CatalogWhere();
  const std::vector<index::ItemRecord> items = d->List();
  ASSERT_EQ(items.size(), 6u);
  std::set<std::string> files;
  for (const auto& it : items) files.insert(it.sha256);
  EXPECT_EQ(files.size(), 6u);
  std::set<std::tuple<index::ItemId, index::ItemId, std::string>> pairs;
  std::size_t hits = 0;
  for (const index::HitRecord& h : d->Hits()) {
    pairs.insert({h.query, h.candidate, h.version});
    ++hits;
  }
  EXPECT_EQ(pairs.size(), hits) << "a hit recorded twice";
  EXPECT_EQ(hits, 6u * 3u);
  EXPECT_TRUE(d->Verify(false).ok());
}

}  // namespace
}  // namespace toolmark::testing
