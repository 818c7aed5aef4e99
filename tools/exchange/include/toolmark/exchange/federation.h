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
  std::vector<std::string> partners;  ///< partner servers' base URLs
  double timeout_s = 10;              ///< per partner
  std::size_t top = 10;               ///< hits asked of each
};

/// Asks every partner at once (the query's numbers only, signed with this
/// database's key); a partner that is down, slow (past the timeout) or
/// answers badly is reported as such, never fatal. Cartridge cases only.
std::vector<PartnerAnswer> AskPartners(index::Database& db, const index::SearchQuery& q,
                                       const FederatedQuery& query);

}  // namespace toolmark::exchange
