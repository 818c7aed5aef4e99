// The review and serve libraries used as a program would use them, without
// the toolmark binary: hit views and reports (toolmark::review) over a small
// correlated database, and the HTTP API (toolmark::serve) run in a thread.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lib_fixtures.h"
#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/synth.h"
#include "toolmark/index/database.h"
#include "toolmark/index/review.h"
#include "toolmark/index/search.h"
#include "toolmark/ingest/pipeline.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/review/hit_view.h"
#include "toolmark/review/report.h"
#include "toolmark/serve/server.h"

namespace toolmark {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// A database of 6 synthetic cartridge cases (3 firearms × 2), ingested and
/// correlated once for the suite.
class ReviewServeLibrary : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    const fs::path scans = *dir_ / "scans";
    SynthOptions s;
    s.firearms = 3;
    s.per_firearm = 2;
    s.seed = 5;
    s.size = 256;
    testing::WriteSynthScans(s, scans);
    ingest::IngestRequest r;
    r.paths = {scans.string()};
    r.db = *dir_ / "db";
    r.defaults.case_id = "LIB-2";
    r.defaults.jurisdiction = "NL";
    r.defaults.kind = Kind::kCartridgeCase;
    r.threads = 2;
    ASSERT_EQ(ingest::RunIngest(r).accepted, 6);
    auto db = index::Database::Open(r.db, false);
    index::SearchOptions o;
    o.top = 2;
    std::vector<std::string> warnings;
    const index::CorrelateSummary c = index::Correlate(*db, Kind::kCartridgeCase, o, {}, &warnings);
    ASSERT_TRUE(warnings.empty()) << warnings.front();
    ASSERT_GT(c.hits, 0u);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Db() { return *dir_ / "db"; }

  static testing::TempDir* dir_;
};
testing::TempDir* ReviewServeLibrary::dir_ = nullptr;

TEST_F(ReviewServeLibrary, HitViewsAndReportsComeFromTheStoredScans) {
  auto db = index::Database::Open(Db(), false);
  index::HitFilter all;
  all.status = "all";
  const std::vector<index::ReviewHit> hits = index::ReviewHits(*db, all);
  ASSERT_FALSE(hits.empty());
  const index::ReviewHit& best = hits.front();
  EXPECT_EQ(best.hit.comparator, "cmc");
  // The view is the recording comparator's: congruent cells, the score reproduced.
  const auto view = review::BuildHitView(*db, best);
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->explain.value("kind", ""), "cartridge_case");
  EXPECT_EQ(view->explain.value("reproduced", false), true) << view->explain.dump();
  EXPECT_FALSE(view->query_relief.empty());
  const std::string html = review::HitReport(*db, best.hit.id, Db());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find(best.query.file), std::string::npos);
  EXPECT_NE(html.find(best.candidate.file), std::string::npos);
  // The numbers behind the score, in the view (the UI's) and the report.
  ASSERT_TRUE(view->explain.contains("features")) << view->explain.dump();
  EXPECT_TRUE(view->explain["features"]["surface_ccf"].is_number());
  EXPECT_EQ(view->explain["features"]["cmc_count"], view->explain["cmc_count"]);
  EXPECT_NE(html.find("Behind the score"), std::string::npos);
  EXPECT_NE(html.find("surface correlation"), std::string::npos);
  EXPECT_THROW(review::HitReport(*db, 987654, Db()), Error);
  EXPECT_NE(review::CaseReport(*db, "LIB-2", Db()).find("LIB-2"), std::string::npos);
}

/// GET `path` from the server; {status, body}.
std::pair<int, std::string> Get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(120, 0);
  const httplib::Result r = client.Get(path);
  if (!r) return {0, httplib::to_string(r.error())};
  return {r->status, r->body};
}

TEST_F(ReviewServeLibrary, TheHttpApiRunsInAThreadAndStopsWhenAsked) {
  std::atomic<bool> stop{false};
  std::promise<int> bound;
  serve::ServeOptions o;
  o.db = Db();
  o.port = 0;
  o.open = true;  // loopback, no logins
  o.stop = &stop;
  o.on_listening = [&](int port) { bound.set_value(port); };
  std::future<int> status = std::async(std::launch::async, [&] { return serve::Serve(o); });
  std::future<int> port_future = bound.get_future();
  ASSERT_EQ(port_future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  const int port = port_future.get();

  const auto health = Get(port, "/api/health");
  EXPECT_EQ(health.first, 200) << health.second;
  EXPECT_TRUE(json::parse(health.second).at("ok").get<bool>());

  const auto listed = Get(port, "/api/hits?status=all&kind=cartridge_case");
  ASSERT_EQ(listed.first, 200) << listed.second;
  const json list = json::parse(listed.second);
  auto db = index::Database::Open(Db(), false);
  std::set<std::pair<index::ItemId, index::ItemId>> pairs;  // A→B and B→A are one pair to review
  for (const index::HitRecord& h : db->Hits())
    pairs.insert({std::min(h.query, h.candidate), std::max(h.query, h.candidate)});
  EXPECT_EQ(list.at("total").get<std::size_t>(), pairs.size());
  ASSERT_FALSE(list.at("hits").empty());
  EXPECT_EQ(json::parse(Get(port, "/api/hits?status=all&kind=bullet").second).at("total"), 0);

  // Bad requests: a 4xx with a one-line JSON error, and the server goes on.
  for (const char* bad : {"/api/hits?kind=shotshell", "/api/hits?status=maybe", "/api/hits/987654",
                          "/api/hits/abc", "/api/nothing-here"}) {
    const auto r = Get(port, bad);
    EXPECT_GE(r.first, 400) << bad;
    EXPECT_LT(r.first, 500) << bad;
    const json e = json::parse(r.second);
    EXPECT_EQ(e.at("error").get<std::string>().find('\n'), std::string::npos) << bad;
  }
  EXPECT_EQ(Get(port, "/api/hits?kind=shotshell").second.find("kind 'shotshell' must be"), 10u);

  const std::int64_t id = list.at("hits").front().at("id").get<std::int64_t>();
  const auto explain = Get(port, "/api/hits/" + std::to_string(id) + "/explain");
  ASSERT_EQ(explain.first, 200) << explain.second;
  EXPECT_EQ(json::parse(explain.second).at("kind"), "cartridge_case");

  stop = true;
  ASSERT_EQ(status.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(status.get(), 0);
}

}  // namespace
}  // namespace toolmark
