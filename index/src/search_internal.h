// SearchEngine::Impl and its helpers, shared by search.cc and search_bullet.cc. Private to index.
#pragma once

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "toolmark/engine/calibration.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/search.h"

namespace toolmark::index {
namespace detail {

using Clock = std::chrono::steady_clock;
inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// Prepared candidate marks kept in memory (batch correlation).
inline constexpr std::size_t kPreparedCache = 256;

/// The mark a kind's whole-item embedding describes.
inline Mark MarkFor(Kind kind) { return {DefaultComparator(kind).marks.front(), 0}; }

/// Feature version of stored quick features ("cmc-quick-<version>").
inline std::string QuickVersionOf(const std::string& comparator) {
  return comparator + "-quick-" + Version();
}

/// An unknown (empty / 0) value on either side contradicts nothing.
inline bool Compatible(const ClassCharacteristics& q, const ClassCharacteristics& c) {
  const auto same = [](const std::string& a, const std::string& b) {
    return a.empty() || b.empty() || a == b;
  };
  return same(q.caliber, c.caliber) && same(q.firing_pin_shape, c.firing_pin_shape) &&
         same(q.twist, c.twist) && (q.lands == 0 || c.lands == 0 || q.lands == c.lands);
}

}  // namespace detail

struct SearchEngine::Impl {
  Database& db;
  Kind kind;
  std::string name, version;
  SearchOptions options;
  std::unique_ptr<Comparator> comparator;
  std::map<ItemId, ItemRecord> items;  ///< of this kind
  /// Bullets: each bullet's land items (case, item label → items), listed with `items`.
  std::map<std::pair<std::string, std::string>, std::vector<ItemId>> bullets;
  std::optional<VectorIndex> index;
  /// Screening features of this kind's items (comparators with a screening
  /// score), loaded and completed by Update.
  std::map<ItemId, std::vector<float>> screen;
  std::optional<Calibration> calibration;  ///< options.calibration, else the comparator's shipped one, if any
  std::optional<Calibration> bullet_calibration;  ///< bullets: the comparator's shipped bullet-level one
  mutable std::mutex cache_mutex;
  mutable std::map<ItemId, std::shared_ptr<const PreparedMark>> cache;
  mutable std::deque<ItemId> cache_order;  ///< oldest first
  mutable SearchTimings timings;           ///< of the last search

  Impl(Database& d, Kind k, const SearchOptions& o)
      : db(d),
        kind(k),
        name(ComparatorForKind(k)),
        version(FeatureVersion(name)),
        options(o),
        comparator(MakeComparator(name)),
        calibration(o.calibration ? o.calibration : DefaultCalibration(name, "pair")),
        bullet_calibration(k == Kind::kBullet ? DefaultCalibration(name, "bullet") : std::nullopt) {}

  std::string IndexPath() const {
    return (std::filesystem::path(db.folder()) / "index" / (version + ".tmvi")).string();
  }

  /// Feature version of the stored quick features ("cmc-quick-<version>").
  std::string QuickVersion() const { return detail::QuickVersionOf(name); }
  /// Feature version of the stored screening features ("cmc-screen-<version>").
  std::string ScreenVersion() const { return ScreenFeatureVersion(name); }

  /// A stored item's quick mark: from its stored quick features, else from
  /// its prepared mark (the same numbers either way).
  std::shared_ptr<const PreparedMark> QuickItem(ItemId id) const {
    std::optional<FeatureRecord> f = db.Feature(id, detail::MarkFor(kind), name, QuickVersion());
    if (f) return comparator->QuickMark(f->vector);
    return comparator->QuickMark(comparator->QuickFeatures(*PreparedItem(id)));
  }

  /// A file query, checked against this engine; its surface kind taken from
  /// its surface.
  SearchQuery Checked(const SearchQuery& query) const {
    Check(index.has_value(), "search: Update() first");
    Check(query.kind == kind, std::string("search: a ") + KindName(query.kind) +
                                  " cannot be searched among " + KindName(kind) + "s");
    SearchQuery q = query;
    q.surface_kind = query.surface.kind;
    return q;
  }

  /// A stored item's prepared mark, from the cache or prepared now (the
  /// same mark either way, so results do not depend on the cache).
  std::shared_ptr<const PreparedMark> PreparedItem(ItemId id) const {
    {
      std::lock_guard<std::mutex> lock(cache_mutex);
      if (const auto it = cache.find(id); it != cache.end()) return it->second;
    }
    std::shared_ptr<const PreparedMark> mark = comparator->Prepare(db.LoadSurface(id));
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache.emplace(id, mark).second) {
      cache_order.push_back(id);
      if (cache_order.size() > detail::kPreparedCache) {
        cache.erase(cache_order.front());
        cache_order.pop_front();
      }
    }
    return mark;
  }

  /// Runs `work` on every hit in parallel; the first failure (in hit order)
  /// is rethrown, naming the item.
  template <typename Work>
  static void ForEachHit(std::vector<SearchHit>* hits, const Work& work) {
    std::vector<std::string> errors(hits->size());
    tbb::parallel_for(std::size_t{0}, hits->size(), [&](std::size_t i) {
      try {
        work((*hits)[i]);
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    });
    for (std::size_t i = 0; i < errors.size(); ++i)
      if (!errors[i].empty()) throw Error("item " + std::to_string((*hits)[i].item) + ": " + errors[i]);
  }

  /// Shortlist; re-ranked by the quick score (where the comparator has one
  /// and the shortlist is longer than options.fine); the fine comparison of
  /// the remaining candidates in parallel; ranked.
  std::vector<SearchHit> Rank(const PreparedMark& prepared, const SearchQuery& query) const {
    const auto t0 = detail::Clock::now();
    std::vector<std::optional<double>> screened;
    const std::vector<VectorHit> shortlist = ShortlistOf(prepared, query, &screened);
    const auto t1 = detail::Clock::now();
    std::vector<SearchHit> hits(shortlist.size());
    for (std::size_t i = 0; i < shortlist.size(); ++i) {
      hits[i].item = shortlist[i].id;
      hits[i].similarity = shortlist[i].similarity;
      hits[i].shortlist_rank = static_cast<int>(i) + 1;
      hits[i].screen_score = screened[i];
    }
    const std::size_t fine = options.fine == 0 ? hits.size() : std::max(options.fine, options.top);
    if (hits.size() > fine && comparator->HasQuickScore()) {
      // Both sides rebuilt from their quick features, always (a stored
      // candidate's come from the database), so the order does not depend on
      // what happens to be cached.
      const auto query_quick = comparator->QuickMark(comparator->QuickFeatures(prepared));
      ForEachHit(&hits, [&](SearchHit& h) {
        h.quick_score = comparator->QuickScore(*query_quick, *QuickItem(h.item));
      });
      // Best quick score first; ties keep the shortlist order.
      std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
        return *a.quick_score > *b.quick_score;
      });
      for (std::size_t i = 0; i < hits.size(); ++i) hits[i].rerank = static_cast<int>(i) + 1;
      hits.resize(fine);
    }
    const auto t2 = detail::Clock::now();
    ForEachHit(&hits, [&](SearchHit& h) {
      if (items.at(h.item).values_sha256.empty()) {
        // Shared at features level: no scan to compare finely; its quick
        // score (from its stored quick features) is its score.
        h.features_only = true;
        if (!h.quick_score) {
          Check(comparator->HasQuickScore(),
                "item " + std::to_string(h.item) + ": no scan and no quick score");
          h.quick_score = comparator->QuickScore(*comparator->QuickMark(comparator->QuickFeatures(prepared)),
                                                 *QuickItem(h.item));
        }
        h.score = *h.quick_score;
        return;
      }
      {
        const Comparison c = comparator->Compare(prepared, *PreparedItem(h.item));
        h.score = c.score;
        h.rotation_deg = c.rotation_deg;
        h.shift_x_um = c.shift_x_um;
        h.shift_y_um = c.shift_y_um;
        // The score, k of n or the named features, as the calibration reads them.
        if (calibration) {
          h.log10_lr = Log10LrOfComparison(*calibration, c.score, c.details).log10_lr;
          h.calibration = calibration->provenance.set;
        }
      }
    });
    timings.shortlist_ms = detail::Ms(t1 - t0);
    timings.rerank_ms = detail::Ms(t2 - t1);
    timings.fine_ms = detail::Ms(detail::Clock::now() - t2);
    timings.reranked = shortlist.size();
    timings.compared = hits.size();
    std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
      if (a.score != b.score) return a.score > b.score;
      if (a.similarity != b.similarity) return a.similarity > b.similarity;
      return a.item < b.item;
    });
    if (hits.size() > options.top) hits.resize(options.top);
    for (std::size_t i = 0; i < hits.size(); ++i) {
      SearchHit& h = hits[i];
      h.rank = static_cast<int>(i) + 1;
      const ItemRecord& it = items.at(h.item);
      h.case_id = it.case_id;
      h.item_label = it.item_label;
      h.jurisdiction = it.jurisdiction;
      h.file = it.file;
      h.quality = it.quality;
    }
    return hits;
  }

  /// The vector index's candidates for a prepared query, filtered inside
  /// the search; with `screened`, each one's screening score where it chose it.
  std::vector<VectorHit> ShortlistOf(const PreparedMark& prepared, const SearchQuery& query,
                                     std::vector<std::optional<double>>* screened = nullptr) const {
    std::vector<float> code;
    if (Screening()) code = comparator->ScreenFeaturesOf(prepared);
    return ShortlistOfEmbedding(comparator->Embed(prepared), query, code, screened);
  }

  /// Whether shortlists are screened (docs/search.md, "Screening").
  bool Screening() const {
    // Below screen_all_below a comparator with a quick score re-ranks every
    // candidate; one without screens at every size.
    return comparator->HasScreen() && options.screened > 0 && options.shortlist_depth > options.shortlist &&
           index && (!comparator->HasQuickScore() || index->size() > options.screen_all_below);
  }

  /// The embedding's best `k` of `deep` in its order, then the best
  /// options.screened of the rest by the screening score against `code`
  /// (ties: the embedding's order). A candidate without screening features
  /// comes last.
  std::vector<VectorHit> Screened(const std::vector<VectorHit>& deep, std::size_t k,
                                  const std::vector<float>& code,
                                  std::vector<std::optional<double>>* screened) const {
    const std::size_t head = std::min(deep.size(), k);
    std::vector<double> score(deep.size() - head);
    tbb::parallel_for(head, deep.size(), [&](std::size_t i) {
      const auto it = screen.find(deep[i].id);
      score[i - head] = it == screen.end() ? -1e300 : comparator->ScreenScore(code, it->second);
    });
    std::vector<std::size_t> order(score.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
    std::vector<VectorHit> out(deep.begin(), deep.begin() + static_cast<std::ptrdiff_t>(head));
    screened->assign(head, std::nullopt);
    for (std::size_t i = 0; i < order.size() && out.size() < head + options.screened; ++i) {
      const double s = score[order[i]];
      out.push_back(deep[head + order[i]]);
      screened->push_back(s > -1e300 ? std::optional<double>(s) : std::nullopt);
    }
    return out;
  }

  /// The shortlist of embedding `q`; screened when `code` (the query's
  /// screening features, which callers make only where Screening()) is given.
  std::vector<VectorHit> ShortlistOfEmbedding(const std::vector<float>& q, const SearchQuery& query,
                                              const std::vector<float>& code = {},
                                              std::vector<std::optional<double>>* screened = nullptr) const {
    std::vector<std::optional<double>> unused;
    if (!screened) screened = &unused;
    screened->clear();
    if (index->size() == 0) return {};
    Check(static_cast<int>(q.size()) == index->dims(),
          "search: the query's embedding does not match the index");
    const std::set<std::string> scope(options.jurisdictions.begin(), options.jurisdictions.end());
    const std::string surface_kind = SurfaceKindName(query.surface_kind);
    const VectorFilter filter = [&](VectorId id) {
      if (id == query.exclude) return false;
      const auto it = items.find(id);
      if (it == items.end()) return false;
      if (it->second.surface_kind != surface_kind) return false;  // 3D with 3D, 2D with 2D
      if (!scope.empty() && !scope.count(it->second.jurisdiction)) return false;
      return !options.match_class || detail::Compatible(query.class_marks, it->second.class_marks);
    };
    std::size_t k = options.shortlist;
    if (comparator->HasQuickScore() && index->size() <= options.screen_all_below)
      k = std::max(k, index->size());
    if (!code.empty())
      return Screened(index->Search(q.data(), options.shortlist_depth, &filter), k, code, screened);
    std::vector<VectorHit> out = index->Search(q.data(), k, &filter);
    screened->assign(out.size(), std::nullopt);
    return out;
  }

 private:
  friend class SearchEngine;  // Update() runs these stages (defined in search.cc)

  /// Derives and stores the features `missing[start, end)` lack; warns of items that cannot be prepared.
  void EmbedBatch(const std::vector<ItemId>& missing, std::size_t start, std::size_t end,
                  const std::set<ItemId>& have_quick, std::map<ItemId, std::vector<float>>* features,
                  std::vector<std::string>* warnings);
  /// Loads the vector index (else starts one), brings it in line with `features`, saves it if changed.
  /// The stored features of this version, and those the shard's items lacked, made and stored.
  struct Embedded {
    std::map<ItemId, std::vector<float>> features;
    std::size_t stored_before = 0;  ///< records stored before
    std::size_t extracted = 0;      ///< items whose features were made now
  };
  /// Loads the readable stored screening features into `screen` (one warning for the unreadable).
  void LoadScreens(std::vector<std::string>* warnings);
  /// Derives the screening features the shard's items lack from their stored quick features.
  void ScreensFromQuick(const Shard& shard, std::vector<std::string>* warnings, const Progress& progress);
  /// Lists the items (`items`), then embeds the shard's items without this version's features.
  Embedded EmbedMissing(const Shard& shard, std::vector<std::string>* warnings, const Progress& progress);
  void ReconcileIndex(const std::map<ItemId, std::vector<float>>& features, std::size_t stored_before,
                      std::vector<std::string>* warnings);
  /// Adds, in item order, the embeddings the index does not hold yet; whether there were any.
  bool AddNewEmbeddings(const std::map<ItemId, std::vector<float>>& features);
  /// Removes the ids of items that no longer have features (withdrawn); whether any went.
  bool RemoveWithdrawn(const std::map<ItemId, std::vector<float>>& features);
  /// A new index holding exactly `features`, in item order.
  void RebuildIndex(int dims, const std::map<ItemId, std::vector<float>>& features);
};

}  // namespace toolmark::index
