// Routes: a trusted partner's federated search (the partner side of
// toolmark/exchange/federation.h).
#include <algorithm>
#include <cmath>

#include "server_internal.h"
#include "toolmark/exchange/keys.h"
#include "toolmark/exchange/tls.h"
#include "toolmark/index/search.h"

namespace toolmark::serve::detail {

void Server::FederatedSearch(const httplib::Request& req, httplib::Response& res) {
  if (home_.empty()) throw HttpError{404, "this server takes no partner requests (no jurisdiction)"};
  if (!tls_ && !exchange::IsLoopbackHost(req.remote_addr))
    throw HttpError{403,
                    "partner requests need HTTPS: this server speaks plain HTTP, for loopback only "
                    "(serve --tls-cert, --tls-key)"};
  nlohmann::json body;
  try {
    body = exchange::VerifyRequest(*db_, req.body, req.get_header_value("X-Toolmark-Jurisdiction"),
                                   req.get_header_value("X-Toolmark-Signature"));
  } catch (const Error& e) {
    throw HttpError{403, e.what()};
  }
  const std::string partner = body["from"];
  std::string kind;
  std::vector<float> embedding, quick;
  std::size_t top = 10;
  try {
    kind = body.at("kind").get<std::string>();
    embedding = body.at("embedding").get<std::vector<float>>();
    quick = body.at("quick_features").get<std::vector<float>>();
    top = std::clamp<std::size_t>(body.value("top", std::size_t{10}), 1, 100);
  } catch (const nlohmann::json::exception&) {
    throw HttpError{400, "partner request: needs kind, embedding, quick_features"};
  }
  if (ParseKind(kind) != Kind::kCartridgeCase)
    throw HttpError{400, "partner request: only cartridge cases so far"};
  for (float v : embedding)
    if (!std::isfinite(v)) throw HttpError{400, "partner request: non-finite embedding"};
  index::SearchOptions o;
  o.top = top;
  o.jurisdictions = {home_};  // our own evidence only; never a third party's
  std::vector<index::SearchHit> hits;
  {
    std::lock_guard<std::mutex> lock(search_mutex_);
    index::SearchEngine engine(*db_, Kind::kCartridgeCase, o);
    std::vector<std::string> warnings;
    engine.Update(&warnings);
    index::SearchQuery q;
    q.kind = Kind::kCartridgeCase;
    q.surface_kind =
        body.value("surface", "height") == "intensity" ? SurfaceKind::kIntensity : SurfaceKind::kHeight;
    try {
      hits = engine.SearchFeatures(embedding, quick, q);
    } catch (const Error& e) {
      throw HttpError{400, std::string("partner request: ") + e.what()};
    }
  }
  nlohmann::json out = nlohmann::json::array();
  std::string ids;
  for (const index::SearchHit& h : hits) {
    out.push_back({{"item", h.item},
                   {"rank", h.rank},
                   {"score", h.score},
                   {"score_kind", "quick"},
                   {"similarity", h.similarity},
                   {"case", h.case_id},
                   {"label", h.item_label},
                   {"jurisdiction", h.jurisdiction}});
    if (!ids.empty()) ids += ',';
    ids += std::to_string(h.item);
  }
  db_->Audit("federated-search", std::nullopt,
             "from " + partner + ": " + std::to_string(hits.size()) + " candidates " + ids);
  Json(res, {{"jurisdiction", home_}, {"hits", out}});
}

}  // namespace toolmark::serve::detail
