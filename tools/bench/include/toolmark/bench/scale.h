// A synthetic database at a given size and what searching it costs
// (toolmark bench): ingest throughput, embedding + index build time, index
// memory, shortlist and two-stage query latency (p50 / p95), recall of the
// shortlist; optionally the vector index alone at many more vectors. The
// result's field names are the ARCHITECTURE.md contract. See docs/search.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "toolmark/engine/registry.h"

namespace toolmark::bench {

struct ScaleOptions {
  std::size_t items = 1000;
  Kind kind = Kind::kCartridgeCase;
  int per_firearm = 2;
  int size =
      0;  ///< points a side of each synthetic scan (bullets: along the land); 0: 128, bullets the generator's
  int lands = 6;  ///< bullets: lands of each bullet (items are bullets, each stored as this many land items)
  std::uint64_t seed = 1;
  std::size_t queries = 20;        ///< queries timed
  std::size_t recall_queries = 5;  ///< of which also compared exhaustively with the whole database
  std::size_t shortlist = 100, top = 10, fine = 10;
  std::size_t shortlist_depth = 4000, screened = 50;  ///< SearchOptions' screening stage
  std::size_t vectors = 0;  ///< > 0: also the vector index alone at this many vectors
  std::string index_kind = "auto";
  int ivf_dims = 128;
  std::size_t ivf_probe = 96;
  std::size_t ivf_min_train = 4096;
  int sketch_bits = 512;
  std::size_t sketch_rerank = 4096;
  std::string db;      ///< where the database is built ("" : a temporary folder)
  bool keep = false;   ///< keep the database afterwards
  bool reuse = false;  ///< search an existing database an earlier bench built (same options)
  /// Manifests of real scans to search among the synthetic items (their
  /// firearm column: evaluation only); see docs/search.md.
  std::vector<std::string> real;
};

/// Builds (or reuses) the database, measures, and returns the result object
/// (items, shortlist, shortlist_recall, shortlist_p50_ms, search_p50_ms,
/// search_p95_ms, index_bytes_per_item, ingest_items_per_s, …, and
/// vector_level where asked). Warnings (a rebuilt index) go to *warnings.
/// Throws toolmark::Error for bad options or a database it may not use.
nlohmann::json RunScale(const ScaleOptions& options, std::vector<std::string>* warnings);

}  // namespace toolmark::bench
