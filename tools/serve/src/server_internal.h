// Private to the serve library: the server, its requester model and its
// routes (server.cc: start, logins, visibility, audit; routes_*.cc: the API).
#pragma once

#include <httplib.h>

#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "toolmark/engine/check.h"
#include "toolmark/index/database.h"
#include "toolmark/index/review.h"
#include "toolmark/review/hit_view.h"
#include "toolmark/review/json.h"
#include "toolmark/serve/server.h"

namespace toolmark::serve::detail {

using review::ClustersJson;
using review::DecisionJson;
using review::EncodePng;
using review::HitSummaryJson;
using review::ItemRefJson;
using review::ItemsById;

inline constexpr std::size_t kViewCache = 32;       ///< hit views kept in memory
inline constexpr std::size_t kMaxBody = 64 * 1024;  ///< request bodies (decisions) at most this
inline constexpr std::size_t kMaxPartnerBody =
    8 << 20;                        ///< a partner's query (an embedding and quick features)
inline constexpr int kThreads = 8;  ///< worker threads

/// Who asks: a user (by token), or the local user of an --open server.
struct Principal {
  std::string name, jurisdiction, role;
  bool open = false;  ///< --open: sees and may do everything
};

/// A 4xx/5xx answer with its message.
struct HttpError {
  int status;
  std::string message;
};

void Json(httplib::Response& res, const nlohmann::json& j, int status = 200);
void ErrorJson(httplib::Response& res, int status, const std::string& message);
/// A path or query number (an id, a limit); 400 otherwise.
std::int64_t IdOf(const std::string& text, const char* what);

class Server {
 public:
  explicit Server(const ServeOptions& options);
  int Run();

 private:
  using Handler = void (Server::*)(const httplib::Request&, httplib::Response&);

  std::string UiDir() const;
  /// Registers every route of the API (routes_*.cc).
  void Routes(httplib::Server& svr);
  /// A route: HttpError and toolmark::Error become JSON errors.
  httplib::Server::Handler Route(Handler handler);

  /// The requester: a bearer token (Authorization header or the session
  /// cookie) of a user who is not revoked; 401 otherwise.
  Principal Authenticate(const httplib::Request& req) const;
  static void Require(const Principal& p, std::initializer_list<const char*> roles, const char* what);

  /// Items the requester may see: its jurisdiction's, and those shared with it.
  struct View {
    const Principal& p;
    std::map<index::ItemId, std::vector<std::string>> shares;
    bool Visible(const index::ItemRecord& it) const {
      if (p.open || it.jurisdiction == p.jurisdiction) return true;
      const auto s = shares.find(it.id);
      return s != shares.end() &&
             std::find(s->second.begin(), s->second.end(), p.jurisdiction) != s->second.end();
    }
    bool Visible(const index::ReviewHit& h) const { return Visible(h.query) && Visible(h.candidate); }
  };
  View ViewOf(const Principal& p) const;

  /// Audits an access to evidence of another jurisdiction (shared with the requester).
  void AuditShared(const Principal& p, const httplib::Request& req, const std::set<index::ItemId>& items,
                   const std::map<index::ItemId, index::ItemRecord>& records);
  void AuditShared(const Principal& p, const httplib::Request& req, const index::ReviewHit& h);
  index::ReviewHit HitOr404(std::int64_t id, const View& view);
  std::shared_ptr<const review::HitView> HitViewOf(const index::ReviewHit& hit);
  /// The hit view of the hit named in the path, for a reader allowed to see it.
  std::shared_ptr<const review::HitView> HitViewFor(const httplib::Request& req);
  std::vector<index::Cluster> Clusters(const View& view,
                                       const std::map<index::ItemId, index::ItemRecord>& items);
  static index::HitFilter FilterOf(const httplib::Request& req);
  static std::size_t SizeParam(const httplib::Request& req, const char* name, std::size_t fallback);

  static constexpr std::initializer_list<const char*> kReaders = {"examiner", "investigator", "admin"};

  // Routes (routes_session.cc, routes_hits.cc, routes_cases.cc, routes_federated.cc).
  void Health(const httplib::Request& req, httplib::Response& res);
  void PostSession(const httplib::Request& req, httplib::Response& res);
  void DeleteSession(const httplib::Request& req, httplib::Response& res);
  void Me(const httplib::Request& req, httplib::Response& res);
  void ListHits(const httplib::Request& req, httplib::Response& res);
  void GetHit(const httplib::Request& req, httplib::Response& res);
  void Explain(const httplib::Request& req, httplib::Response& res);
  void Plot(const httplib::Request& req, httplib::Response& res);
  void Image(const httplib::Request& req, httplib::Response& res);
  void PostDecision(const httplib::Request& req, httplib::Response& res);
  void GetCase(const httplib::Request& req, httplib::Response& res);
  void Links(const httplib::Request& req, httplib::Response& res);
  void FederatedSearch(const httplib::Request& req, httplib::Response& res);

  ServeOptions options_;
  bool tls_ = false;  ///< HTTPS (--tls-cert, --tls-key)
  std::unique_ptr<index::Database> db_;
  std::string home_;         ///< the database's jurisdiction ("" when none is set)
  std::mutex search_mutex_;  ///< one federated search at a time
  std::mutex cache_mutex_;
  std::map<std::int64_t, std::shared_ptr<const review::HitView>> cache_;
  std::deque<std::int64_t> order_;
};

}  // namespace toolmark::serve::detail
