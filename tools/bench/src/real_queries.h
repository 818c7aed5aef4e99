// Real scans searched among the bench's synthetic distractors (bench --real):
// each manifest's scans are ingested into the bench database (once: a
// reused database keeps them), then every real scan with a known partner in
// its set is searched as a stored item, the shortlist path forced, and the
// ranks of its partners are reported. The manifests' firearm and land_id
// columns are read for these measures only (evaluation), never by the
// search: partners share a firearm, and for bullet lands the land_id too.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "toolmark/bench/scale.h"
#include "toolmark/index/search.h"

namespace toolmark::bench {

/// One manifest's items in the bench database, with their truth.
struct RealSet {
  std::string name;  ///< the manifest's folder name
  std::vector<index::ItemId> ids;
  std::vector<std::string> firearm;  ///< ground truth, evaluation only ("" = unknown)
  /// Ground truth too: the manifest's `land_id` ("" where it has none). Two
  /// land scans are partners only when they are the same land of a barrel.
  std::vector<std::string> land_id;
  std::vector<std::string> file;
};

/// Ingests each of args.real into the database at `folder` (a scan already
/// there is taken as it is); throws toolmark::Error when a manifest cannot
/// be read or none of its scans is accepted. Rejected scans become warnings.
/// The partners of set item q (ground truth, evaluation only): the other
/// items of its firearm with the same land_id; none when its firearm is unknown.
std::set<index::ItemId> PartnersOf(const RealSet& set, std::size_t q);

std::vector<RealSet> IngestRealSets(const ScaleOptions& args, const std::string& folder,
                                    std::vector<std::string>* warnings);

/// Searches every real item with a partner (SearchItem: as correlate does)
/// and its shortlist; `{"sets": [...], "all": {...}}` with, per set and over
/// all: queries, every partner in the hits, rank 1 a partner, partners,
/// partners in the shortlist and in the hits, latency p50 / p95, and the
/// missed partners.
nlohmann::json QueryRealSets(const ScaleOptions& args, const std::vector<RealSet>& sets, index::Database& db,
                             const index::SearchEngine& engine);

}  // namespace toolmark::bench
