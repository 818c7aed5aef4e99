// Preparing scans and scoring the pair level (evaluate.cc has the rules).
#include "levels.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "toolmark/base/terminal.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/metrics.h"

namespace toolmark::eval::detail {

using base::Progress;
using base::QuietStderr;

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

namespace {

std::string SampleNote(const Selection& sel, std::size_t max_pairs) {
  return "sampled: " + std::to_string(sel.pairs.size()) + " of " + std::to_string(sel.candidates) +
         " pairs (all " + std::to_string(sel.km) +
         " known matches, a seeded uniform sample of non-matches; " + "--max-pairs " +
         std::to_string(max_pairs) + "); ranks are over the sampled pairs";
}

}  // namespace

/// Fills a level's pairs and metrics from a selection and per-pair comparisons.
void FillLevel(EvalLevel* lv, const Selection& sel, std::vector<Comparison> alignments, std::size_t max_pairs,
               const std::string& score_detail) {
  const bool detail = !score_detail.empty() && !alignments.empty();
  if (detail) lv->score_name = score_detail;
  for (std::size_t k = 0; k < sel.pairs.size(); ++k) {
    double score = alignments.empty() ? 0 : alignments[k].score;
    if (detail) {
      const std::optional<double> v = DetailNamed(alignments[k].details, score_detail);
      Check(v.has_value(), "--score-detail: comparator " + lv->comparator + " has no detail '" +
                               score_detail + "' (eval --report's pairs CSV lists its details)");
      score = *v;
    }
    lv->pairs.push_back({sel.pairs[k].a, sel.pairs[k].b, score, sel.pairs[k].known_match});
  }
  lv->alignments = std::move(alignments);
  lv->candidate_pairs = sel.candidates;
  lv->sampled = sel.sampled;
  if (sel.sampled) lv->notes.push_back(SampleNote(sel, max_pairs));
  lv->metrics = ComputeMetrics(lv->pairs, static_cast<int>(lv->names.size()));
}

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
  for (int id : ids) {
    lv.names.push_back(e[static_cast<std::size_t>(id)].file);
    lv.firearms.push_back(e[static_cast<std::size_t>(id)].firearm);
  }
  const Selection sel = SelectPairs(
      static_cast<int>(ids.size()), [&](int i, int j) { return at(i).mark == at(j).mark; },
      [&](int i, int j) { return at(i).firearm == at(j).firearm; }, ctx.options->max_pairs);
  std::vector<std::pair<int, int>> global;
  for (const Candidate& c : sel.pairs)
    global.emplace_back(ids[static_cast<std::size_t>(c.a)], ids[static_cast<std::size_t>(c.b)]);
  FillLevel(&lv, sel, CompareAll(global, ctx.prepared, comparator, "comparing"), ctx.options->max_pairs,
            ctx.options->score_detail);
  lv.embedding_recall10 = EmbeddingRecall10(ctx, ids, comparator, [&](int i, int j) {
    return at(i).mark == at(j).mark && at(i).firearm == at(j).firearm;
  });
  return lv;
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

}  // namespace toolmark::eval::detail
