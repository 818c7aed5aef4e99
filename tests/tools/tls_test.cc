// HTTPS between servers (docs/exchange.md): `serve --tls-cert/--tls-key`
// (and from a --config file), bad TLS files refused in one line, plain HTTP
// refused beyond loopback on both sides of a federated search, and a
// partner's certificate checked: pinned (keys trust --tls-cert), its host
// name, and the system trust store otherwise. The certificates are made
// here, with OpenSSL.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "run_cli.h"
#include "server_process.h"
#include "test_util.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

/// Writes a self-signed certificate for `sans` (e.g. "IP:127.0.0.1") to
/// <stem>.pem and its private key to <stem>-key.pem; valid from
/// `from_days` to `to_days` from now.
void MakeCertificate(const std::string& stem, const std::string& sans, int from_days = -1, int to_days = 30) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  ASSERT_TRUE(key);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()),
                   static_cast<long>(std::hash<std::string>{}(stem)&0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 86400L * from_days);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * to_days);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("toolmark test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, sans.c_str());
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  ASSERT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  FILE* c = std::fopen((stem + ".pem").c_str(), "w");
  FILE* k = std::fopen((stem + "-key.pem").c_str(), "w");
  ASSERT_TRUE(c && k);
  PEM_write_X509(c, cert.get());
  PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(c);
  std::fclose(k);
}

std::string PublicKey(const std::string& db) {
  return json::parse(CliOk({"keys", "show", "--db", db, "--json"}))["public_key"];
}

/// An IPv4 address of this machine that is not loopback ("" when none).
std::string NonLoopbackAddress() {
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return "";
  std::string found;
  for (ifaddrs* a = all; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  freeifaddrs(all);
  return found;
}

/// NL holds test fires; DE asks for the second shot of the same firearm.
class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    CliOk({"synth", dir_ / "cc", "--kind", "cartridge_case", "--firearms", "2", "--per-firearm", "2",
           "--size", "96", "--seed", "5"});
    fs::create_directories(dir_ / "nl");
    for (const char* f : {"cc-f0000-s1.x3p", "cc-f0001-s1.x3p"})
      fs::copy(dir_ / ("cc/" + std::string(f)), dir_ / ("nl/" + std::string(f)));
    CliOk({"ingest", "--db", nl_, "--case", "NL-TF-1", "--kind", "cartridge_case", "--role", "reference",
           "--jurisdiction", "NL", dir_ / "nl"});
    CliOk({"keys", "init", "--db", nl_, "--jurisdiction", "NL"});
    CliOk({"keys", "init", "--db", de_, "--jurisdiction", "DE"});
    CliOk({"keys", "trust", "--db", nl_, "--jurisdiction", "DE", "--key", PublicKey(de_)});
    CliOk({"users", "add", "--db", nl_, "ops", "--role", "admin"});
    MakeCertificate(dir_ / "nl", "IP:127.0.0.1");
    MakeCertificate(dir_ / "other", "IP:127.0.0.1");
    query_ = dir_ / "cc/cc-f0001-s2.x3p";
  }
  /// DE's federated search of its query; the one partner's answer.
  json Ask(const std::string& partner) {
    const CliResult r = RunCli({"search", "--db", de_, query_, "--top", "2", "--json", "--partner-timeout",
                                "5", "--partners", partner});
    EXPECT_EQ(r.status, 0) << r.err;
    return r.status == 0 ? json::parse(r.out)[0]["partners"][0] : json();
  }

  TempDir dir_;
  std::string nl_ = dir_ / "nl-db", de_ = dir_ / "de-db", query_;
};

TEST_F(Tls, FederatedSearchOverHttpsChecksThePartnersCertificate) {
  ServerProcess nl({"--db", nl_, "--tls-cert", dir_ / "nl.pem", "--tls-key", dir_ / "nl-key.pem"});
  ASSERT_TRUE(nl.ok()) << nl.first_line();
  ASSERT_EQ(nl.url().rfind("https://", 0), 0u) << nl.url();
  const std::string port = std::to_string(nl.port());
  const std::string key = PublicKey(nl_);

  // No endpoint recorded: the system trust store decides, and it does not know a self-signed certificate.
  json a = Ask(nl.url());
  EXPECT_EQ(a["status"], "error") << a.dump();
  EXPECT_NE(a["message"].get<std::string>().find("certificate"), std::string::npos) << a.dump();

  // Pinned: NL's own certificate is accepted, by jurisdiction or by URL.
  CliOk({"keys", "trust", "--db", de_, "--jurisdiction", "NL", "--key", key, "--url", nl.url(), "--tls-cert",
         dir_ / "nl.pem"});
  for (const std::string& partner : {std::string("NL"), nl.url() + "/"}) {
    a = Ask(partner);
    EXPECT_EQ(a["status"], "ok") << a.dump();
    EXPECT_EQ(a["jurisdiction"], "NL");
  }
  const json listed = json::parse(CliOk({"keys", "list", "--db", de_, "--json"}))[0];
  EXPECT_EQ(listed["url"], nl.url());
  EXPECT_EQ(listed["tls_cert_sha256"].get<std::string>().size(), 32u * 3 - 1) << listed.dump();

  // Another certificate pinned for NL: the server's own is refused.
  CliOk({"keys", "trust", "--db", de_, "--jurisdiction", "NL", "--key", key, "--url", nl.url(), "--tls-cert",
         dir_ / "other.pem"});
  a = Ask("NL");
  EXPECT_EQ(a["status"], "error") << a.dump();
  EXPECT_NE(a["message"].get<std::string>().find("certificate"), std::string::npos) << a.dump();

  // The right certificate, the wrong host name (it names 127.0.0.1 only).
  CliOk({"keys", "trust", "--db", de_, "--jurisdiction", "NL", "--key", key, "--url",
         "https://localhost:" + port, "--tls-cert", dir_ / "nl.pem"});
  a = Ask("NL");
  EXPECT_EQ(a["status"], "error") << a.dump();

  // Plain HTTP to an HTTPS server gets no answer.
  a = Ask("http://127.0.0.1:" + port);
  EXPECT_EQ(a["status"], "error") << a.dump();
}

TEST_F(Tls, PlainHttpIsRefusedBeyondLoopback) {
  // The asking side: before anything is sent, in one line.
  EXPECT_NE(CliRefused({"search", "--db", de_, query_, "--partners", "http://192.0.2.77:8765"})
                .find("plain HTTP beyond loopback"),
            std::string::npos);
  EXPECT_NE(CliRefused({"search", "--db", de_, query_, "--partners", "FR"}).find("no endpoint recorded"),
            std::string::npos);
  EXPECT_NE(
      CliRefused({"search", "--db", de_, query_, "--partners", "https://host/path"}).find("nothing after"),
      std::string::npos);
  EXPECT_NE(CliRefused({"keys", "trust", "--db", de_, "--jurisdiction", "NL", "--key", PublicKey(nl_),
                        "--url", "http://192.0.2.77:8765"})
                .find("plain HTTP beyond loopback"),
            std::string::npos);
  // The serving side: plain HTTP off loopback needs --plain-http, and then
  // takes partner requests from loopback only.
  EXPECT_NE(CliRefused({"serve", "--db", nl_, "--host", "0.0.0.0", "--port", "0"}).find("beyond loopback"),
            std::string::npos);
  const std::string address = NonLoopbackAddress();
  if (address.empty()) GTEST_SKIP() << "this machine has no non-loopback IPv4 address to test from";
  ServerProcess nl({"--db", nl_, "--host", "0.0.0.0", "--plain-http"});
  ASSERT_TRUE(nl.ok()) << nl.first_line();
  const std::string body = R"({"from": "DE", "kind": "cartridge_case"})";
  const httplib::Headers headers = {{"X-Toolmark-Jurisdiction", "DE"},
                                    {"X-Toolmark-Signature", std::string(128, '0')}};
  httplib::Client remote("http://" + address + ":" + std::to_string(nl.port()));
  const auto far = remote.Post("/api/federated/search", headers, body, "application/json");
  ASSERT_TRUE(far);
  EXPECT_EQ(far->status, 403);
  EXPECT_NE(far->body.find("need HTTPS"), std::string::npos) << far->body;
  httplib::Client local(nl.url());
  const auto near = local.Post("/api/federated/search", headers, body, "application/json");
  ASSERT_TRUE(near);
  EXPECT_EQ(near->status, 403) << "forged: refused for its signature";
  EXPECT_EQ(near->body.find("need HTTPS"), std::string::npos) << near->body;
}

TEST_F(Tls, BadTlsFilesAreRefusedInOneLine) {
  MakeCertificate(dir_ / "expired", "IP:127.0.0.1", -30, -1);
  { std::ofstream(dir_ / "garbage.pem") << "not a certificate\n"; }
  const std::string cert = dir_ / "nl.pem", key = dir_ / "nl-key.pem";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--tls-cert", cert}, "both --tls-cert and --tls-key"},
      {{"--tls-cert", cert, "--tls-key", dir_ / "other-key.pem"}, "not the private key"},
      {{"--tls-cert", dir_ / "garbage.pem", "--tls-key", key}, "no PEM certificate"},
      {{"--tls-cert", cert, "--tls-key", cert}, "no unencrypted PEM private key"},
      {{"--tls-cert", dir_ / "expired.pem", "--tls-key", dir_ / "expired-key.pem"}, "expired"},
  };
  for (const auto& [flags, why] : cases) {
    std::vector<std::string> args = {"serve", "--db", nl_, "--port", "0"};
    args.insert(args.end(), flags.begin(), flags.end());
    EXPECT_NE(CliRefused(args).find(why), std::string::npos) << why;
  }
  EXPECT_NE(CliRefused({"keys", "trust", "--db", de_, "--jurisdiction", "NL", "--key", PublicKey(nl_),
                        "--url", "https://127.0.0.1:1", "--tls-cert", dir_ / "expired.pem"})
                .find("expired"),
            std::string::npos);
  EXPECT_NE(CliRefused({"keys", "trust", "--db", de_, "--jurisdiction", "NL", "--key", PublicKey(nl_),
                        "--url", "https://127.0.0.1:1", "--tls-cert", dir_ / "garbage.pem"})
                .find("no PEM certificate"),
            std::string::npos);
  const CliResult listed = RunCli({"keys", "list", "--db", de_, "--json"});
  EXPECT_EQ(json::parse(listed.out).size(), 0u) << "a refused trust changes nothing";
}

TEST_F(Tls, ServeTakesItsTlsFilesFromAConfigFile) {
  std::ofstream(dir_ / "serve.toml") << "# toolmark serve\n[serve]\ntls-cert = \"" << (dir_ / "nl.pem")
                                     << "\"\ntls-key = \"" << (dir_ / "nl-key.pem") << "\"\n";
  ServerProcess nl({"--db", nl_, "--config", dir_ / "serve.toml"});
  ASSERT_TRUE(nl.ok()) << nl.first_line();
  EXPECT_EQ(nl.url().rfind("https://", 0), 0u);
  httplib::Client client(nl.url());
  client.set_ca_cert_path(dir_ / "nl.pem");
  client.enable_server_certificate_verification(true);
  const auto health = client.Get("/api/health");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  std::ofstream(dir_ / "bad.toml") << "tls-certificate = \"x\"\n";
  EXPECT_NE(CliRefused({"serve", "--db", nl_, "--port", "0", "--config", dir_ / "bad.toml"})
                .find("unknown setting 'tls-certificate'"),
            std::string::npos);
}

}  // namespace
}  // namespace toolmark::testing
