// Hit review and case linkage on top of the database: each recorded hit's
// status (pending until decided, then its latest decision's conclusion), the
// review queue and its filters, and the clusters of items that confirmed
// identifications link (connected components). See docs/review.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/index/database.h"

namespace toolmark::index {

/// A hit as a reviewer sees it.
struct ReviewHit {
  HitRecord hit;
  ItemRecord query, candidate;
  std::string status = "pending";  ///< "pending" or the latest decision's conclusion
  std::size_t decisions = 0;       ///< how many were recorded on it
};

/// Which hits a queue lists. Empty strings match everything.
struct HitFilter {
  std::string status = "pending";  ///< "pending", a conclusion, or "all"
  std::string case_id;             ///< either side's case
  std::string jurisdiction;        ///< either side's jurisdiction
  std::optional<Kind> kind;        ///< the query's kind; none: both
  std::optional<double> min_score;
  std::optional<ItemId> item;  ///< either side is this item
};

/// Checks a filter's status and kind; throws toolmark::Error.
void CheckFilter(const HitFilter& filter);

/// The hits the filter selects, best score first, then by hit id.
std::vector<ReviewHit> ReviewHits(Database& db, const HitFilter& filter);

/// One hit with its items and status, or none.
std::optional<ReviewHit> ReviewHitById(Database& db, std::int64_t id);

/// An identification link: a hit whose status is identification.
struct Link {
  std::int64_t hit = 0;
  ItemId a = kInvalidItemId, b = kInvalidItemId;  ///< query, candidate
};

/// Items that identifications link, directly or through others.
struct Cluster {
  int id = 0;                                     ///< 1, 2, … in the order of their smallest item id
  std::vector<ItemId> items;                      ///< ascending
  std::vector<std::string> cases, jurisdictions;  ///< sorted, distinct
  std::vector<Link> links;                        ///< by hit id
};

/// Every cluster of two or more items, recomputed from the decisions.
std::vector<Cluster> LinkedClusters(Database& db);
/// The same over the links whose two items are both `visible` (a
/// requester's view: no cluster is joined through an item it may not see).
std::vector<Cluster> LinkedClusters(Database& db, const std::function<bool(ItemId)>& visible);

/// Graphviz (dot) of the clusters: one subgraph a cluster, items labelled by
/// case, label and jurisdiction, edges by hit id.
std::string ClustersDot(const std::vector<Cluster>& clusters, const std::map<ItemId, ItemRecord>& items);

}  // namespace toolmark::index
