// Cross-border exchange with three jurisdictions in one run (NL, DE, FR:
// separate databases, separate servers on loopback): signed packages at
// both levels, every refusal of import with nothing changed, access control
// for every role and endpoint, and federated search with partners that are
// down, slow or die mid-query.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "run_cli.h"
#include "server_process.h"
#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/index/database.h"
#include "toolmark/ingest/zip_archive.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Slurp(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path, std::ios::binary).rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

/// Runs toolmark and expects success; returns stdout.
std::string Ok(const std::vector<std::string>& args) {
  const CliResult r = RunCli(args);
  EXPECT_EQ(r.status, 0) << args[0] << ": " << r.err;
  return r.out;
}

std::string PublicKey(const std::string& db) {
  return json::parse(Ok({"keys", "show", "--db", db, "--json"}))["public_key"];
}

std::string TokenOf(const std::string& out) {
  const auto at = out.find("token ");
  return at == std::string::npos ? "" : out.substr(at + 6, out.find('\n', at) - at - 6);
}

/// The three jurisdictions' databases, built once: NL holds the test fires
/// (shot 1 of firearms 0–2), DE crime-scene evidence (shot 2 of firearms 0
/// and 1), FR shot 2 of firearm 2. DE and FR trust NL; NL trusts DE.
class Exchange : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    base_ = new TempDir();
    const TempDir& b = *base_;
    Ok({"synth", b / "cc", "--kind", "cartridge_case", "--firearms", "3", "--per-firearm", "2", "--size",
        "96", "--seed", "11"});
    for (const char* d : {"nl", "de", "fr"}) fs::create_directories(b / d);
    for (int f = 0; f < 3; ++f) {
      const std::string n = "cc-f000" + std::to_string(f);
      fs::copy(b / ("cc/" + n + "-s1.x3p"), b / ("nl/" + n + "-s1.x3p"));
      fs::copy(b / ("cc/" + n + "-s2.x3p"), b / (std::string(f < 2 ? "de/" : "fr/") + n + "-s2.x3p"));
    }
    Ok({"ingest", "--db", b / "nl-db", "--case", "NL-TF-1", "--kind", "cartridge_case", "--role", "reference",
        "--jurisdiction", "NL", b / "nl"});
    Ok({"ingest", "--db", b / "de-db", "--case", "DE-CS-9", "--kind", "cartridge_case", "--role",
        "questioned", "--jurisdiction", "DE", b / "de"});
    Ok({"ingest", "--db", b / "fr-db", "--case", "FR-CS-4", "--kind", "cartridge_case", "--role",
        "questioned", "--jurisdiction", "FR", b / "fr"});
    for (const auto& [db, j] : {std::pair{"nl-db", "NL"}, {"de-db", "DE"}, {"fr-db", "FR"}})
      Ok({"keys", "init", "--db", b / db, "--jurisdiction", j});
    Ok({"keys", "trust", "--db", b / "de-db", "--jurisdiction", "NL", "--key", PublicKey(b / "nl-db")});
    Ok({"keys", "trust", "--db", b / "fr-db", "--jurisdiction", "NL", "--key", PublicKey(b / "nl-db")});
    Ok({"keys", "trust", "--db", b / "nl-db", "--jurisdiction", "DE", "--key", PublicKey(b / "de-db")});
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }
  void SetUp() override {
    for (const char* db : {"nl-db", "de-db", "fr-db"})
      fs::copy(*base_ / db, dir_ / db, fs::copy_options::recursive);
  }
  std::string Db(const char* name) const { return dir_ / name; }

  static TempDir* base_;
  TempDir dir_;
};
TempDir* Exchange::base_ = nullptr;

/// What an import must leave alone: items, origins, imports, arrays.
struct Snapshot {
  std::size_t items = 0, origins = 0, leftovers = 0;
  bool operator==(const Snapshot& o) const {
    return items == o.items && origins == o.origins && leftovers == o.leftovers;
  }
};
Snapshot Take(const std::string& folder) {
  auto db = index::Database::Open(folder, false);
  const auto report = db->Verify(false);
  EXPECT_TRUE(report.ok());
  return {db->List().size(), db->Origins().size(), report.leftovers.size()};
}

TEST_F(Exchange, FeaturesPackageGivesCrossBorderHits) {
  const std::string pkg = dir_ / "nl-to-de.tmpkg";
  const std::string out = Ok({"export", "--db", Db("nl-db"), "--items", "1,2,3", "--to", "DE", pkg});
  EXPECT_NE(out.find("3 items for DE (features)"), std::string::npos) << out;
  Ok({"import", "--db", Db("de-db"), pkg});
  {
    auto db = index::Database::Open(Db("de-db"), false);
    const auto items = db->List();
    ASSERT_EQ(items.size(), 5u);
    EXPECT_EQ(items[2].jurisdiction, "NL") << "imported items keep their origin";
    EXPECT_TRUE(items[2].firearm.truth_label.empty()) << "ground truth never travels";
    EXPECT_EQ(db->Origins().size(), 3u);
    EXPECT_THROW(db->LoadSurface(items[2].id), Error) << "features level: no scan travels";
    EXPECT_EQ(db->Shares().at(items[2].id), std::vector<std::string>{"DE"});
  }
  const json hits = json::parse(Ok({"correlate", "--db", Db("de-db"), "--top", "3", "--json"}));
  ASSERT_EQ(hits.size(), 2u) << "only DE's own scans are queries";
  for (const json& q : hits) {
    const json& top = q["hits"][0];
    EXPECT_EQ(top["jurisdiction"], "NL") << q.dump();
    // Same firearm: DE's f000k-s2 against NL's f000k-s1.
    EXPECT_EQ(top["file"].get<std::string>().substr(0, 8), q["file"].get<std::string>().substr(0, 8))
        << q.dump();
  }
  const json review = json::parse(Ok({"hits", "--db", Db("de-db"), "--json"}));
  int cross = 0;
  for (const json& h : review) {
    cross += h["cross_border"].get<bool>();
    if (h["candidate"]["jurisdiction"] == "NL") {
      EXPECT_EQ(h["score_kind"], "quick");
    }
  }
  EXPECT_GT(cross, 0);
}

TEST_F(Exchange, ScansPackageComparesFully) {
  const std::string pkg = dir_ / "nl-to-fr.tmpkg";
  Ok({"export", "--db", Db("nl-db"), "--items", "3", "--to", "FR", "--level", "scans", pkg});
  Ok({"import", "--db", Db("fr-db"), pkg});
  auto db = index::Database::Open(Db("fr-db"), false);
  ASSERT_EQ(db->List().size(), 2u);
  EXPECT_NO_THROW(db->LoadSurface(2));
  EXPECT_TRUE(db->Verify(false).ok());
  db.reset();
  const json hits = json::parse(Ok({"correlate", "--db", Db("fr-db"), "--top", "3", "--json"}));
  const json& top = hits[0]["hits"][0];
  EXPECT_EQ(top["jurisdiction"], "NL");
  EXPECT_EQ(top["file"], "cc-f0002-s1.x3p");
  // Imported evidence is not the importer's to pass on.
  const CliResult again =
      RunCli({"export", "--db", Db("fr-db"), "--items", "2", "--to", "DE", dir_ / "x.tmpkg"});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("belongs to NL"), std::string::npos) << again.err;
}

/// The entries of a package, to rebuild it changed.
std::vector<std::pair<std::string, std::string>> Entries(const std::string& path) {
  const std::string bytes = Slurp(path);
  const ingest::ZipReader zip(bytes, 1000);
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& n : zip.Names()) out.emplace_back(n, zip.ReadAtMost(n, 1 << 30));
  return out;
}
void Write(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  Spit(path, ingest::BuildZip(entries, {}));
}
std::string& Entry(std::vector<std::pair<std::string, std::string>>& entries, const std::string& name) {
  for (auto& [n, b] : entries)
    if (n == name) return b;
  throw std::runtime_error("no entry " + name);
}

TEST_F(Exchange, EveryRefusalOfImportChangesNothing) {
  const std::string good = dir_ / "good.tmpkg";
  Ok({"export", "--db", Db("nl-db"), "--items", "1,2", "--to", "DE", "--level", "scans", good});
  const Snapshot before = Take(Db("de-db"));
  const auto refused = [&](const std::string& pkg, const std::string& why, const char* label) {
    const CliResult r = RunCli({"import", "--db", Db("de-db"), pkg});
    EXPECT_NE(r.status, 0) << label;
    EXPECT_EQ(LineCount(r.err), 1) << label << ": " << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << label << ": " << r.err;
    EXPECT_TRUE(Take(Db("de-db")) == before) << label << ": the database changed";
  };
  {  // unsigned
    auto e = Entries(good);
    e.erase(std::remove_if(e.begin(), e.end(), [](const auto& x) { return x.first == "manifest.sig"; }),
            e.end());
    Write(dir_ / "unsigned.tmpkg", e);
    refused(dir_ / "unsigned.tmpkg", "unsigned package", "unsigned");
  }
  {  // a bad signature
    auto e = Entries(good);
    std::string& sig = Entry(e, "manifest.sig");
    sig[10] = sig[10] == '0' ? '1' : '0';
    Write(dir_ / "badsig.tmpkg", e);
    refused(dir_ / "badsig.tmpkg", "does not verify", "bad signature");
  }
  {  // the manifest changed after signing (e.g. the addressee)
    auto e = Entries(good);
    std::string& m = Entry(e, "manifest.json");
    m.replace(m.find("\"DE\""), 4, "\"DK\"");
    Write(dir_ / "manifest.tmpkg", e);
    refused(dir_ / "manifest.tmpkg", "does not verify", "changed manifest");
  }
  {  // one changed byte in a scan
    auto e = Entries(good);
    std::string& scan = Entry(e, "items/0/scan.x3p");
    scan[scan.size() / 2] ^= 0x01;
    Write(dir_ / "byte.tmpkg", e);
    refused(dir_ / "byte.tmpkg", "SHA-256 does not match", "changed byte");
  }
  {  // a file the signed manifest does not list
    auto e = Entries(good);
    e.emplace_back("items/0/extra.bin", "smuggled");
    Write(dir_ / "extra.tmpkg", e);
    refused(dir_ / "extra.tmpkg", "not in the signed manifest", "extra file");
  }
  {  // signed by a key DE does not trust (FR's)
    const std::string fr = dir_ / "fr.tmpkg";
    Ok({"export", "--db", Db("fr-db"), "--items", "1", "--to", "DE", fr});
    refused(fr, "does not trust", "unknown key");
  }
  {  // addressed to another jurisdiction
    const std::string to_fr = dir_ / "to-fr.tmpkg";
    Ok({"export", "--db", Db("nl-db"), "--items", "1", "--to", "FR", to_fr});
    refused(to_fr, "addressed to FR", "wrong addressee");
  }
  {  // an incompatible feature version, correctly signed by NL
    auto e = Entries(good);
    json m = json::parse(Entry(e, "manifest.json"));
    m["feature_versions"]["cmc"] = "cmc-0.1.0";
    const std::string text = m.dump(2);
    const std::string hex = [&] {
      std::string s = Slurp(Db("nl-db") + "/keys/signing.key");
      return s.substr(0, 128);
    }();
    unsigned char sk[64], sig[64];
    size_t n = 0;
    ASSERT_EQ(sodium_hex2bin(sk, 64, hex.data(), hex.size(), nullptr, &n, nullptr), 0);
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()), text.size(), sk);
    char sig_hex[129];
    sodium_bin2hex(sig_hex, sizeof sig_hex, sig, 64);
    Entry(e, "manifest.json") = text;
    Entry(e, "manifest.sig") = std::string(sig_hex) + "\n";
    Write(dir_ / "version.tmpkg", e);
    refused(dir_ / "version.tmpkg", "feature version", "wrong version");
  }
  {  // not a package at all; a truncated one
    Spit(dir_ / "garbage.tmpkg", "PK\x03\x04 this is not a zip file at all");
    refused(dir_ / "garbage.tmpkg", "zip", "garbage");
    const std::string bytes = Slurp(good);
    Spit(dir_ / "truncated.tmpkg", bytes.substr(0, bytes.size() / 2));
    refused(dir_ / "truncated.tmpkg", "zip", "truncated");
  }
  // The good package imports; the same package again is a replay.
  Ok({"import", "--db", Db("de-db"), good});
  const Snapshot after = Take(Db("de-db"));
  EXPECT_EQ(after.items, before.items + 2);
  const CliResult replay = RunCli({"import", "--db", Db("de-db"), good});
  EXPECT_NE(replay.status, 0);
  EXPECT_NE(replay.err.find("replay"), std::string::npos) << replay.err;
  EXPECT_TRUE(Take(Db("de-db")) == after);
}

httplib::Result Call(const std::string& url, const std::string& method, const std::string& path,
                     const std::string& token, const std::string& body = "") {
  httplib::Client c(url);
  c.set_read_timeout(30, 0);
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  if (method == "POST") return c.Post(path.c_str(), h, body, "application/json");
  return c.Get(path.c_str(), h);
}

int Status(const std::string& url, const std::string& method, const std::string& path,
           const std::string& token, const std::string& body = "") {
  const auto r = Call(url, method, path, token, body);
  return r ? r->status : -1;
}

int AuditCount(const std::string& db, const std::string& action, const std::string& like) {
  sqlite3* raw = nullptr;
  sqlite3_open((db + "/catalog.sqlite").c_str(), &raw);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(raw, "SELECT count(*) FROM audit WHERE action = ? AND detail LIKE ?", -1, &s, nullptr);
  sqlite3_bind_text(s, 1, action.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, like.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_step(s);
  const int n = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return n;
}

TEST_F(Exchange, EveryRoleAndEndpointIsEnforced) {
  const std::string de = Db("de-db");
  Ok({"export", "--db", Db("nl-db"), "--items", "1,2,3", "--to", "DE", dir_ / "p.tmpkg"});
  Ok({"import", "--db", de, dir_ / "p.tmpkg"});
  Ok({"correlate", "--db", de, "--top", "3"});
  // Without users the server does not start; --open only on loopback.
  EXPECT_FALSE(ServerProcess({"--db", de}).ok());
  EXPECT_FALSE(ServerProcess({"--db", de, "--open", "--host", "0.0.0.0"}).ok());
  std::map<std::string, std::string> token;
  for (const auto& [name, role, j] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"tech", "technician", "DE"},
                                                                      {"ex", "examiner", "DE"},
                                                                      {"inv", "investigator", "DE"},
                                                                      {"adm", "admin", "DE"},
                                                                      {"frx", "examiner", "FR"},
                                                                      {"gone", "examiner", "DE"}})
    token[name] = TokenOf(Ok({"users", "add", "--db", de, name, "--role", role, "--jurisdiction", j}));
  Ok({"users", "revoke", "--db", de, "gone"});
  const std::string nl_token = TokenOf(
      Ok({"users", "add", "--db", Db("nl-db"), "nlx", "--role", "admin"}));  // another jurisdiction's server
  ServerProcess server({"--db", de});
  ASSERT_TRUE(server.ok()) << server.first_line();
  const std::string url = server.url();
  // The tokens are stored hashed only.
  {
    const std::string catalog = Slurp(de + "/catalog.sqlite") + Slurp(de + "/catalog.sqlite-wal");
    EXPECT_EQ(catalog.find(token["ex"]), std::string::npos);
  }
  // A DE–DE hit and a DE–NL (cross-border) hit.
  const json all = json::parse(Call(url, "GET", "/api/hits?status=all", token["adm"])->body);
  std::string local_hit, cross_hit;
  for (const json& h : all["hits"]) {
    const std::string id = std::to_string(h["id"].get<int>());
    if (h["cross_border"].get<bool>())
      cross_hit = id;
    else
      local_hit = id;
  }
  ASSERT_FALSE(local_hit.empty());
  ASSERT_FALSE(cross_hit.empty());
  const std::string decision = R"({"decision": "inconclusive", "examiner": "someone else", "note": "n"})";
  struct Route {
    std::string method, path;
  };
  const std::vector<Route> reads = {{"GET", "/api/hits"},
                                    {"GET", "/api/hits/" + local_hit},
                                    {"GET", "/api/hits/" + local_hit + "/explain"},
                                    {"GET", "/api/hits/" + local_hit + "/plot.png"},
                                    {"GET", "/api/hits/" + local_hit + "/image/query.png"},
                                    {"GET", "/api/cases/DE-CS-9"},
                                    {"GET", "/api/links"}};
  const Route write = {"POST", "/api/hits/" + local_hit + "/decisions"};
  for (const std::string& who : {std::string(), std::string("tm_bogus"), token["gone"], nl_token}) {
    for (const Route& r : reads)
      EXPECT_EQ(Status(url, r.method, r.path, who), 401) << r.path << " as " << who;
    EXPECT_EQ(Status(url, write.method, write.path, who, decision), 401);
    EXPECT_EQ(Status(url, "GET", "/api/me", who), 401);
  }
  EXPECT_EQ(Status(url, "GET", "/api/health", ""), 200);
  for (const Route& r : reads) {
    EXPECT_EQ(Status(url, r.method, r.path, token["tech"]), 403) << r.path;
    for (const char* reader : {"ex", "inv", "adm"})
      EXPECT_EQ(Status(url, r.method, r.path, token[reader]), 200) << r.path;
  }
  EXPECT_EQ(Status(url, "GET", "/api/me", token["tech"]), 200);
  EXPECT_EQ(Status(url, write.method, write.path, token["tech"], decision), 403);
  EXPECT_EQ(Status(url, write.method, write.path, token["inv"], decision), 403);
  const auto made = Call(url, write.method, write.path, token["ex"], decision);
  ASSERT_TRUE(made);
  EXPECT_EQ(made->status, 201);
  EXPECT_EQ(json::parse(made->body)["examiner"], "ex") << "the decision is the logged-in user's";
  EXPECT_EQ(Status(url, write.method, write.path, token["adm"], decision), 201);
  // A features-only hit has no images: a 400 with a message, not a crash.
  const auto noscan = Call(url, "GET", "/api/hits/" + cross_hit + "/explain", token["ex"]);
  EXPECT_EQ(noscan->status, 400);
  EXPECT_NE(noscan->body.find("features level"), std::string::npos) << noscan->body;
  // FR's examiner on DE's server: nothing of DE is visible; forged ids are "no such hit".
  EXPECT_EQ(json::parse(Call(url, "GET", "/api/hits?status=all", token["frx"])->body)["total"], 0);
  EXPECT_EQ(Status(url, "GET", "/api/hits/" + local_hit, token["frx"]), 404);
  EXPECT_EQ(Status(url, "GET", "/api/hits/" + local_hit + "/image/query.png", token["frx"]), 404);
  EXPECT_EQ(Status(url, write.method, write.path, token["frx"], decision), 404);
  EXPECT_EQ(Status(url, "GET", "/api/cases/DE-CS-9", token["frx"]), 404);
  EXPECT_TRUE(json::parse(Call(url, "GET", "/api/links", token["frx"])->body)["clusters"].empty());
  // DE shares the local hit's two items with FR: now visible, and every access is audited.
  const json hit = json::parse(Call(url, "GET", "/api/hits/" + local_hit, token["adm"])->body);
  Ok({"share", "--db", de, "--items",
      std::to_string(hit["query"]["id"].get<int>()) + "," + std::to_string(hit["candidate"]["id"].get<int>()),
      "--with", "FR"});
  EXPECT_EQ(Status(url, "GET", "/api/hits/" + local_hit, token["frx"]), 200);
  const std::set<int> shared = {hit["query"]["id"].get<int>(), hit["candidate"]["id"].get<int>()};
  const json fr_view = json::parse(Call(url, "GET", "/api/hits?status=all", token["frx"])->body);
  EXPECT_GE(fr_view["total"].get<int>(), 1);
  for (const json& h : fr_view["hits"])  // only hits between shared items (both directions)
    EXPECT_TRUE(shared.count(h["query"]["id"].get<int>()) && shared.count(h["candidate"]["id"].get<int>()));
  EXPECT_GE(AuditCount(de, "access", "frx (examiner, FR)%"), 2);
  EXPECT_EQ(AuditCount(de, "access", "ex (examiner, DE)%/api/hits/" + local_hit + "%"), 0)
      << "own evidence is not an access to shared evidence";
}

/// A partner that accepts a connection and then never answers (slow) or
/// closes it after reading the request (dies mid-query).
class FakePartner {
 public:
  explicit FakePartner(bool answer_never) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 4);
    thread_ = std::thread([this, answer_never] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[65536];
      (void)!read(c, buf, sizeof buf);
      if (answer_never)
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      close(c);  // dead mid-query
    });
  }
  ~FakePartner() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(Exchange, FederatedSearchSurvivesPartnersDownSlowAndDead) {
  Ok({"users", "add", "--db", Db("nl-db"), "ops", "--role", "admin"});
  ServerProcess nl({"--db", Db("nl-db")});
  ASSERT_TRUE(nl.ok()) << nl.first_line();
  ServerProcess gone({"--db", Db("nl-db")});
  ASSERT_TRUE(gone.ok());
  const std::string gone_url = gone.url();
  EXPECT_EQ(gone.Kill(), 128 + 9);  // a partner that is down
  FakePartner slow(true), dead(false);
  const std::string query = base_->path().string() + "/cc/cc-f0001-s2.x3p";
  const CliResult r =
      RunCli({"search", "--db", Db("de-db"), query, "--top", "3", "--json", "--partner-timeout", "2",
              "--partners", nl.url() + "," + gone_url + "," + slow.url() + "," + dead.url()});
  ASSERT_EQ(r.status, 0) << r.err;
  const json out = json::parse(r.out)[0];
  EXPECT_EQ(out["partial"], true);
  const json& p = out["partners"];
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0]["status"], "ok") << p[0].dump();
  EXPECT_EQ(p[0]["jurisdiction"], "NL");
  EXPECT_EQ(p[1]["status"], "error") << p[1].dump();
  EXPECT_EQ(p[2]["status"], "timeout") << p[2].dump();
  EXPECT_LT(p[2]["seconds"].get<double>(), 5.0);
  EXPECT_EQ(p[3]["status"], "error") << p[3].dump();
  const json& best = out["federated_hits"][0];
  EXPECT_EQ(best["jurisdiction"], "NL");
  EXPECT_EQ(best["label"], "cc-f0001-s1") << "the test fire of the same firearm, found across the border";
  EXPECT_EQ(best["cross_border"], true);
  EXPECT_GE(AuditCount(Db("nl-db"), "federated-search", "from DE%"), 1);
  // NL does not trust FR: its requests are refused (403), reported, not fatal.
  const CliResult fr = RunCli({"search", "--db", Db("fr-db"), query, "--json", "--partners", nl.url()});
  ASSERT_EQ(fr.status, 0) << fr.err;
  const json fp = json::parse(fr.out)[0]["partners"][0];
  EXPECT_EQ(fp["status"], "error");
  EXPECT_NE(fp["message"].get<std::string>().find("403"), std::string::npos) << fp.dump();
  // A forged request (DE's name, no valid signature) is refused too.
  httplib::Client c(nl.url());
  const auto forged =
      c.Post("/api/federated/search",
             {{"X-Toolmark-Jurisdiction", "DE"}, {"X-Toolmark-Signature", std::string(128, '0')}},
             R"({"from": "DE", "kind": "cartridge_case"})", "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
}

}  // namespace
}  // namespace toolmark::testing
