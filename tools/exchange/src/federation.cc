// Federated search: the client side (the partner's side is a route of the
// review server, tools/serve).
#include "toolmark/exchange/federation.h"

#include <httplib.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/exchange/keys.h"
#include "toolmark/exchange/tls.h"

namespace toolmark::exchange {
namespace {

std::string Seconds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// A partner to ask: its URL and the certificate pinned for it ("" = none).
struct Target {
  std::string url, pinned_pem;
};

/// Why a TLS connection failed, when OpenSSL said ("" otherwise).
std::string TlsDetail(httplib::Client& client, const std::string& url) {
  if (url.rfind("https://", 0) != 0) return "";
  const long verify = client.get_openssl_verify_result();  // NOLINT(runtime/int): OpenSSL's type
  if (verify == X509_V_OK) return "";
  return std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
}

/// Resolves --partners: jurisdictions to their endpoints, URLs checked (and
/// matched to an endpoint for its pinned certificate). Throws for a bad one.
std::vector<Target> Resolve(index::Database& db, const std::vector<std::string>& partners) {
  const std::vector<index::PartnerEndpoint> endpoints = db.PartnerEndpoints();
  std::vector<Target> out;
  for (const std::string& p : partners) {
    Target t{p, ""};
    const bool is_url = p.find("://") != std::string::npos;
    bool recorded = false;
    for (const index::PartnerEndpoint& e : endpoints) {
      if (is_url ? WithoutTrailingSlash(e.url) != WithoutTrailingSlash(p) : e.jurisdiction != p) continue;
      t = {e.url, e.tls_cert_pem};
      recorded = true;
    }
    Check(is_url || recorded, "partner '" + p.substr(0, 80) +
                                  "': no endpoint recorded for that jurisdiction (toolmark keys trust "
                                  "--jurisdiction " +
                                  p.substr(0, 80) + " --key … --url https://…)");
    const EndpointUrl u = ParseEndpointUrl(t.url);
    Check(u.https || IsLoopbackHost(u.host),
          "partner " + t.url.substr(0, 80) + ": plain HTTP beyond loopback is refused; use https://");
    out.push_back(t);
  }
  return out;
}

/// A private file holding a pinned certificate, removed when it goes.
class PinnedFile {
 public:
  explicit PinnedFile(const std::string& pem) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/toolmark-pin-XXXXXX";
    const int fd = mkstemp(pattern.data());
    Check(fd >= 0, "cannot write a temporary file for a pinned certificate");
    path_ = pattern;
    const bool ok = write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
    close(fd);
    Check(ok, "cannot write a temporary file for a pinned certificate");
  }
  ~PinnedFile() {
    if (!path_.empty()) unlink(path_.c_str());
  }
  PinnedFile(const PinnedFile&) = delete;
  PinnedFile& operator=(const PinnedFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

std::vector<PartnerAnswer> AskPartners(index::Database& db, const index::SearchQuery& q,
                                       const FederatedQuery& args) {
  Check(q.kind == Kind::kCartridgeCase, "search --partners: cartridge cases only so far");
  const auto cmc = DefaultComparator(Kind::kCartridgeCase).make();
  const auto prepared = cmc->Prepare(q.surface);
  nlohmann::json body = {{"kind", KindName(q.kind)},
                         {"embedding", cmc->Embed(*prepared)},
                         {"quick_features", cmc->QuickFeatures(*prepared)},
                         {"surface", SurfaceKindName(q.surface.kind)},
                         {"top", args.top}};
  const std::vector<Target> targets = Resolve(db, args.partners);
  const SignedRequest request = SignRequest(db, body);
  std::vector<PartnerAnswer> answers(targets.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < targets.size(); ++i)
    threads.emplace_back([&, i] {
      PartnerAnswer& a = answers[i];
      a.url = targets[i].url;
      const auto t0 = std::chrono::steady_clock::now();
      try {
        httplib::Client client(a.url);
        // Over HTTPS: the certificate and host name are checked, against
        // the pinned certificate alone when there is one (no other CA).
        client.enable_server_certificate_verification(true);
        std::unique_ptr<PinnedFile> pinned;
        if (!targets[i].pinned_pem.empty()) {
          pinned = std::make_unique<PinnedFile>(targets[i].pinned_pem);
          client.set_ca_cert_path(pinned->path().c_str());
        }
        const auto secs = static_cast<time_t>(args.timeout_s);
        const auto usecs = static_cast<time_t>((args.timeout_s - static_cast<double>(secs)) * 1e6);
        client.set_connection_timeout(secs, usecs);
        client.set_read_timeout(secs, usecs);
        client.set_write_timeout(secs, usecs);
        const httplib::Headers headers = {{"X-Toolmark-Jurisdiction", request.jurisdiction},
                                          {"X-Toolmark-Signature", request.signature_hex}};
        const auto r = client.Post("/api/federated/search", headers, request.body, "application/json");
        a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!r) {
          const bool slow = a.seconds >= 0.95 * args.timeout_s;
          a.status = slow ? "timeout" : "error";
          a.message = slow ? "no answer within " + Seconds(args.timeout_s) + " s"
                           : "no answer: " + httplib::to_string(r.error()) + TlsDetail(client, a.url);
          return;
        }
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(r->body);
        } catch (const nlohmann::json::exception&) {
          a.message = "HTTP " + std::to_string(r->status) + ", not JSON";
          return;
        }
        if (r->status != 200) {
          a.message = "HTTP " + std::to_string(r->status) + ": " + j.value("error", std::string("?"));
          return;
        }
        a.status = "ok";
        a.jurisdiction = j.value("jurisdiction", "");
        for (nlohmann::json h : j.value("hits", nlohmann::json::array())) {
          h["partner"] = a.url;
          h["cross_border"] = true;
          a.hits.push_back(h);
        }
      } catch (const std::exception& e) {
        a.status = "error";
        a.message = OneLine(e.what());
      }
    });
  for (auto& t : threads) t.join();
  return answers;
}

}  // namespace toolmark::exchange
