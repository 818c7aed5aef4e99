// Routes: health, the routes table, sessions (the browser's cookie) and who is asking.
#include "server_internal.h"
#include "toolmark/engine/version.h"

namespace toolmark::serve::detail {

void Server::Routes(httplib::Server& svr) {
  svr.Get("/api/health", Route(&Server::Health));
  // Sessions for the browser (images cannot send headers): the token in an
  // HttpOnly, SameSite=Strict cookie.
  svr.Post("/api/session", Route(&Server::PostSession));
  svr.Delete("/api/session", Route(&Server::DeleteSession));
  svr.Get("/api/me", Route(&Server::Me));
  svr.Get("/api/hits", Route(&Server::ListHits));
  svr.Get(R"(/api/hits/([^/]+))", Route(&Server::GetHit));
  svr.Get(R"(/api/hits/([^/]+)/explain)", Route(&Server::Explain));
  svr.Get(R"(/api/hits/([^/]+)/plot\.png)", Route(&Server::Plot));
  svr.Get(R"(/api/hits/([^/]+)/image/(query|candidate)\.png)", Route(&Server::Image));
  svr.Post(R"(/api/hits/([^/]+)/decisions)", Route(&Server::PostDecision));
  svr.Get(R"(/api/cases/(.+))", Route(&Server::GetCase));
  svr.Get("/api/links", Route(&Server::Links));
  // A trusted partner's federated search: numbers only (an embedding and
  // quick features), signed with the partner's key; answered with
  // references and quick scores over this jurisdiction's own evidence.
  svr.Post("/api/federated/search", Route(&Server::FederatedSearch));
}

void Server::Health(const httplib::Request& /*req*/, httplib::Response& res) {
  Json(res, {{"ok", true}, {"version", Version()}});
}

void Server::PostSession(const httplib::Request& req, httplib::Response& res) {
  if (req.body.size() > kMaxBody) throw HttpError{413, "too large"};
  std::string token;
  try {
    token = nlohmann::json::parse(req.body).at("token").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    throw HttpError{400, "the body must be {\"token\": \"…\"}"};
  }
  httplib::Request probe;
  probe.headers.emplace("Authorization", "Bearer " + token);
  const Principal p = Authenticate(probe);
  res.set_header("Set-Cookie", "toolmark_session=" + token + "; HttpOnly; SameSite=Strict; Path=/");
  Json(res, {{"name", p.name}, {"role", p.role}, {"jurisdiction", p.jurisdiction}});
}

void Server::DeleteSession(const httplib::Request& /*req*/, httplib::Response& res) {
  res.set_header("Set-Cookie", "toolmark_session=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/");
  Json(res, {{"ok", true}});
}

void Server::Me(const httplib::Request& req, httplib::Response& res) {
  const Principal p = Authenticate(req);
  Json(res, {{"name", p.name}, {"role", p.role}, {"jurisdiction", p.jurisdiction}, {"open", p.open}});
}

}  // namespace toolmark::serve::detail
