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

/// A pair of items as a reviewer sees it: one thing to review, whichever
/// item was the query. `hit` is the pair's first recorded hit (its id is the
/// pair's id; any of its hits' ids finds it), `reverse` the hit of the other
/// direction when both items were correlated (its score kept for the
/// explanation). Decisions on either hit are the pair's.
struct ReviewHit {
  HitRecord hit;
  std::optional<HitRecord> reverse;
  ItemRecord query, candidate;     ///< of `hit`
  std::string status = "pending";  ///< "pending", the latest decision's conclusion, or "conflict"
  std::size_t decisions = 0;       ///< how many were recorded on the pair
};

/// The score a pair is ranked and filtered by: the better of its two
/// directions' scores.
double PairScore(const ReviewHit& r);

/// A pair's status from its decisions (both directions', oldest first):
/// "pending" when there is none, else the latest one's conclusion, made over
/// the pair's whole history. Decisions recorded before pairs were reviewed
/// as one (DecisionRecord::whole_pair false) were made on one direction
/// alone: when the two directions' latest ones disagree and no decision was
/// made on the pair since, the status is "conflict", which links nothing
/// until someone decides the pair.
std::string PairStatus(const std::vector<DecisionRecord>& decisions);

/// Which hits a queue lists. Empty strings match everything.
struct HitFilter {
  /// "pending" (pairs awaiting a decision: undecided or in conflict), a
  /// conclusion, "conflict", or "all"
  std::string status = "pending";
  std::string case_id;              ///< either side's case
  std::string jurisdiction;         ///< either side's jurisdiction
  std::optional<Kind> kind;         ///< the query's kind; none: both
  std::optional<double> min_score;  ///< on PairScore
  std::optional<ItemId> item;       ///< either side is this item
};

/// Checks a filter's status and kind; throws toolmark::Error.
void CheckFilter(const HitFilter& filter);

/// The pairs the filter selects, best PairScore first, then by hit id.
std::vector<ReviewHit> ReviewHits(Database& db, const HitFilter& filter);

/// The pair of one hit (either direction's id) with its items and status, or none.
std::optional<ReviewHit> ReviewHitById(Database& db, std::int64_t id);

/// An identification link: a pair whose status is identification.
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
