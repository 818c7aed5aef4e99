// Private to the eval library: dataset rows, candidate pairs and their
// seeded sampling (see evaluate.cc for the rules).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "toolmark/ingest/manifest.h"

namespace toolmark::eval::detail {

/// Seed of the KNM pair sample (documented in evaluate.cc; never change silently).
inline constexpr std::uint64_t kSampleSeed = 20240229;

/// One truth.csv row, as eval uses it.
struct Entry {
  std::string file;  ///< as written in truth.csv (relative to the dataset)
  std::string firearm, mark, bullet, land_id;
  int land = 0;          ///< land index within the bullet (0 when absent)
  bool is_land = false;  ///< a bullet land (kind bullet or mark land…)
};

/// A candidate pair of items i < j.
struct Candidate {
  int a = 0, b = 0;
  bool known_match = false;
};

/// Selected pairs of one level (all KM, all or sampled KNM), in enumeration order.
struct Selection {
  std::vector<Candidate> pairs;
  std::size_t candidates = 0, km = 0;
  bool sampled = false;
};

/// Calls visit(candidate) for every eligible pair i < j of n items, row-major.
template <typename Eligible, typename Match, typename Visit>
void ForEachPair(int n, Eligible eligible, Match match, Visit visit) {
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (eligible(i, j)) visit(Candidate{i, j, match(i, j)});
    }
  }
}

/// Candidate pairs (and known matches among them) of each level over a list
/// of scans, before sampling: what refused scans cost.
struct LevelCounts {
  std::pair<std::size_t, std::size_t> pair, land, bullet;
  std::pair<std::size_t, std::size_t> Of(const std::string& level) const {
    return level == "pair" ? pair : level == "land" ? land : bullet;
  }
};

/// Candidate pairs of every level over these scans (before sampling).
LevelCounts CountCandidates(const std::vector<Entry>& e, bool has_land_id, bool has_bullet);

/// The rows of a truth.csv; throws toolmark::Error naming the file and row.
std::vector<Entry> ReadEntries(const ingest::Manifest& m, const std::string& truth);

/// All KM pairs and all or a seeded uniform sample of KNM pairs (see evaluate.cc).
template <typename Eligible, typename Match>
Selection SelectPairs(int n, Eligible eligible, Match match, std::size_t max_pairs) {
  Selection sel;
  std::size_t knm = 0;
  ForEachPair(n, eligible, match, [&](const Candidate& c) { ++(c.known_match ? sel.km : knm); });
  sel.candidates = sel.km + knm;
  std::size_t keep = knm;
  if (sel.candidates > max_pairs) {
    sel.sampled = true;
    keep = std::min(knm, max_pairs > sel.km ? max_pairs - sel.km : max_pairs);
  }
  std::mt19937_64 rng(kSampleSeed);
  std::size_t seen = 0, chosen = 0;
  ForEachPair(n, eligible, match, [&](const Candidate& c) {
    if (c.known_match) {
      sel.pairs.push_back(c);
      return;
    }
    const std::size_t left = knm - seen++;
    if (!sel.sampled) {
      sel.pairs.push_back(c);
      return;
    }
    const double u = static_cast<double>(rng() >> 11) * 0x1p-53;  // uniform in [0, 1)
    if (static_cast<double>(left) * u < static_cast<double>(keep - chosen)) {
      sel.pairs.push_back(c);
      ++chosen;
    }
  });
  return sel;
}

}  // namespace toolmark::eval::detail
