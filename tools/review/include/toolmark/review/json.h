// JSON of the review model (docs/review.md): shared by `hits`, `review`,
// `links`, `serve` and `report`.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "toolmark/index/review.h"

namespace toolmark::review {

/// An item's recorded intake quality (ingest::QualityJson), null when none.
nlohmann::json ItemQuality(const index::ItemRecord& item);
/// "good", "weak, turned upright from transposed, orientation not settled",
/// "not assessed" (null): a short remark for tables and hit lists.
std::string QualityRemark(const nlohmann::json& quality);

/// An item as hits show it, with its intake quality (grade, warnings, orientation).
nlohmann::json ItemRefJson(const index::ItemRecord& item);
/// True when the hit's query or candidate has quality warnings.
bool WeakComparison(const index::ReviewHit& h);
nlohmann::json DecisionJson(const index::DecisionRecord& d);
nlohmann::json HitSummaryJson(const index::ReviewHit& h);
/// `{"clusters": [...]}`; `items` must hold every clustered item.
nlohmann::json ClustersJson(const std::vector<index::Cluster>& clusters,
                            const std::map<index::ItemId, index::ItemRecord>& items);
/// Short number formatting ("%.6g").
std::string Num(double v);
/// A pair's score as lists show it: "20", or "20 / 18" when the other
/// direction (candidate as the query) was scored too.
std::string PairScoreText(const index::ReviewHit& h);
/// "10^2.30" or "not calibrated".
std::string LrText(const std::optional<double>& log10_lr);
/// Every item of the database by id.
std::map<index::ItemId, index::ItemRecord> ItemsById(index::Database& db);

}  // namespace toolmark::review
