// The vector index alone at many more vectors than the bench database holds
// (bench --vectors): the database's embeddings plus distractors made like
// them; build time, memory, latency, recall of the exact top-k and, with
// real scans in the database (--real), their partners kept.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "real_queries.h"
#include "toolmark/bench/scale.h"
#include "toolmark/index/search.h"

namespace toolmark::bench {

/// The vector index alone: the database's embeddings plus distractors
/// (Gaussian with the embeddings' mean and covariance, unit length: unlike
/// items as far as their first two moments go), searched with the stored
/// embeddings; recall of the exact top-k in the index's top-k, and for each
/// real query the share of its partners (evaluation only) in its shortlist,
/// from the index in use and from an exact index of the same vectors.
nlohmann::json VectorLevel(const ScaleOptions& args, index::Database& database,
                           const index::SearchEngine& engine, const std::vector<RealSet>& real);

}  // namespace toolmark::bench
