// The vector index alone at many more vectors than the bench database holds
// (bench --vectors): the database's embeddings plus distractors made from
// them; build time, memory, latency and recall of the exact top-k.
#pragma once

#include <nlohmann/json.hpp>

#include "toolmark/bench/scale.h"
#include "toolmark/index/search.h"

namespace toolmark::bench {

/// The vector index alone: the database's embeddings plus distractors (each
/// a normalised mix of two random database embeddings and noise, so that
/// they look like embeddings, not like random directions), searched with
/// the queries' embeddings; recall of the exact top-k in the index's top-k.
nlohmann::json VectorLevel(const ScaleOptions& args, index::Database& database,
                           const index::SearchEngine& engine);

}  // namespace toolmark::bench
