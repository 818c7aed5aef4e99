// The land and bullet levels: land pairs scored once, bullets compared by
// their best cyclic phase (evaluate.cc has the rules).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

#include "levels.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/metrics.h"

namespace toolmark::eval::detail {
namespace {

/// A bullet: its id and its lands (global scan indices) in `land` order.
struct Bullet {
  std::string id, firearm;
  std::vector<int> lands;
};

std::vector<Bullet> GroupBullets(const std::vector<Entry>& entries, const std::vector<int>& ids) {
  std::map<std::string, Bullet> by_id;
  for (int id : ids) {
    const Entry& e = entries[static_cast<std::size_t>(id)];
    Bullet& b = by_id[e.bullet];
    b.id = e.bullet;
    b.firearm = e.firearm;
    b.lands.push_back(id);
  }
  std::vector<Bullet> bullets;
  for (auto& [id, b] : by_id) {
    std::stable_sort(b.lands.begin(), b.lands.end(), [&](int x, int y) {
      return entries[static_cast<std::size_t>(x)].land < entries[static_cast<std::size_t>(y)].land;
    });
    bullets.push_back(std::move(b));
  }
  return bullets;
}

/// Land-pair scores looked up by global scan indices (either order).
class LandScores {
 public:
  void Add(int a, int b) { keys_.push_back(Key(a, b)); }
  /// Sorts the keys and scores them all in parallel.
  void Compute(const Context& ctx, const Comparator& comparator) {
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    std::vector<std::pair<int, int>> pairs;
    for (std::uint64_t k : keys_)
      pairs.emplace_back(static_cast<int>(k >> 32), static_cast<int>(k & 0xffffffffu));
    values_ = CompareAll(pairs, ctx.prepared, comparator, "comparing lands");
  }
  const Comparison& Get(int a, int b) const {
    const auto it = std::lower_bound(keys_.begin(), keys_.end(), Key(a, b));
    TM_ASSERT(it != keys_.end() && *it == Key(a, b));
    return values_[static_cast<std::size_t>(it - keys_.begin())];
  }

 private:
  static std::uint64_t Key(int a, int b) {
    const auto lo = static_cast<std::uint64_t>(std::min(a, b)),
               hi = static_cast<std::uint64_t>(std::max(a, b));
    return lo << 32 | hi;
  }
  std::vector<std::uint64_t> keys_;
  std::vector<Comparison> values_;
};

/// Land positions around a bullet (0-based): `land` − 1 when every land of
/// the bullet has a distinct number ≥ 1 (so a missing land leaves its gap),
/// else the order.
std::vector<int> LandPositions(const Context& ctx, const Bullet& b) {
  std::vector<int> pos;
  for (int id : b.lands) pos.push_back(ctx.entries[static_cast<std::size_t>(id)].land - 1);
  std::vector<int> sorted = pos;
  std::sort(sorted.begin(), sorted.end());
  const bool numbered = !sorted.empty() && sorted.front() >= 0 &&
                        std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  if (!numbered)
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int>(i);
  return pos;
}

/// Bullet-to-bullet score (CompareBullets): lands are placed around each
/// bullet by their `land` numbers (LandPositions); the score is the best
/// cyclic sequence average over `lands` positions.
double BulletScore(const Context& ctx, const Bullet& x, const Bullet& y, const LandScores& scores,
                   int lands) {
  std::vector<std::vector<double>> matrix(x.lands.size(), std::vector<double>(y.lands.size()));
  for (std::size_t i = 0; i < x.lands.size(); ++i)
    for (std::size_t j = 0; j < y.lands.size(); ++j) matrix[i][j] = scores.Get(x.lands[i], y.lands[j]).score;
  return CompareBullets(matrix, LandPositions(ctx, x), LandPositions(ctx, y), lands).bullet_score;
}

}  // namespace

std::vector<EvalLevel> BulletLevels(const Context& ctx, const std::vector<int>& ids,
                                    const Comparator& comparator, bool has_land_id, bool has_bullet) {
  const auto& e = ctx.entries;
  const std::size_t max_pairs = ctx.options->max_pairs;
  const auto at = [&](int i) -> const Entry& {
    return e[static_cast<std::size_t>(ids[static_cast<std::size_t>(i)])];
  };
  const int n = static_cast<int>(ids.size());
  LandScores scores;
  std::optional<Selection> land_sel;
  if (has_land_id) {
    land_sel = SelectPairs(
        n, [](int, int) { return true; },
        [&](int i, int j) { return !at(i).land_id.empty() && at(i).land_id == at(j).land_id; }, max_pairs);
    for (const Candidate& c : land_sel->pairs)
      scores.Add(ids[static_cast<std::size_t>(c.a)], ids[static_cast<std::size_t>(c.b)]);
  }
  const std::vector<Bullet> bullets = has_bullet ? GroupBullets(e, ids) : std::vector<Bullet>{};
  const auto bullet_at = [&](int i) -> const Bullet& { return bullets[static_cast<std::size_t>(i)]; };
  Selection bullet_sel;
  if (has_bullet) {
    bullet_sel = SelectPairs(
        static_cast<int>(bullets.size()), [](int, int) { return true; },
        [&](int i, int j) { return bullet_at(i).firearm == bullet_at(j).firearm; }, max_pairs);
    for (const Candidate& c : bullet_sel.pairs) {
      for (int la : bullet_at(c.a).lands)
        for (int lb : bullet_at(c.b).lands) scores.Add(la, lb);
    }
  }
  scores.Compute(ctx, comparator);

  std::vector<EvalLevel> levels;
  if (land_sel) {
    EvalLevel lv = NewLevel(ctx, "land", comparator.Name());
    for (int id : ids) {
      lv.names.push_back(e[static_cast<std::size_t>(id)].file);
      lv.firearms.push_back(e[static_cast<std::size_t>(id)].firearm);
    }
    std::vector<Comparison> results;
    for (const Candidate& c : land_sel->pairs)
      results.push_back(scores.Get(ids[static_cast<std::size_t>(c.a)], ids[static_cast<std::size_t>(c.b)]));
    FillLevel(&lv, *land_sel, std::move(results), max_pairs, ctx.options->score_detail);
    lv.embedding_recall10 = EmbeddingRecall10(ctx, ids, comparator, [&](int i, int j) {
      return !at(i).land_id.empty() && at(i).land_id == at(j).land_id;
    });
    levels.push_back(std::move(lv));
  }
  if (has_bullet) {
    EvalLevel lv = NewLevel(ctx, "bullet", comparator.Name());
    for (const Bullet& b : bullets) {
      lv.names.push_back(b.id);
      lv.firearms.push_back(b.firearm);
    }
    FillLevel(&lv, bullet_sel, {}, max_pairs);
    // Positions around the bullet: as many as the most lands any bullet has
    // (its largest land number where lands are numbered).
    int positions = 0;
    for (const Bullet& b : bullets) {
      const std::vector<int> pos = LandPositions(ctx, b);
      positions = std::max(positions, 1 + *std::max_element(pos.begin(), pos.end()));
    }
    for (std::size_t k = 0; k < bullet_sel.pairs.size(); ++k)
      lv.pairs[k].score = BulletScore(ctx, bullet_at(bullet_sel.pairs[k].a), bullet_at(bullet_sel.pairs[k].b),
                                      scores, positions);
    lv.metrics = ComputeMetrics(lv.pairs, static_cast<int>(lv.names.size()));
    // The bullet calibration is for complete bullets: both with every land
    // that the dataset's largest bullet has.
    std::size_t most = 0;
    for (const Bullet& b : bullets) most = std::max(most, b.lands.size());
    for (const Candidate& c : bullet_sel.pairs)
      lv.calibratable.push_back(most >= 2 && bullet_at(c.a).lands.size() == most &&
                                bullet_at(c.b).lands.size() == most);
    if (!has_land_id) lv.notes.push_back("truth.csv has no land_id column: land level skipped");
    levels.push_back(std::move(lv));
  }
  return levels;
}

}  // namespace toolmark::eval::detail
