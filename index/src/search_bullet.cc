// Bullet-level search: a bullet's lands searched together, candidate bullets compared whole.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <optional>
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

using BulletKey = std::pair<std::string, std::string>;  // (case, item label)

/// A bullet's land items by position (from the marks "landN"; else the
/// item order), in position order.
std::vector<std::pair<int, ItemId>> ByPosition(const std::vector<ItemId>& ids,
                                               const std::map<ItemId, ItemRecord>& items) {
  std::vector<std::pair<int, ItemId>> out;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const int p = LandPosition(items.at(ids[k]));
    out.emplace_back(p >= 0 ? p : static_cast<int>(k), ids[k]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// The land count two bullets are aligned over (as CompareBullets counts).
int LandCount(const std::vector<int>& a, const std::vector<int>& b) {
  return std::max(*std::max_element(a.begin(), a.end()), *std::max_element(b.begin(), b.end())) + 1;
}

/// The land pairs that voted for a candidate bullet at one phase: (query
/// land index, candidate land item).
using Votes = std::vector<std::pair<std::size_t, ItemId>>;

/// Candidate bullets with a score, best first (ties: key), at most `keep`.
std::vector<std::pair<double, BulletKey>> BestFirst(std::vector<std::pair<double, BulletKey>> ranked,
                                                    std::size_t keep) {
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  ranked.resize(std::min(keep, ranked.size()));
  return ranked;
}

/// The candidate bullets in order of their voting lands' scores (then key),
/// at most `keep` of them: every voting land pair is compared with the land
/// comparator (at most lands × shortlist comparisons), and a bullet's score
/// here is its best phase's sum of those land scores. The vote only chooses
/// which bullets are compared whole; CompareBullets finds the phase itself.
template <typename Score>
std::vector<BulletKey> BestVoted(const std::map<BulletKey, std::map<int, Votes>>& votes, std::size_t keep,
                                 const Score& score) {
  if (keep >= votes.size()) {  // every candidate: no need to order them
    std::vector<BulletKey> all;
    for (const auto& [key, unused] : votes) all.push_back(key);
    return all;
  }
  std::vector<std::tuple<BulletKey, int, std::size_t, ItemId>> pairs;
  for (const auto& [key, phases] : votes)
    for (const auto& [phase, v] : phases)
      for (const auto& [land, item] : v) pairs.emplace_back(key, phase, land, item);
  std::vector<double> scores(pairs.size());
  tbb::parallel_for(std::size_t{0}, pairs.size(),
                    [&](std::size_t k) { scores[k] = score(std::get<2>(pairs[k]), std::get<3>(pairs[k])); });
  std::map<BulletKey, std::map<int, double>>
      sums;  // summed in pair order: the same sums whatever the threads
  for (std::size_t k = 0; k < pairs.size(); ++k)
    sums[std::get<0>(pairs[k])][std::get<1>(pairs[k])] += scores[k];
  std::vector<std::pair<double, BulletKey>> ranked;
  for (const auto& [key, phases] : sums) {
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& [phase, sum] : phases) best = std::max(best, sum);
    ranked.emplace_back(best, key);
  }
  std::vector<BulletKey> out;
  for (const auto& [unused, key] : BestFirst(std::move(ranked), keep)) out.push_back(key);
  return out;
}

/// Each shortlisted land (`shortlists[i]`: query land i's) votes for its
/// bullet at the phase it implies: its position minus the query land's,
/// modulo the land count of the query and that bullet together (as
/// CompareBullets counts). A bullet whose lands line up with the query's at
/// one phase gathers several votes there. The query's own bullet is left out.
std::map<BulletKey, std::map<int, Votes>> VoteByPhase(const std::vector<int>& query_positions,
                                                      const std::vector<std::vector<VectorHit>>& shortlists,
                                                      const std::map<ItemId, ItemRecord>& items,
                                                      const std::map<BulletKey, std::vector<ItemId>>& members,
                                                      const BulletKey& exclude) {
  std::map<BulletKey, int> counts;
  const auto count_of = [&](const BulletKey& key) {
    if (const auto c = counts.find(key); c != counts.end()) return c->second;
    return counts[key] = LandCount(query_positions, {ByPosition(members.at(key), items).back().first});
  };
  std::map<BulletKey, std::map<int, Votes>> votes;
  for (std::size_t i = 0; i < shortlists.size(); ++i)
    for (const VectorHit& h : shortlists[i]) {
      const ItemRecord& it = items.at(h.id);
      const BulletKey key{it.case_id, it.item_label};
      if (key == exclude) continue;
      const int p = LandPosition(it), n = count_of(key);
      votes[key][p < 0 ? -1 : ((p - query_positions[i]) % n + n) % n].emplace_back(i, h.id);
    }
  return votes;
}

/// What a bullet search screens with: the query lands' codes and
/// positions, and the engine's stored codes, bullets and items.
struct BulletScreening {
  const std::vector<std::vector<float>>& codes;
  const std::vector<int>& query_positions;
  const std::map<ItemId, std::vector<float>>& screen;
  const Comparator& comparator;
  const std::map<BulletKey, std::vector<ItemId>>& members;
  const std::map<ItemId, ItemRecord>& items;

  /// A candidate bullet's screening score (docs/search.md, "Bullets"): its
  /// lands' screening scores against the query lands' codes at the phases
  /// its lands voted for (query land i × the candidate land at i's position
  /// + phase; every pair where the vote has no phase), aligned as
  /// CompareBullets aligns land scores: the best phase's sequence average.
  /// Pairs where the candidate land has no code are left out; none for a
  /// bullet with no pair left.
  std::optional<double> Score(const BulletKey& key, const std::map<int, Votes>& phases) const {
    const std::vector<std::pair<int, ItemId>> lands = ByPosition(members.at(key), items);
    std::vector<int> positions;
    for (const auto& [p, id] : lands) positions.push_back(p);
    const int n = LandCount(query_positions, positions);
    std::vector<std::vector<double>> s(
        codes.size(), std::vector<double>(lands.size(), std::numeric_limits<double>::quiet_NaN()));
    bool any = false;
    for (std::size_t i = 0; i < codes.size(); ++i)  // one query code at a time: decoded once (screen_cache.h)
      for (std::size_t j = 0; j < lands.size(); ++j) {
        const int phase = ((positions[j] - query_positions[i]) % n + n) % n;
        const auto code = screen.find(lands[j].second);
        if (code == screen.end() || (!phases.count(-1) && !phases.count(phase))) continue;
        s[i][j] = comparator.ScreenScore(codes[i], code->second);
        any = true;
      }
    if (!any) return std::nullopt;
    return CompareBullets(s, query_positions, positions, n).bullet_score;
  }

  /// The best `keep` of `votes`' bullets by Score, best first (in parallel;
  /// the same order whatever the threads); those without one go to
  /// `unscored` when given.
  std::vector<std::pair<double, BulletKey>> Best(const std::map<BulletKey, std::map<int, Votes>>& votes,
                                                 std::size_t keep,
                                                 std::map<BulletKey, std::map<int, Votes>>* unscored) const {
    std::vector<const std::pair<const BulletKey, std::map<int, Votes>>*> candidates;
    for (const auto& v : votes) candidates.push_back(&v);
    std::vector<std::optional<double>> scores(candidates.size());
    tbb::parallel_for(std::size_t{0}, candidates.size(),
                      [&](std::size_t k) { scores[k] = Score(candidates[k]->first, candidates[k]->second); });
    std::vector<std::pair<double, BulletKey>> ranked;
    for (std::size_t k = 0; k < candidates.size(); ++k)
      if (scores[k])
        ranked.emplace_back(*scores[k], candidates[k]->first);
      else if (unscored)
        unscored->insert(*candidates[k]);
    return BestFirst(std::move(ranked), keep);
  }
};

}  // namespace

std::vector<BulletHit> SearchEngine::SearchBullet(const std::vector<BulletLandQuery>& lands,
                                                  const std::string& exclude_case,
                                                  const std::string& exclude_item) const {
  const Impl& m = *impl_;
  Check(m.index.has_value(), "search: Update() first");
  Check(m.kind == Kind::kBullet, "search: bullet search needs the bullet (land) index");
  Check(!lands.empty(), "search: a bullet query needs at least one land");
  // 1. Every query land's shortlist (screened as a land's own search is,
  // where the engine screens); the bullets its candidates belong to.
  std::vector<std::shared_ptr<const PreparedMark>> query(lands.size());
  std::vector<std::vector<float>> codes(lands.size());
  const bool screening = m.Screening();
  tbb::parallel_for(std::size_t{0}, lands.size(), [&](std::size_t i) {
    query[i] = m.comparator->Prepare(lands[i].surface);
    if (screening) codes[i] = m.comparator->ScreenFeaturesOf(*query[i]);
  });
  std::vector<int> query_positions;
  for (const BulletLandQuery& l : lands) query_positions.push_back(l.position);
  std::vector<std::vector<VectorHit>> shortlists(lands.size());
  for (std::size_t i = 0; i < lands.size(); ++i) {
    SearchQuery q;
    q.kind = m.kind;
    q.surface_kind = lands[i].surface.kind;
    shortlists[i] = m.ShortlistOfEmbedding(m.comparator->Embed(*query[i]), q, codes[i]);
  }
  auto votes = VoteByPhase(query_positions, shortlists, m.items, m.bullets, {exclude_case, exclude_item});
  // Bullets shared at features level (a land without its scan here) cannot
  // be compared whole: their screening score stands in, where there is one.
  std::map<BulletKey, std::map<int, Votes>> unscanned;
  for (auto v = votes.begin(); v != votes.end();) {
    const std::vector<ItemId>& ids = m.bullets.at(v->first);
    const bool scanned =
        std::all_of(ids.begin(), ids.end(), [&](ItemId id) { return !m.items.at(id).values_sha256.empty(); });
    v = scanned ? std::next(v) : (unscanned.insert(*v), votes.erase(v));
  }
  // 2. The best candidate bullets (options.fine, at least top; 0: all,
  // unscreened) compared whole, in parallel: chosen by their lands'
  // screening scores where the engine screens, else (and for bullets without
  // codes) by their voting lands' full comparisons.
  const std::size_t keep = m.options.fine == 0 ? votes.size() : std::max(m.options.fine, m.options.top);
  const BulletScreening screen{codes, query_positions, m.screen, *m.comparator, m.bullets, m.items};
  const auto compare = [&](std::size_t land, ItemId item) {
    return m.comparator->Compare(*query[land], *m.PreparedItem(item)).score;
  };
  std::vector<BulletKey> keys;
  std::map<BulletKey, double> screen_scores;
  std::map<BulletKey, std::map<int, Votes>> uncoded;
  if (screening && m.options.fine != 0) {
    for (const auto& [score, key] : screen.Best(votes, keep, &uncoded))
      keys.push_back(key), screen_scores[key] = score;
  } else {
    uncoded = std::move(votes);
  }
  for (const BulletKey& key : BestVoted(uncoded, keep, compare)) keys.push_back(key);
  const std::size_t compared = keys.size();
  if (screening)  // the unscanned by their screening score alone, every one that has one
    for (const auto& [score, key] : screen.Best(unscanned, unscanned.size(), nullptr))
      keys.push_back(key), screen_scores[key] = score;
  std::vector<BulletHit> hits(keys.size());
  tbb::parallel_for(std::size_t{0}, keys.size(), [&](std::size_t c) {
    BulletHit& h = hits[c];
    h.case_id = keys[c].first;
    h.item_label = keys[c].second;
    if (const auto s = screen_scores.find(keys[c]); s != screen_scores.end()) h.screen_score = s->second;
    for (const auto& [p, id] : ByPosition(m.bullets.at(keys[c]), m.items)) {
      h.positions.push_back(p);
      h.lands.push_back(id);
    }
    h.jurisdiction = m.items.at(h.lands.front()).jurisdiction;
    if (c >= compared) {
      h.features_only = true;
      h.score = h.screen_score.value();
      return;
    }
    h.land_scores.assign(lands.size(), std::vector<double>(h.lands.size()));
    for (std::size_t j = 0; j < h.lands.size(); ++j) {
      const auto candidate = m.PreparedItem(h.lands[j]);
      for (std::size_t i = 0; i < lands.size(); ++i)
        h.land_scores[i][j] = m.comparator->Compare(*query[i], *candidate).score;
    }
    const int count = LandCount(query_positions, h.positions);
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
