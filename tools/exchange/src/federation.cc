// Federated search: the client side (the partner's side is a route of the
// review server, tools/serve).
#include "toolmark/exchange/federation.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/exchange/keys.h"

namespace toolmark::exchange {
namespace {

std::string Seconds(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

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
  const SignedRequest request = SignRequest(db, body);
  std::vector<PartnerAnswer> answers(args.partners.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < args.partners.size(); ++i)
    threads.emplace_back([&, i] {
      PartnerAnswer& a = answers[i];
      a.url = args.partners[i];
      const auto t0 = std::chrono::steady_clock::now();
      try {
        httplib::Client client(a.url);
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
                           : "no answer: " + httplib::to_string(r.error());
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
