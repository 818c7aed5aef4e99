// The review server against a real `toolmark serve` on loopback: every route,
// bad requests (400/404/413, never a crash), simultaneous decisions from
// several reviewers, clients that disconnect mid-request, a server killed
// with SIGKILL while decisions arrive (every acknowledged one survives); and
// the review commands (hits, review, links, report).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "run_cli.h"
#include "server_process.h"
#include "spawn.h"
#include "test_util.h"
#include "toolmark/index/database.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

/// A correlated synthetic database (3 firearms × 2 cartridge cases, top 3),
/// built once for the whole suite; each test copies it.
class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string set = *dir_ / "cc", db = *dir_ / "db";
    ASSERT_EQ(RunCli({"synth", set, "--kind", "cartridge_case", "--firearms", "3", "--per-firearm", "2",
                      "--size", "96", "--seed", "3"})
                  .status,
              0);
    const CliResult ingest = RunCli(
        {"ingest", "--db", db, "--manifest", set + "/truth.csv", "--case", "c1", "--jurisdiction", "NL"});
    ASSERT_EQ(ingest.status, 0) << ingest.err;
    const CliResult correlate = RunCli({"correlate", "--db", db, "--top", "3"});
    ASSERT_EQ(correlate.status, 0) << correlate.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    db_ = local_ / "db";
    fs::copy(*dir_ / "db", db_, fs::copy_options::recursive);
  }
  void TearDown() override { Stop(); }

  /// Starts `toolmark serve --open` on a free loopback port; returns its port.
  int Start() {
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--db", db_, "--open"});
    if (!server_->ok()) {
      ADD_FAILURE() << "serve printed: " << server_->first_line();
      return 0;
    }
    pid_ = server_->pid();
    port_ = server_->port();
    return port_;
  }
  /// The pairs the correlation recorded: its hits with A→B and B→A counted once.
  std::size_t Pairs() const {
    std::set<std::pair<std::int64_t, std::int64_t>> pairs;
    for (const index::HitRecord& h : index::Database::Open(db_, false)->Hits())
      pairs.insert({std::min(h.query, h.candidate), std::max(h.query, h.candidate)});
    return pairs.size();
  }
  void Stop() {
    if (server_ && pid_ > 0) {
      EXPECT_EQ(server_->Stop(), 0) << "serve should stop cleanly on SIGTERM";
    }
    server_.reset();
    pid_ = -1;
  }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }
  json Get(const std::string& path, int want = 200) {
    auto c = Client();
    const auto r = c.Get(path.c_str());
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, want) << path << ": " << r->body;
    if (r->get_header_value("Content-Type") != "application/json") {
      ADD_FAILURE() << path << ": not JSON";
      return {};
    }
    return json::parse(r->body);
  }
  httplib::Result Post(const std::string& path, const std::string& body) {
    auto c = Client();
    return c.Post(path.c_str(), body, "application/json");
  }
  static std::string Decision(const std::string& d, const std::string& examiner,
                              const std::string& note = "") {
    return json{{"decision", d}, {"examiner", examiner}, {"note", note}}.dump();
  }

  static TempDir* dir_;
  TempDir local_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
  pid_t pid_ = -1;
  int port_ = 0;
};
TempDir* ServeTest::dir_ = nullptr;

TEST_F(ServeTest, HitsQueueAndFilters) {
  ASSERT_GT(Start(), 0);
  EXPECT_EQ(Get("/api/health")["ok"], true);
  const json pending = Get("/api/hits");
  // 6 items × 3 hits, but a pair found from both sides is one thing to review.
  const std::size_t pairs = Pairs();
  EXPECT_LT(pairs, 18u);
  EXPECT_EQ(pending["total"], pairs);
  ASSERT_EQ(pending["hits"].size(), pairs);
  std::size_t both = 0;
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < pending["hits"].size(); ++i) {
    const json& h = pending["hits"][i];
    if (i > 0) {
      EXPECT_GE(pending["hits"][i - 1]["pair_score"].get<double>(), h["pair_score"].get<double>());
    }
    EXPECT_TRUE(ids.insert(h["id"].get<std::int64_t>()).second);
    if (h["reverse"].is_null()) continue;
    ++both;
    EXPECT_TRUE(ids.insert(h["reverse"]["id"].get<std::int64_t>()).second);
    EXPECT_EQ(h["pair_score"], std::max(h["score"].get<double>(), h["reverse"]["score"].get<double>()));
  }
  EXPECT_EQ(pairs + both, 18u);  // every hit is in exactly one listed pair
  const json first = pending["hits"][0];
  for (const char* k : {"id", "status", "score", "log10_lr", "calibration", "rank", "comparator", "version",
                        "similarity", "query", "candidate", "decisions", "reverse", "pair_score"})
    EXPECT_TRUE(first.contains(k)) << k;
  EXPECT_EQ(first["status"], "pending");
  EXPECT_EQ(first["query"]["jurisdiction"], "NL");
  EXPECT_EQ(Get("/api/hits?limit=5&offset=2")["hits"].size(), 5u);
  EXPECT_EQ(Get("/api/hits?kind=bullet")["total"], 0);
  EXPECT_EQ(Get("/api/hits?jurisdiction=DE")["total"], 0);
  EXPECT_EQ(Get("/api/hits?case=c1&status=all")["total"], pairs);
  const double top = first["pair_score"].get<double>();
  for (const json& h : Get("/api/hits?min_score=" + std::to_string(top))["hits"])
    EXPECT_GE(h["pair_score"].get<double>(), top);
  // Bad filters: 400 with a message.
  EXPECT_NE(Get("/api/hits?status=maybe", 400)["error"].get<std::string>().find("status"), std::string::npos);
  EXPECT_NE(Get("/api/hits?min_score=abc", 400)["error"].get<std::string>().find("min_score"),
            std::string::npos);
  Get("/api/hits?kind=shotshell", 400);
  Get("/api/hits?limit=-1", 400);
}

TEST_F(ServeTest, HitPageImagesExplainAndPlot) {
  ASSERT_GT(Start(), 0);
  const std::int64_t id = Get("/api/hits")["hits"][0]["id"];
  const json hit = Get("/api/hits/" + std::to_string(id));
  EXPECT_EQ(hit["id"], id);
  EXPECT_TRUE(hit["history"].empty());
  EXPECT_TRUE(hit.contains("rotation_deg") && hit["translation_um"].size() == 2);
  EXPECT_TRUE(hit["previous"].is_null());  // the best pending hit
  EXPECT_FALSE(hit["next"].is_null());
  const json ex = Get(hit["explain"].get<std::string>());
  EXPECT_EQ(ex["kind"], "cartridge_case");
  EXPECT_EQ(ex["reproduced"], true) << "the recorded score is recomputed exactly";
  EXPECT_GT(ex["cells"].size(), 0u);
  int congruent = 0;
  for (const json& c : ex["cells"]) {
    congruent += c["congruent"].get<bool>();
    EXPECT_GE(c["x_px"].get<double>(), 0);
    EXPECT_LE(c["x_px"].get<double>(), ex["width"].get<double>());
  }
  EXPECT_EQ(congruent, ex["cmc_forward"].get<int>());
  auto c = Client();
  std::set<std::pair<int, int>> sizes;
  for (const char* side : {"query", "candidate"})
    for (const char* style : {"relief", "colour"}) {
      const auto r = c.Get(hit["images"][side][style].get<std::string>().c_str());
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->get_header_value("Content-Type"), "image/png");
      ASSERT_GT(r->body.size(), 24u);
      EXPECT_EQ(r->body.substr(1, 3), "PNG");
      // PNG IHDR: width and height, big-endian, at bytes 16..23.
      const auto be = [&](std::size_t at) {
        return (static_cast<unsigned char>(r->body[at]) << 24) |
               (static_cast<unsigned char>(r->body[at + 1]) << 16) |
               (static_cast<unsigned char>(r->body[at + 2]) << 8) |
               static_cast<unsigned char>(r->body[at + 3]);
      };
      sizes.insert({be(16), be(20)});
    }
  ASSERT_EQ(sizes.size(), 1u) << "query and candidate images align: one size";
  EXPECT_EQ(sizes.begin()->first, ex["width"].get<int>());
  const auto plot = c.Get(hit["plot"].get<std::string>().c_str());
  ASSERT_TRUE(plot);
  EXPECT_EQ(plot->status, 200);
  EXPECT_EQ(plot->body.substr(1, 3), "PNG");
  // Bad ids and styles.
  EXPECT_NE(Get("/api/hits/99999", 404)["error"].get<std::string>().find("no such hit"), std::string::npos);
  Get("/api/hits/abc", 400);
  Get("/api/hits/99999/explain", 404);
  Get("/api/hits/" + std::to_string(id) + "/image/query.png?style=sepia", 400);
  Get("/api/no/such/route", 404);
}

TEST_F(ServeTest, DecisionsCasesAndLinks) {
  ASSERT_GT(Start(), 0);
  const json hit = Get("/api/hits")["hits"][0];
  const std::string base = "/api/hits/" + std::to_string(hit["id"].get<std::int64_t>());
  auto r = Post(base + "/decisions", Decision("identification", "A. Examiner", "same breech face"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  const json d = json::parse(r->body);
  EXPECT_EQ(d["decision"], "identification");
  EXPECT_TRUE(d["supersedes"].is_null());
  EXPECT_EQ(d["score"], hit["score"]);
  // Bad requests: 400 (404 for an unknown hit), nothing recorded.
  const std::vector<std::pair<std::string, int>> bad = {
      {"not json", 400},
      {"[1,2]", 400},
      {R"({"decision": "match", "examiner": "A"})", 400},
      {R"({"decision": "identification"})", 400},
      {R"({"decision": "identification", "examiner": ""})", 400},
      {R"({"decision": "identification", "examiner": 7})", 400},
      {R"({"decision": "identification", "examiner": "A", "note": ["x"]})", 400}};
  for (const auto& [body, status] : bad) {
    r = Post(base + "/decisions", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << body << " → " << r->body;
    EXPECT_TRUE(json::parse(r->body).contains("error")) << body;
  }
  r = Post("/api/hits/99999/decisions", Decision("elimination", "A"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = Post(base + "/decisions", std::string(70000, 'x'));  // over the body limit
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  const json after = Get(base);
  EXPECT_EQ(after["status"], "identification");
  ASSERT_EQ(after["history"].size(), 1u);
  EXPECT_EQ(after["history"][0]["note"], "same breech face");
  // The pair is linked; the case view shows it; an elimination undoes it.
  const std::int64_t qa = hit["query"]["id"], ca = hit["candidate"]["id"];
  json links = Get("/api/links")["clusters"];
  ASSERT_EQ(links.size(), 1u);
  std::set<std::int64_t> members;
  for (const json& it : links[0]["items"]) members.insert(it["id"].get<std::int64_t>());
  EXPECT_EQ(members, (std::set<std::int64_t>{qa, ca}));
  const json kase = Get("/api/cases/c1");
  EXPECT_EQ(kase["items"].size(), 6u);
  EXPECT_EQ(kase["clusters"], json::array({1}));
  Get("/api/cases/no-such-case", 404);
  r = Post(base + "/decisions", Decision("elimination", "B. Verifier", "on review"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(json::parse(r->body)["supersedes"], d["id"]);
  EXPECT_TRUE(Get("/api/links")["clusters"].empty());
  EXPECT_EQ(Get(base)["history"].size(), 2u);
  EXPECT_EQ(Get("/api/hits?status=elimination")["total"], 1);
}

TEST_F(ServeTest, FourReviewersAtOnceAreAllRecordedInOrder) {
  ASSERT_GT(Start(), 0);
  const json hits = Get("/api/hits")["hits"];
  const std::int64_t shared = hits[0]["id"];
  constexpr int kReviewers = 4, kEach = 12;
  std::atomic<int> created{0}, failed{0};
  std::vector<std::thread> reviewers;
  for (int t = 0; t < kReviewers; ++t)
    reviewers.emplace_back([&, t] {
      auto c = Client();
      for (int i = 0; i < kEach; ++i) {
        // Everyone decides on the same hit, and reads hit pages in between.
        const auto r = c.Post(("/api/hits/" + std::to_string(shared) + "/decisions").c_str(),
                              Decision(i % 2 ? "inconclusive" : "identification",
                                       "reviewer " + std::to_string(t), std::to_string(i)),
                              "application/json");
        (r && r->status == 201 ? created : failed)++;
        const auto page =
            c.Get(("/api/hits/" + std::to_string(hits[i % hits.size()]["id"].get<int>())).c_str());
        if (!page || page->status != 200) failed++;
      }
    });
  for (auto& t : reviewers) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(created, kReviewers * kEach);
  const json history = Get("/api/hits/" + std::to_string(shared))["history"];
  ASSERT_EQ(history.size(), static_cast<std::size_t>(kReviewers * kEach));
  for (std::size_t i = 1; i < history.size(); ++i) {
    EXPECT_EQ(history[i]["supersedes"], history[i - 1]["id"]);
    EXPECT_GE(history[i]["at"].get<std::string>(), history[i - 1]["at"].get<std::string>());
  }
}

/// Opens a loopback connection to the server, sends `bytes`, and closes it
/// (optionally after reading what comes back).
std::string RawExchange(int port, const std::string& bytes, bool read_reply) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    (void)!write(fd, bytes.data(), bytes.size());
    if (read_reply) {
      timeval tv{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return reply;
}

TEST_F(ServeTest, SurvivesDisconnectsGarbageAndTraversal) {
  ASSERT_GT(Start(), 0);
  const std::int64_t id = Get("/api/hits")["hits"][0]["id"];
  // Clients that go away mid-request: half a request line; a POST whose
  // body never arrives; a hit page whose answer is never read.
  RawExchange(port_, "GET /api/hi", false);
  RawExchange(port_,
              "POST /api/hits/" + std::to_string(id) +
                  "/decisions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"decision\":",
              false);
  for (int i = 0; i < 5; ++i)
    RawExchange(port_, "GET /api/hits/" + std::to_string(id) + "/plot.png HTTP/1.1\r\nHost: x\r\n\r\n",
                false);
  // Garbage: a 400, not a crash.
  const std::string garbage = RawExchange(port_, std::string("\x01\xff\x00 nonsense\r\n\r\n", 16), true);
  EXPECT_TRUE(garbage.empty() || garbage.find(" 400 ") != std::string::npos) << garbage;
  // Path traversal out of the UI folder is refused.
  const std::string traversal = RawExchange(
      port_, "GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  EXPECT_EQ(traversal.find("root:"), std::string::npos);
  const std::string vendor = RawExchange(
      port_, "GET /vendor/../../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
  EXPECT_EQ(vendor.find("root:"), std::string::npos);
  // Still serving, and the half-sent decision was not recorded.
  EXPECT_EQ(Get("/api/health")["ok"], true);
  EXPECT_TRUE(Get("/api/hits/" + std::to_string(id))["history"].empty());
  // The UI is served.
  auto c = Client();
  const auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
}

TEST_F(ServeTest, AcknowledgedDecisionsSurviveSigkill) {
  ASSERT_GT(Start(), 0);
  const json hits = Get("/api/hits")["hits"];
  std::vector<std::int64_t> acknowledged;  // decision ids the server answered 201 for
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto c = Client();
    c.set_read_timeout(5, 0);
    for (int i = 0; !stop; ++i) {
      const auto r = c.Post(
          ("/api/hits/" + std::to_string(hits[i % hits.size()]["id"].get<int>()) + "/decisions").c_str(),
          Decision("inconclusive", "crash tester", std::to_string(i)), "application/json");
      if (!r) break;  // the server is gone
      if (r->status == 201) acknowledged.push_back(json::parse(r->body)["id"]);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(server_->Kill(), 128 + SIGKILL);
  pid_ = -1;
  stop = true;
  writer.join();
  ASSERT_GT(acknowledged.size(), 0u);
  auto db = index::Database::Open(db_, false);
  EXPECT_TRUE(db->Verify(false).ok());
  std::set<std::int64_t> stored;
  for (const auto& d : db->Decisions()) stored.insert(d.id);
  for (std::int64_t id : acknowledged) EXPECT_TRUE(stored.count(id)) << "lost acknowledged decision " << id;
  // And the server starts again on it.
  db.reset();
  ASSERT_GT(Start(), 0);
  EXPECT_EQ(Get("/api/health")["ok"], true);
}

TEST_F(ServeTest, ReviewCommandsAndReports) {
  const CliResult list = RunCli({"hits", "--db", db_, "--json"});
  ASSERT_EQ(list.status, 0) << list.err;
  const json hits = json::parse(list.out);
  const std::size_t pairs = Pairs();
  ASSERT_EQ(hits.size(), pairs);
  const std::string id = std::to_string(hits[0]["id"].get<std::int64_t>());
  // A bad decision: one line, nothing changed.
  CliResult bad = RunCli({"review", "--db", db_, id, "--decision", "match", "--examiner", "A"});
  EXPECT_NE(bad.status, 0);
  bad = RunCli({"review", "--db", db_, id, "--decision", "identification"});
  EXPECT_NE(bad.status, 0);
  EXPECT_EQ(LineCount(bad.err), 1) << bad.err;
  EXPECT_NE(bad.err.find("examiner"), std::string::npos) << bad.err;
  bad = RunCli({"review", "--db", db_, "99999", "--decision", "identification", "--examiner", "A"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("no such hit"), std::string::npos) << bad.err;
  EXPECT_EQ(json::parse(RunCli({"review", "--db", db_, id, "--history", "--json"}).out).size(), 0u);
  const CliResult ok = RunCli({"review", "--db", db_, id, "--decision", "identification", "--examiner",
                               "A. Examiner", "--note", "breech face and firing pin agree"});
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_NE(ok.out.find("identification by A. Examiner"), std::string::npos) << ok.out;
  const CliResult history = RunCli({"review", "--db", db_, id, "--history"});
  EXPECT_NE(history.out.find("(current)"), std::string::npos) << history.out;
  EXPECT_EQ(json::parse(RunCli({"hits", "--db", db_, "--json"}).out).size(), pairs - 1);  // one fewer pending
  EXPECT_EQ(json::parse(RunCli({"hits", "--db", db_, "--status", "identification", "--json"}).out).size(),
            1u);
  const json links = json::parse(RunCli({"links", "--db", db_, "--json"}).out);
  ASSERT_EQ(links["clusters"].size(), 1u);
  EXPECT_EQ(links["clusters"][0]["jurisdictions"], json::array({"NL"}));
  const CliResult dot = RunCli({"links", "--db", db_, "--dot"});
  EXPECT_NE(dot.out.find("graph toolmark_links"), std::string::npos);
  EXPECT_NE(RunCli({"links", "--db", db_}).out.find("cluster 1: 2 items"), std::string::npos);
  // Reports: a hit and a case, self-contained HTML.
  const std::string hit_report = local_ / "hit.html", case_report = local_ / "case.html";
  const CliResult r1 = RunCli({"report", "--db", db_, id, "--out", hit_report});
  ASSERT_EQ(r1.status, 0) << r1.err;
  std::stringstream html;
  html << std::ifstream(hit_report).rdbuf();
  EXPECT_NE(html.str().find("Decision history"), std::string::npos);
  EXPECT_NE(html.str().find("breech face and firing pin agree"), std::string::npos);
  EXPECT_NE(html.str().find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(html.str().find("reproduced"), std::string::npos);
  EXPECT_EQ(html.str().find("src=\"http"), std::string::npos) << "nothing from the network";
  const CliResult r2 = RunCli({"report", "--db", db_, "c1", "--out", case_report});
  ASSERT_EQ(r2.status, 0) << r2.err;
  std::stringstream case_html;
  case_html << std::ifstream(case_report).rdbuf();
  EXPECT_NE(case_html.str().find("Cluster 1"), std::string::npos);
  const CliResult missing = RunCli({"report", "--db", db_, "99999", "--hit", "--out", local_ / "x.html"});
  EXPECT_NE(missing.status, 0);
  EXPECT_EQ(LineCount(missing.err), 1);
  EXPECT_FALSE(fs::exists(local_ / "x.html"));
  EXPECT_NE(RunCli({"report", "--db", db_, "no-such-case", "--out", local_ / "y.html"}).status, 0);
}

}  // namespace
}  // namespace toolmark::testing
