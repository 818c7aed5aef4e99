// toolmark eval DATASET: accuracy of a comparator on a dataset with ground
// truth (truth.csv, see datasets/README.md).
//
// Levels: cartridge cases (and anything that is not a bullet land) are scored
// pair by pair ("pair" level, KM = same firearm; only scans of the same `mark`
// are compared). Bullet lands are scored land by land ("land" level, KM = same
// non-empty `land_id`; skipped with a note when truth.csv has no land_id column) and
// bullet by bullet ("bullet" level, KM = same firearm): lands are grouped by
// the `bullet` column and ordered by `land`; the bullet score is the best
// cyclic sequence average (see BulletScore).
//
// Ground truth (firearm, land_id) only labels pairs; the comparator sees
// nothing but the surfaces.
//
// Sampling: when a level has more candidate pairs than --max-pairs, every KM
// pair is kept and the KNM pairs are a uniform sample without replacement of
// size max-pairs − KM (or max-pairs if KM alone exceed it), drawn by
// selection sampling (Knuth's Algorithm S) over the KNM pairs in enumeration
// order (i < j, row-major) with std::mt19937_64 seeded with kSampleSeed. The
// sample is the same on every run and thread count. Ranks are then computed
// over the sampled pairs only. Bullet level samples bullet pairs; the land
// scores it needs are computed in addition to the land level's pairs.
//
// Determinism: each pair's score is computed independently and stored by
// pair index; nothing is accumulated across threads.
//
// Calibration (docs/calibration.md): each level's scores are mapped to log10
// LRs by the calibration for its comparator and level (--calibration FILE
// where it fits, else the shipped DefaultCalibration) and Cllr is reported
// with that calibration's set; min Cllr (PAV on the level's own pairs) always.
// Without a calibration, Cllr is "not calibrated" (null). EvaluateSynthetic
// runs the same levels on synthetic scans made in memory (toolmark calibrate).
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>

#include "cli_common.h"
#include "eval_report.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/metrics.h"
#include "toolmark/engine/synth.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::cli {
namespace fs = std::filesystem;
namespace {

/// Seed of the KNM pair sample (documented above; never change silently).
constexpr std::uint64_t kSampleSeed = 20240229;

struct EvalArgs {
  std::string dataset;
  EvalOptions options;
  std::string calibration;  ///< a calibration file; empty: the comparator's default
  bool json = false;
  std::string report;
  int threads = 0;
  ReadFlags read;
};

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

std::string Cell(const std::map<std::string, std::string>& row, const std::string& column) {
  const auto it = row.find(column);
  return it == row.end() ? std::string() : it->second;
}

std::vector<Entry> ReadEntries(const ingest::Manifest& m, const std::string& truth) {
  const auto has = [&](const char* c) {
    return std::find(m.columns.begin(), m.columns.end(), c) != m.columns.end();
  };
  Check(has("firearm"), truth + ": no firearm column (see datasets/README.md)");
  std::vector<Entry> entries;
  for (const auto& row : m.rows) {
    Entry e;
    e.file = Cell(row, "file");
    e.firearm = Cell(row, "firearm");
    Check(!e.firearm.empty(), truth + ": " + e.file + ": empty firearm");
    e.mark = Cell(row, "mark");
    e.bullet = Cell(row, "bullet");
    e.land_id = Cell(row, "land_id");
    e.is_land = Cell(row, "kind") == "bullet" || e.mark.rfind("land", 0) == 0;
    const std::string land = Cell(row, "land");
    if (!land.empty()) {
      try {
        e.land = std::stoi(land);
      } catch (const std::exception&) {
        Fail(truth + ": " + e.file + ": land is not a number: " + land);
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

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

LevelCounts CountCandidates(const std::vector<Entry>& e, bool has_land_id, bool has_bullet) {
  LevelCounts c;
  const int n = static_cast<int>(e.size());
  const auto at = [&](int i) -> const Entry& { return e[static_cast<std::size_t>(i)]; };
  const auto count = [](std::pair<std::size_t, std::size_t>* into) {
    return [into](const Candidate& k) {
      ++into->first;
      into->second += k.known_match ? 1 : 0;
    };
  };
  ForEachPair(
      n, [&](int i, int j) { return !at(i).is_land && !at(j).is_land && at(i).mark == at(j).mark; },
      [&](int i, int j) { return at(i).firearm == at(j).firearm; }, count(&c.pair));
  if (has_land_id)
    ForEachPair(
        n, [&](int i, int j) { return at(i).is_land && at(j).is_land; },
        [&](int i, int j) { return !at(i).land_id.empty() && at(i).land_id == at(j).land_id; },
        count(&c.land));
  if (has_bullet) {
    std::map<std::string, std::string> firearm_of;  // bullet → firearm
    for (const Entry& x : e)
      if (x.is_land) firearm_of[x.bullet] = x.firearm;
    std::vector<std::string> firearms;
    for (const auto& [bullet, firearm] : firearm_of) firearms.push_back(firearm);
    ForEachPair(
        static_cast<int>(firearms.size()), [](int, int) { return true; },
        [&](int i, int j) {
          return firearms[static_cast<std::size_t>(i)] == firearms[static_cast<std::size_t>(j)];
        },
        count(&c.bullet));
  }
  return c;
}

/// All KM pairs and all or a seeded uniform sample of KNM pairs (see top of file).
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

/// A prepared scan (the surface itself is not kept).
using Prepared = std::shared_ptr<const PreparedMark>;

/// Loads scan i: its surface, and its name for messages (a file path).
using LoadScan = std::function<Surface(std::size_t i, std::string* name)>;

/// Loads and prepares n scans in parallel. A scan that fails is left out:
/// its prepared mark stays null and (*errors)[i] says why ("<path>: <reason>").
std::vector<Prepared> PrepareAll(std::size_t n, const LoadScan& load,
                                 const std::vector<const Comparator*>& comparators, const std::string& label,
                                 std::vector<std::string>* errors) {
  std::vector<Prepared> prepared(n);
  errors->assign(n, "");
  Progress progress(n, label);
  std::mutex progress_mutex;
  {
    QuietStderr quiet;
    tbb::parallel_for(std::size_t{0}, n, [&](std::size_t i) {
      std::string name;
      try {
        const Surface surface = load(i, &name);
        try {
          prepared[i] = comparators[i]->Prepare(surface);
        } catch (const Error& e) {
          (*errors)[i] = name + ": " + e.what();
        }
      } catch (const Error& e) {
        const std::string what = e.what();
        (*errors)[i] = name.empty() || what.rfind(name, 0) == 0 ? what : name + ": " + what;
      }
      std::lock_guard lock(progress_mutex);
      progress.Tick(name);
    });
  }
  return prepared;
}

/// As PrepareAll, where every scan must succeed: the first failure (in scan
/// order) is a hard error naming the scan (synthetic sets, made in memory).
std::vector<Prepared> PrepareEvery(std::size_t n, const LoadScan& load,
                                   const std::vector<const Comparator*>& comparators,
                                   const std::string& label) {
  std::vector<std::string> errors;
  std::vector<Prepared> prepared = PrepareAll(n, load, comparators, label, &errors);
  for (const std::string& e : errors) {
    if (!e.empty()) throw Error(e);
  }
  return prepared;
}

/// Compares the pairs (global scan indices) in parallel, results by index.
std::vector<Comparison> CompareAll(const std::vector<std::pair<int, int>>& pairs,
                                   const std::vector<Prepared>& prepared, const Comparator& comparator,
                                   const std::string& label) {
  std::vector<Comparison> out(pairs.size());
  Progress progress(pairs.size(), label);
  std::mutex progress_mutex;
  tbb::parallel_for(std::size_t{0}, pairs.size(), [&](std::size_t k) {
    out[k] = comparator.Compare(*prepared[static_cast<std::size_t>(pairs[k].first)],
                                *prepared[static_cast<std::size_t>(pairs[k].second)]);
    std::lock_guard lock(progress_mutex);
    progress.Tick("");
  });
  return out;
}

std::string SampleNote(const Selection& sel, std::size_t max_pairs) {
  return "sampled: " + std::to_string(sel.pairs.size()) + " of " + std::to_string(sel.candidates) +
         " pairs (all " + std::to_string(sel.km) +
         " known matches, a seeded uniform sample of non-matches; " + "--max-pairs " +
         std::to_string(max_pairs) + "); ranks are over the sampled pairs";
}

/// Fills a level's pairs and metrics from a selection and per-pair comparisons.
void FillLevel(EvalLevel* lv, const Selection& sel, std::vector<Comparison> alignments,
               std::size_t max_pairs) {
  for (std::size_t k = 0; k < sel.pairs.size(); ++k) {
    const double score = alignments.empty() ? 0 : alignments[k].score;
    lv->pairs.push_back({sel.pairs[k].a, sel.pairs[k].b, score, sel.pairs[k].known_match});
  }
  lv->alignments = std::move(alignments);
  lv->candidate_pairs = sel.candidates;
  lv->sampled = sel.sampled;
  if (sel.sampled) lv->notes.push_back(SampleNote(sel, max_pairs));
  lv->metrics = ComputeMetrics(lv->pairs, static_cast<int>(lv->names.size()));
}

/// Evaluation context shared by the levels.
struct Context {
  const EvalOptions* options = nullptr;
  std::string dataset;  ///< the set's name in the levels
  std::vector<Entry> entries;
  std::vector<Prepared> prepared;
};

EvalLevel NewLevel(const Context& ctx, const std::string& level, const std::string& comparator) {
  EvalLevel lv;
  lv.level = level;
  lv.comparator = comparator;
  lv.dataset = ctx.dataset;
  return lv;
}

/// Share of KM pairs (both directions) whose partner is among the query's 10
/// nearest scans by embedding (dot product; ties by index); NaN without embeddings.
double EmbeddingRecall10(const Context& ctx, const std::vector<int>& ids, const Comparator& comparator,
                         const std::function<bool(int, int)>& match) {
  if (!ctx.options->embedding_recall) return std::numeric_limits<double>::quiet_NaN();
  std::vector<std::vector<float>> e;
  for (int id : ids) {
    e.push_back(comparator.Embed(*ctx.prepared[static_cast<std::size_t>(id)]));
    if (e.back().empty()) return std::numeric_limits<double>::quiet_NaN();
  }
  const int n = static_cast<int>(ids.size());
  std::vector<std::size_t> hits(static_cast<std::size_t>(n), 0), total(static_cast<std::size_t>(n), 0);
  tbb::parallel_for(0, n, [&](int q) {
    std::vector<std::pair<double, int>> order;
    for (int j = 0; j < n; ++j) {
      if (j == q) continue;
      double dot = 0;
      for (std::size_t k = 0; k < e[static_cast<std::size_t>(q)].size(); ++k)
        dot += static_cast<double>(e[static_cast<std::size_t>(q)][k]) * e[static_cast<std::size_t>(j)][k];
      order.emplace_back(-dot, j);
    }
    const std::size_t top = std::min<std::size_t>(10, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end());
    for (int j = 0; j < n; ++j) {
      if (j == q || !match(q, j)) continue;
      ++total[static_cast<std::size_t>(q)];
      for (std::size_t k = 0; k < top; ++k) {
        if (order[k].second == j) ++hits[static_cast<std::size_t>(q)];
      }
    }
  });
  std::size_t h = 0, t = 0;
  for (int q = 0; q < n; ++q) h += hits[static_cast<std::size_t>(q)], t += total[static_cast<std::size_t>(q)];
  return t == 0 ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(h) / static_cast<double>(t);
}

/// "pair" level over the scans `ids` (global indices): same mark, KM = same firearm.
EvalLevel PairLevel(const Context& ctx, const std::vector<int>& ids, const Comparator& comparator) {
  EvalLevel lv = NewLevel(ctx, "pair", comparator.Name());
  const auto& e = ctx.entries;
  const auto at = [&](int i) -> const Entry& {
    return e[static_cast<std::size_t>(ids[static_cast<std::size_t>(i)])];
  };
  for (int id : ids) lv.names.push_back(e[static_cast<std::size_t>(id)].file);
  const Selection sel = SelectPairs(
      static_cast<int>(ids.size()), [&](int i, int j) { return at(i).mark == at(j).mark; },
      [&](int i, int j) { return at(i).firearm == at(j).firearm; }, ctx.options->max_pairs);
  std::vector<std::pair<int, int>> global;
  for (const Candidate& c : sel.pairs)
    global.emplace_back(ids[static_cast<std::size_t>(c.a)], ids[static_cast<std::size_t>(c.b)]);
  FillLevel(&lv, sel, CompareAll(global, ctx.prepared, comparator, "comparing"), ctx.options->max_pairs);
  lv.embedding_recall10 = EmbeddingRecall10(ctx, ids, comparator, [&](int i, int j) {
    return at(i).mark == at(j).mark && at(i).firearm == at(j).firearm;
  });
  return lv;
}

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

/// "land" (when land_id exists) and "bullet" levels over the land scans `ids`.
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
    for (int id : ids) lv.names.push_back(e[static_cast<std::size_t>(id)].file);
    std::vector<Comparison> results;
    for (const Candidate& c : land_sel->pairs)
      results.push_back(scores.Get(ids[static_cast<std::size_t>(c.a)], ids[static_cast<std::size_t>(c.b)]));
    FillLevel(&lv, *land_sel, std::move(results), max_pairs);
    lv.embedding_recall10 = EmbeddingRecall10(ctx, ids, comparator, [&](int i, int j) {
      return !at(i).land_id.empty() && at(i).land_id == at(j).land_id;
    });
    levels.push_back(std::move(lv));
  }
  if (has_bullet) {
    EvalLevel lv = NewLevel(ctx, "bullet", comparator.Name());
    for (const Bullet& b : bullets) lv.names.push_back(b.id);
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

void PrintLevel(const EvalLevel& lv, const nlohmann::json& paths) {
  const Metrics& m = lv.metrics;
  std::printf("%s level, comparator %s: %zu items, %zu pairs (%zu known match, %zu known non-match)\n",
              lv.level.c_str(), lv.comparator.c_str(), lv.names.size(), m.pairs, m.km_pairs, m.knm_pairs);
  std::printf("  AUC %s  EER %s  FPR@TPR95 %s  FPR@TPR99 %s  margin %s\n", Num(m.auc).c_str(),
              Num(m.eer).c_str(), Num(m.fpr_at_tpr95).c_str(), Num(m.fpr_at_tpr99).c_str(),
              Num(m.margin).c_str());
  std::printf("  rank-1 %s  rank-10 %s  (%zu queries)\n", Num(m.rank1).c_str(), Num(m.rank10).c_str(),
              m.queries);
  if (lv.calibration) {
    const Calibration& c = lv.calibration->calibration;
    std::printf("  Cllr %s bits (min Cllr %s)  calibration: %s (%s; log10 LR in [%s, %s])\n",
                m.cllr ? Num(*m.cllr).c_str() : "n/a", Num(lv.min_cllr).c_str(), c.provenance.set.c_str(),
                lv.calibration->source.c_str(), Num(c.min_log10_lr).c_str(), Num(c.max_log10_lr).c_str());
  } else {
    std::printf("  Cllr: not calibrated (no calibration for comparator %s at this level; min Cllr %s)\n",
                lv.comparator.c_str(), Num(lv.min_cllr).c_str());
  }
  if (std::isfinite(lv.embedding_recall10))
    std::printf("  embedding recall@10 %s\n", Num(lv.embedding_recall10).c_str());
  for (const std::string& n : lv.notes) std::printf("  note: %s\n", n.c_str());
  if (!paths.is_null()) std::printf("  report: %s\n", paths["html"].get<std::string>().c_str());
}

/// The levels of a prepared set: "pair" over the areal scans, "land" and
/// "bullet" over the bullet lands.
std::vector<EvalLevel> RunLevels(const Context& ctx, const Comparator& areal_cmp, const Comparator& land_cmp,
                                 bool has_land_id, bool has_bullet) {
  std::vector<int> areal, lands;
  for (std::size_t i = 0; i < ctx.entries.size(); ++i)
    (ctx.entries[i].is_land ? lands : areal).push_back(static_cast<int>(i));
  std::vector<EvalLevel> levels;
  if (areal.size() >= 2) levels.push_back(PairLevel(ctx, areal, areal_cmp));
  if (lands.size() >= 2) {
    for (EvalLevel& lv : BulletLevels(ctx, lands, land_cmp, has_land_id, has_bullet))
      levels.push_back(std::move(lv));
  }
  return levels;
}

/// The chosen calibration of a level: --calibration FILE where it is for this
/// comparator and level, else the comparator's default for the level.
std::optional<ChosenCalibration> LevelCalibration(const EvalArgs& args,
                                                  const std::optional<Calibration>& file,
                                                  const EvalLevel& lv) {
  const std::string level = CalibrationLevelOf(lv.level);
  const bool fits = file && file->comparator == lv.comparator && file->level == level;
  return ChooseCalibration(fits ? file : std::nullopt, args.calibration, lv.comparator, level);
}

int RunEval(const EvalArgs& args) {
  std::optional<tbb::global_control> limit;
  if (args.threads > 0)
    limit.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(args.threads));
  std::optional<Calibration> file;
  if (!args.calibration.empty()) file = ReadCalibrationFile(args.calibration);
  EvalOptions options = args.options;
  options.orientation = args.read.StatedOrientation();
  std::vector<SkippedScan> refused;
  std::vector<EvalLevel> levels = EvaluateDataset(args.dataset, options, args.read.Options(), &refused);
  for (const SkippedScan& k : refused) PrintError(k.reason);
  bool file_used = false;
  for (EvalLevel& lv : levels) {
    ApplyCalibration(&lv, LevelCalibration(args, file, lv));
    file_used = file_used || (lv.calibration && lv.calibration->source == args.calibration);
  }
  Check(!file || file_used, args.calibration + ": calibration is for comparator " +
                                (file ? file->comparator : "") + " (" + (file ? file->level : "") +
                                " level), which no level of " + args.dataset + " uses");
  nlohmann::json out = nlohmann::json::array();
  for (const EvalLevel& lv : levels) {
    nlohmann::json j = LevelJson(lv);
    nlohmann::json paths;
    if (!args.report.empty()) paths = WriteLevelReport(lv, args.report);
    if (!paths.is_null()) j["report"] = paths;
    if (args.json)
      out.push_back(j);
    else
      PrintLevel(lv, paths);
  }
  if (args.json) std::cout << (out.size() == 1 ? out[0] : out).dump(2) << "\n";
  return 0;
}

}  // namespace

std::vector<EvalLevel> EvaluateDataset(const std::string& dataset, const EvalOptions& options,
                                       const ingest::ReadOptions& read, std::vector<SkippedScan>* refused) {
  const fs::path truth = fs::path(dataset) / "truth.csv";
  std::error_code ec;
  if (!fs::is_regular_file(truth, ec)) throw Error(dataset + ": no truth.csv (see datasets/README.md)");
  const ingest::Manifest manifest = ingest::ReadManifest(truth.string());
  const auto has = [&](const char* c) {
    return std::find(manifest.columns.begin(), manifest.columns.end(), c) != manifest.columns.end();
  };
  Context ctx;
  ctx.options = &options;
  ctx.dataset = dataset;
  ctx.entries = ReadEntries(manifest, truth.string());
  std::size_t lands = 0;
  for (const Entry& e : ctx.entries) lands += e.is_land ? 1 : 0;
  if (ctx.entries.size() < 2) throw Error(dataset + ": fewer than two scans in truth.csv");
  if (lands >= 2 && !has("land_id") && !has("bullet"))
    throw Error(dataset + ": truth.csv has bullet lands but neither land_id nor bullet columns");
  const auto areal_cmp = MakeComparator(options.comparator.empty() ? "cmc" : options.comparator);
  const auto land_cmp = MakeComparator(options.comparator.empty() ? "land" : options.comparator);
  std::vector<const Comparator*> per_scan;
  for (const Entry& e : ctx.entries) per_scan.push_back(e.is_land ? land_cmp.get() : areal_cmp.get());
  // Every scan is read with its row's overrides (xy_unit, z_unit,
  // spacing_um, orientation) and taken in as its kind: lands turned upright.
  std::vector<ingest::ScanQuality> quality(ctx.entries.size());
  const LoadScan load = [&](std::size_t i, std::string* name) {
    *name = (fs::path(dataset) / ctx.entries[i].file).string();
    const ingest::RowOverrides own = ingest::ApplyRowOverrides(&manifest.rows[i], read, options.orientation);
    const ingest::Scan scan = ingest::ReadScan(*name, own.read);
    ingest::IntakeOptions intake;
    intake.kind = ctx.entries[i].is_land ? "bullet" : "cartridge_case";
    intake.orientation = own.orientation;
    intake.orientation_source = own.orientation_source;
    ingest::Intake in = ingest::TakeIn(scan.surface, intake);
    quality[i] = std::move(in.quality);  // each i is written by one task only
    return std::move(in.surface);
  };
  std::vector<std::string> errors;
  const std::vector<Prepared> prepared = PrepareAll(ctx.entries.size(), load, per_scan, "reading", &errors);
  // Refused scans are left out with every pair they were in; the levels
  // say which and how many pairs that cost.
  const LevelCounts before = CountCandidates(ctx.entries, has("land_id"), has("bullet"));
  Context usable;
  usable.options = ctx.options;
  usable.dataset = ctx.dataset;
  std::vector<std::size_t> kept;
  std::vector<SkippedScan> skipped_areal, skipped_lands;
  for (std::size_t i = 0; i < ctx.entries.size(); ++i) {
    if (errors[i].empty()) {
      kept.push_back(i);
      usable.entries.push_back(ctx.entries[i]);
      usable.prepared.push_back(prepared[i]);
      continue;
    }
    (ctx.entries[i].is_land ? skipped_lands : skipped_areal)
        .push_back({ctx.entries[i].file, ColumnHint(errors[i])});
  }
  if (refused) {
    refused->clear();
    for (std::size_t i = 0; i < ctx.entries.size(); ++i)
      if (!errors[i].empty()) refused->push_back({ctx.entries[i].file, ColumnHint(errors[i])});
  }
  if (usable.entries.size() < 2)
    throw Error(dataset + ": fewer than two usable scans" +
                (std::find_if(errors.begin(), errors.end(),
                              [](const std::string& e) { return !e.empty(); }) != errors.end()
                     ? " (first refused: " +
                           *std::find_if(errors.begin(), errors.end(),
                                         [](const std::string& e) { return !e.empty(); }) +
                           ")"
                     : ""));
  std::vector<EvalLevel> levels = RunLevels(usable, *areal_cmp, *land_cmp, has("land_id"), has("bullet"));
  const LevelCounts after = CountCandidates(usable.entries, has("land_id"), has("bullet"));
  for (EvalLevel& lv : levels) {
    const bool land_level = lv.level != "pair";
    lv.skipped = land_level ? skipped_lands : skipped_areal;
    const auto [all, all_km] = before.Of(lv.level);
    const auto [now, now_km] = after.Of(lv.level);
    lv.skipped_pairs = all - now;
    lv.skipped_km_pairs = all_km - now_km;
    if (!lv.skipped.empty())
      lv.notes.push_back(std::to_string(lv.skipped.size()) + " scan" + (lv.skipped.size() == 1 ? "" : "s") +
                         " refused and left out with " + std::to_string(lv.skipped_pairs) +
                         " candidate pair" + (lv.skipped_pairs == 1 ? "" : "s") + " (" +
                         std::to_string(lv.skipped_km_pairs) +
                         " known match): the metrics are over the rest only; see skipped_files");
    for (std::size_t k = 0; k < kept.size(); ++k) {
      const Entry& e = ctx.entries[kept[k]];
      if (e.is_land != land_level) continue;
      const ingest::ScanQuality& q = quality[kept[k]];
      if (q.Warnings() > 0) ++lv.weak_scans;
      if (!q.orientation_settled) lv.orientation_unsettled.push_back(e.file);
      if (!q.orientation.empty() && q.orientation != "upright") lv.turned.emplace_back(e.file, q.orientation);
    }
    if (!lv.orientation_unsettled.empty())
      lv.notes.push_back("orientation not settled for " + std::to_string(lv.orientation_unsettled.size()) +
                         " scan" + (lv.orientation_unsettled.size() == 1 ? "" : "s") +
                         " (see orientation_unsettled): a profile mirrored across the land does not match; "
                         "state --orientation or a truth.csv 'orientation' column");
    if (!lv.turned.empty())
      lv.notes.push_back(std::to_string(lv.turned.size()) + " scan" + (lv.turned.size() == 1 ? "" : "s") +
                         " turned upright (striae along x as stored; see turned_upright)");
    if (lv.level == "bullet" && !skipped_lands.empty())
      lv.notes.push_back("bullets with a refused land are compared without it (and get no likelihood ratio)");
  }
  return levels;
}

std::vector<EvalLevel> EvaluateSynthetic(const SynthOptions& synth, const EvalOptions& options,
                                         const std::string& name) {
  synth.Check();
  const bool bullets = synth.kind == "bullet";
  const auto cmp = MakeComparator(!options.comparator.empty() ? options.comparator
                                  : bullets                   ? "land"
                                                              : "cmc");
  Context ctx;
  ctx.options = &options;
  ctx.dataset = name;
  const auto n = static_cast<std::size_t>(SynthScanCount(synth));
  ctx.entries.resize(n);
  const LoadScan load = [&](std::size_t i, std::string* file) {
    SynthScan scan = GenerateSynthScan(synth, static_cast<int>(i));
    Entry& e = ctx.entries[i];  // each i is written by one task only
    e.file = *file = scan.file;
    e.firearm = scan.firearm;
    e.mark = scan.mark;
    e.bullet = scan.bullet;
    e.land_id = scan.land_id;
    e.land = scan.land;
    e.is_land = bullets;
    return std::move(scan.surface);
  };
  ctx.prepared = PrepareEvery(n, load, std::vector<const Comparator*>(n, cmp.get()), "synthetic " + name);
  return RunLevels(ctx, *cmp, *cmp, bullets, bullets);
}

void RegisterEval(CLI::App& app, Action* action) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd =
      app.add_subcommand("eval", "Accuracy on a dataset with ground truth: AUC, EER, ranks, Cllr");
  cmd->add_option("dataset", args->dataset, "Dataset folder with truth.csv (see datasets/README.md)")
      ->required();
  cmd->add_option("--comparator", args->options.comparator,
                  "Comparator (default: cmc for cartridge cases and 2D images, land for bullet lands)");
  cmd->add_flag("--json", args->json, "Print JSON: one object per level (a list when several)");
  cmd->add_option("--report", args->report,
                  "Write <level>-pairs.csv, -metrics.json, -report.html, -hist.png, -roc.png here");
  cmd->add_option("--max-pairs", args->options.max_pairs,
                  "Most pairs per level; beyond it all known matches and a seeded sample of non-matches")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "Worker threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "--calibration", args->calibration,
      "Calibration file from `toolmark calibrate` for Cllr (default: the comparator's shipped one)");
  args->read.Add(cmd);
  cmd->callback([args, action] { *action = [args] { return RunEval(*args); }; });
}

}  // namespace toolmark::cli
