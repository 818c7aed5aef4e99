// Bullet-level search: a bullet's lands searched together, candidate bullets compared whole.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "search_internal.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/land.h"
#include "toolmark/index/search.h"

namespace toolmark::index {

int LandPosition(const ItemRecord& item) {
  for (const Mark& m : item.marks)
    if (m.type == MarkType::kLand && m.land >= 1 && m.land <= 64) return m.land - 1;
  return -1;
}

namespace {

/// The land pairs that voted for a candidate bullet at one phase: (query
/// land index, candidate land item).
using Votes = std::vector<std::pair<std::size_t, ItemId>>;

/// The candidate bullets in order of their screening score (then key), at
/// most max(fine, top) of them (fine 0: all): every voting land pair is
/// compared with the land comparator (at most lands × shortlist
/// comparisons), and a bullet's screening score is its best phase's sum of
/// those land scores. The vote only chooses which bullets are compared
/// whole; CompareBullets finds the phase itself.
template <typename Key, typename Score>
std::vector<Key> BestScreened(const std::map<Key, std::map<int, Votes>>& votes, std::size_t fine,
                              std::size_t top, const Score& score) {
  if (fine == 0) {  // every candidate, unscreened
    std::vector<Key> all;
    for (const auto& [key, unused] : votes) all.push_back(key);
    return all;
  }
  std::vector<std::tuple<Key, int, std::size_t, ItemId>> pairs;
  for (const auto& [key, phases] : votes)
    for (const auto& [phase, v] : phases)
      for (const auto& [land, item] : v) pairs.emplace_back(key, phase, land, item);
  std::vector<double> scores(pairs.size());
  tbb::parallel_for(std::size_t{0}, pairs.size(),
                    [&](std::size_t k) { scores[k] = score(std::get<2>(pairs[k]), std::get<3>(pairs[k])); });
  std::map<Key, std::map<int, double>> sums;  // summed in pair order: the same sums whatever the threads
  for (std::size_t k = 0; k < pairs.size(); ++k)
    sums[std::get<0>(pairs[k])][std::get<1>(pairs[k])] += scores[k];
  std::vector<std::pair<double, Key>> ranked;
  for (const auto& [key, phases] : sums) {
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& [phase, sum] : phases) best = std::max(best, sum);
    ranked.emplace_back(best, key);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  const std::size_t keep = std::min(ranked.size(), std::max(fine, top));
  std::vector<Key> out;
  for (std::size_t i = 0; i < keep; ++i) out.push_back(ranked[i].second);
  return out;
}

using BulletKey = std::pair<std::string, std::string>;  // (case, item label)

/// Each shortlisted land (`shortlists[i]`: query land i's) votes for its
/// bullet at the phase it implies: its position minus the query land's,
/// modulo the land count of the query and that bullet together (as
/// CompareBullets counts). A bullet whose lands line up with the query's at
/// one phase gathers several votes there. The query's own bullet is left out.
std::map<BulletKey, std::map<int, Votes>> VoteByPhase(const std::vector<BulletLandQuery>& lands,
                                                      const std::vector<std::vector<VectorHit>>& shortlists,
                                                      const std::map<ItemId, ItemRecord>& items,
                                                      const std::map<BulletKey, std::vector<ItemId>>& members,
                                                      const BulletKey& exclude) {
  int query_last = 0;
  for (const BulletLandQuery& l : lands) query_last = std::max(query_last, l.position);
  std::map<BulletKey, int> counts;
  const auto count_of = [&](const BulletKey& key) {
    if (const auto c = counts.find(key); c != counts.end()) return c->second;
    int last = query_last;
    const std::vector<ItemId>& ids = members.at(key);
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const int p = LandPosition(items.at(ids[k]));
      last = std::max(last, p >= 0 ? p : static_cast<int>(k));
    }
    return counts[key] = last + 1;
  };
  std::map<BulletKey, std::map<int, Votes>> votes;
  for (std::size_t i = 0; i < lands.size(); ++i)
    for (const VectorHit& h : shortlists[i]) {
      const ItemRecord& it = items.at(h.id);
      const BulletKey key{it.case_id, it.item_label};
      if (key == exclude) continue;
      const int p = LandPosition(it), n = count_of(key);
      votes[key][p < 0 ? -1 : ((p - lands[i].position) % n + n) % n].emplace_back(i, h.id);
    }
  return votes;
}

}  // namespace

std::vector<BulletHit> SearchEngine::SearchBullet(const std::vector<BulletLandQuery>& lands,
                                                  const std::string& exclude_case,
                                                  const std::string& exclude_item) const {
  const Impl& m = *impl_;
  Check(m.index.has_value(), "search: Update() first");
  Check(m.kind == Kind::kBullet, "search: bullet search needs the bullet (land) index");
  Check(!lands.empty(), "search: a bullet query needs at least one land");
  // 1. Every query land's shortlist; the bullets its candidates belong to.
  std::vector<std::shared_ptr<const PreparedMark>> query(lands.size());
  tbb::parallel_for(std::size_t{0}, lands.size(),
                    [&](std::size_t i) { query[i] = m.comparator->Prepare(lands[i].surface); });
  std::map<BulletKey, std::vector<ItemId>> members;
  for (const auto& [id, it] : m.items) members[{it.case_id, it.item_label}].push_back(id);
  std::vector<std::vector<VectorHit>> shortlists(lands.size());
  for (std::size_t i = 0; i < lands.size(); ++i) {
    SearchQuery q;
    q.kind = m.kind;
    q.surface_kind = lands[i].surface.kind;
    // The embedding's shortlist alone: the vote gathers a barrel's bullets
    // from several lands (docs/search.md, "Bullets").
    shortlists[i] = m.ShortlistOfEmbedding(m.comparator->Embed(*query[i]), q);
  }
  const auto votes = VoteByPhase(lands, shortlists, m.items, members, {exclude_case, exclude_item});
  // 2. The best candidate bullets by their voting lands' scores (options.fine,
  // at least top; 0: all, unscreened) compared whole, in parallel.
  const std::vector<BulletKey> keys =
      BestScreened(votes, m.options.fine, m.options.top, [&](std::size_t land, ItemId item) {
        return m.comparator->Compare(*query[land], *m.PreparedItem(item)).score;
      });
  std::vector<BulletHit> hits(keys.size());
  std::vector<int> query_positions;
  for (const BulletLandQuery& l : lands) query_positions.push_back(l.position);
  tbb::parallel_for(std::size_t{0}, keys.size(), [&](std::size_t c) {
    BulletHit& h = hits[c];
    h.case_id = keys[c].first;
    h.item_label = keys[c].second;
    std::vector<std::pair<int, ItemId>> by_position;
    const std::vector<ItemId>& ids = members.at(keys[c]);
    for (std::size_t k = 0; k < ids.size(); ++k) {
      const int p = LandPosition(m.items.at(ids[k]));
      by_position.emplace_back(p >= 0 ? p : static_cast<int>(k), ids[k]);
    }
    std::sort(by_position.begin(), by_position.end());
    for (const auto& [p, id] : by_position) {
      h.positions.push_back(p);
      h.lands.push_back(id);
    }
    h.jurisdiction = m.items.at(h.lands.front()).jurisdiction;
    h.land_scores.assign(lands.size(), std::vector<double>(h.lands.size()));
    for (std::size_t j = 0; j < h.lands.size(); ++j) {
      const auto candidate = m.PreparedItem(h.lands[j]);
      for (std::size_t i = 0; i < lands.size(); ++i)
        h.land_scores[i][j] = m.comparator->Compare(*query[i], *candidate).score;
    }
    const int count = std::max(*std::max_element(query_positions.begin(), query_positions.end()),
                               *std::max_element(h.positions.begin(), h.positions.end())) +
                      1;
    const BulletComparison b = CompareBullets(h.land_scores, query_positions, h.positions, count);
    h.score = b.bullet_score;
    h.phase = b.phase;
    h.phase_gap = b.phase_gap;
    // The bullet-level calibration holds for complete bullets only: every
    // land of both bullets compared (as `toolmark compare` requires).
    if (m.bullet_calibration && lands.size() == static_cast<std::size_t>(count) &&
        h.lands.size() == static_cast<std::size_t>(count)) {
      h.log10_lr = m.bullet_calibration->Log10Lr(h.score);
      h.calibration = m.bullet_calibration->provenance.set;
    }
  });
  std::sort(hits.begin(), hits.end(), [](const BulletHit& a, const BulletHit& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.phase_gap != b.phase_gap) return a.phase_gap > b.phase_gap;
    return std::tie(a.case_id, a.item_label) < std::tie(b.case_id, b.item_label);
  });
  if (hits.size() > m.options.top) hits.resize(m.options.top);
  for (std::size_t i = 0; i < hits.size(); ++i) hits[i].rank = static_cast<int>(i) + 1;
  return hits;
}

}  // namespace toolmark::index
