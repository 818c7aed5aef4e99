// Federated search (docs/exchange.md): a query's numbers (embedding and
// quick features; never a scan) sent, signed, to partner servers at once.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "toolmark/index/database.h"
#include "toolmark/index/search.h"

namespace toolmark::exchange {

/// One partner's answer to a federated search.
struct PartnerAnswer {
  std::string url, status = "error", message, jurisdiction;  ///< status: ok | timeout | error
  nlohmann::json hits = nlohmann::json::array();
  double seconds = 0;
};

/// Where to ask and how long to wait.
struct FederatedQuery {
  /// Partners: a jurisdiction with a recorded endpoint (keys trust --url), or
  /// a base URL (https://HOST[:PORT]; http:// only for a loopback host).
  std::vector<std::string> partners;
  double timeout_s = 10;  ///< per partner
  std::size_t top = 10;   ///< hits asked of each
};

/// Asks every partner at once (the query's numbers only, signed with this
/// database's key); a partner that is down, slow (past the timeout),
/// answers badly or shows a certificate that does not verify is reported as
/// such, never fatal. Over HTTPS the partner's certificate is checked: the
/// one pinned for it (keys trust --tls-cert), else the system's trust
/// store, and its host name. Throws toolmark::Error before asking anyone for
/// a partner that is neither a URL nor a jurisdiction with an endpoint, or
/// a plain-HTTP URL beyond loopback. Cartridge cases only.
std::vector<PartnerAnswer> AskPartners(index::Database& db, const index::SearchQuery& q,
                                       const FederatedQuery& query);

}  // namespace toolmark::exchange
