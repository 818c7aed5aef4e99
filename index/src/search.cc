// Two-stage search. See toolmark/index/search.h and docs/search.md.
#include "toolmark/index/search.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "toolmark/engine/calibration.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/version.h"

namespace toolmark::index {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kFeatureBatch = 32;  ///< embeddings stored per transaction
using Clock = std::chrono::steady_clock;
double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

constexpr std::size_t kPreparedCache = 256;  ///< prepared candidate marks kept in memory (batch correlation)

/// The mark a kind's whole-item embedding describes.
std::string MarkFor(Kind kind) { return MarkTypeName(DefaultComparator(kind).marks.front()); }

/// An unknown (empty / 0) value on either side contradicts nothing.
bool Compatible(const ClassCharacteristics& q, const ClassCharacteristics& c) {
  const auto same = [](const std::string& a, const std::string& b) {
    return a.empty() || b.empty() || a == b;
  };
  return same(q.caliber, c.caliber) && same(q.firing_pin_shape, c.firing_pin_shape) &&
         same(q.twist, c.twist) && (q.lands == 0 || c.lands == 0 || q.lands == c.lands);
}

}  // namespace

std::string ComparatorForKind(Kind kind) { return DefaultComparator(kind).name; }

std::string FeatureVersion(const std::string& comparator) { return comparator + "-" + Version(); }

namespace {

/// Feature version of stored quick features ("cmc-quick-<version>").
std::string QuickVersionOf(const std::string& comparator) { return comparator + "-quick-" + Version(); }

/// The embedding record and (with a quick score) the quick-feature record of
/// one prepared item.
std::vector<FeatureRecord> Derived(const Comparator& comparator, Kind kind, ItemId item,
                                   const PreparedMark& prepared) {
  FeatureRecord embedding{item, MarkFor(kind), comparator.Name(), FeatureVersion(comparator.Name()),
                          comparator.Embed(prepared)};
  Check(!embedding.vector.empty(), "the " + comparator.Name() + " comparator has no embedding");
  std::vector<FeatureRecord> out{std::move(embedding)};
  if (comparator.HasQuickScore())
    out.push_back({item, MarkFor(kind), comparator.Name(), QuickVersionOf(comparator.Name()),
                   comparator.QuickFeatures(prepared)});
  return out;
}

}  // namespace

std::vector<FeatureRecord> DerivedFeatures(Kind kind, ItemId item, const Surface& surface) {
  const auto comparator = MakeComparator(ComparatorForKind(kind));
  return Derived(*comparator, kind, item, *comparator->Prepare(surface));
}

struct SearchEngine::Impl {
  Database& db;
  Kind kind;
  std::string name, version;
  SearchOptions options;
  std::unique_ptr<Comparator> comparator;
  std::map<ItemId, ItemRecord> items;  ///< of this kind
  std::optional<VectorIndex> index;
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

  std::string IndexPath() const { return (fs::path(db.folder()) / "index" / (version + ".tmvi")).string(); }

  /// Feature version of the stored quick features ("cmc-quick-<version>").
  std::string QuickVersion() const { return QuickVersionOf(name); }

  /// A stored item's quick mark: from its stored quick features, else from
  /// its prepared mark (the same numbers either way).
  std::shared_ptr<const PreparedMark> QuickItem(ItemId id) const {
    std::optional<FeatureRecord> f = db.Feature(id, MarkFor(kind), name, QuickVersion());
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
      if (cache_order.size() > kPreparedCache) {
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
    const auto t0 = Clock::now();
    const std::vector<VectorHit> shortlist = ShortlistOf(prepared, query);
    const auto t1 = Clock::now();
    std::vector<SearchHit> hits(shortlist.size());
    for (std::size_t i = 0; i < shortlist.size(); ++i) {
      hits[i].item = shortlist[i].id;
      hits[i].similarity = shortlist[i].similarity;
      hits[i].shortlist_rank = static_cast<int>(i) + 1;
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
    const auto t2 = Clock::now();
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
      }
    });
    timings.shortlist_ms = Ms(t1 - t0);
    timings.rerank_ms = Ms(t2 - t1);
    timings.fine_ms = Ms(Clock::now() - t2);
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
      if (calibration && !h.features_only) {
        h.log10_lr = calibration->Log10Lr(h.score);
        h.calibration = calibration->provenance.set;
      }
      const ItemRecord& it = items.at(h.item);
      h.case_id = it.case_id;
      h.item_label = it.item_label;
      h.jurisdiction = it.jurisdiction;
      h.file = it.file;
      h.quality = it.quality;
    }
    return hits;
  }

  /// The vector index's candidates for a prepared query, filtered inside the search.
  std::vector<VectorHit> ShortlistOf(const PreparedMark& prepared, const SearchQuery& query) const {
    return ShortlistOfEmbedding(comparator->Embed(prepared), query);
  }

  std::vector<VectorHit> ShortlistOfEmbedding(const std::vector<float>& q, const SearchQuery& query) const {
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
      return !options.match_class || Compatible(query.class_marks, it->second.class_marks);
    };
    std::size_t k = options.shortlist;
    if (comparator->HasQuickScore() && index->size() <= options.screen_all_below)
      k = std::max(k, index->size());
    return index->Search(q.data(), k, &filter);
  }
};

SearchEngine::SearchEngine(Database& db, Kind kind, const SearchOptions& options)
    : impl_(std::make_unique<Impl>(db, kind, options)) {
  Check(options.top >= 1 && options.shortlist >= 1, "search: --top and --shortlist must be at least 1");
  Check(!options.calibration ||
            (options.calibration->comparator == impl_->name && options.calibration->level == "pair"),
        "search: the calibration is for comparator " +
            (options.calibration
                 ? options.calibration->comparator + " (" + options.calibration->level + " level)"
                 : std::string()) +
            ", not " + impl_->name + " (pair level)");
}

SearchEngine::~SearchEngine() = default;

const SearchTimings& SearchEngine::LastTimings() const { return impl_->timings; }

std::vector<SearchHit> SearchEngine::SearchFeatures(const std::vector<float>& embedding,
                                                    const std::vector<float>& quick_features,
                                                    const SearchQuery& query) const {
  const Impl& m = *impl_;
  Check(m.index.has_value(), "search: Update() first");
  Check(m.comparator->HasQuickScore(),
        "search: the " + m.name + " comparator has no quick score for feature queries");
  Check(query.kind == m.kind, std::string("search: a ") + KindName(query.kind) +
                                  " cannot be searched among " + KindName(m.kind) + "s");
  Check(static_cast<int>(embedding.size()) == m.index->dims() || m.index->size() == 0,
        "search: the query's embedding has " + std::to_string(embedding.size()) + " numbers, the index " +
            std::to_string(m.index->dims()));
  const auto quick = m.comparator->QuickMark(quick_features);  // checks the numbers; throws when damaged
  std::vector<SearchHit> hits;
  for (const VectorHit& v : m.ShortlistOfEmbedding(embedding, query)) {
    SearchHit h;
    h.item = v.id;
    h.similarity = v.similarity;
    hits.push_back(h);
  }
  for (std::size_t i = 0; i < hits.size(); ++i) hits[i].shortlist_rank = static_cast<int>(i) + 1;
  Impl::ForEachHit(&hits, [&](SearchHit& h) {
    h.quick_score = m.comparator->QuickScore(*quick, *m.QuickItem(h.item));
    h.score = *h.quick_score;
    h.features_only = true;
  });
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  });
  if (hits.size() > m.options.top) hits.resize(m.options.top);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    SearchHit& h = hits[i];
    h.rank = h.rerank = static_cast<int>(i) + 1;
    const ItemRecord& it = m.items.at(h.item);
    h.case_id = it.case_id;
    h.item_label = it.item_label;
    h.jurisdiction = it.jurisdiction;
    h.file = it.file;
  }
  return hits;
}

std::size_t SearchEngine::indexed() const { return impl_->index ? impl_->index->size() : 0; }
const std::string& SearchEngine::comparator() const { return impl_->name; }
std::size_t SearchEngine::IndexMemoryBytes() const { return impl_->index ? impl_->index->MemoryBytes() : 0; }
std::string SearchEngine::IndexPath() const { return impl_->IndexPath(); }

void SearchEngine::Update(std::vector<std::string>* warnings, const Progress& progress) {
  Impl& m = *impl_;
  m.items.clear();
  for (ItemRecord& it : m.db.List())
    if (it.kind == m.kind) m.items.emplace(it.id, std::move(it));

  // 1. Embeddings (and, for comparators with a quick score, quick features)
  // of the items that have none of this version.
  std::map<ItemId, std::vector<float>> features;
  for (FeatureRecord& f : m.db.Features(m.name, m.version))
    if (m.items.count(f.item)) features[f.item] = std::move(f.vector);
  const std::size_t stored_before = features.size();
  const bool quick = m.comparator->HasQuickScore();
  std::set<ItemId> have_quick;
  if (quick)
    for (ItemId id : m.db.FeatureItems(m.name, m.QuickVersion())) have_quick.insert(id);
  std::vector<ItemId> missing;
  for (const auto& [id, item] : m.items)
    if (!features.count(id) || (quick && !have_quick.count(id))) missing.push_back(id);
  for (std::size_t start = 0; start < missing.size(); start += kFeatureBatch) {
    const std::size_t end = std::min(missing.size(), start + kFeatureBatch);
    std::vector<std::vector<FeatureRecord>> batch(end - start);
    std::vector<std::string> errors(end - start);
    tbb::parallel_for(start, end, [&](std::size_t i) {
      try {
        const auto prepared = m.comparator->Prepare(m.db.LoadSurface(missing[i]));
        batch[i - start] = Derived(*m.comparator, m.kind, missing[i], *prepared);
      } catch (const Error& e) {
        errors[i - start] = e.what();
      }
    });
    std::vector<FeatureRecord> good;
    std::vector<std::size_t> embedded;  // positions in `good` of new embeddings
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const ItemId id = missing[start + i];
      if (!errors[i].empty()) {
        warnings->push_back("item " + std::to_string(id) + " (" + m.items[id].file +
                            "): not indexed: " + errors[i]);
        continue;
      }
      for (FeatureRecord& f : batch[i]) {
        const bool is_embedding = f.version == m.version;
        if (is_embedding ? features.count(id) > 0 : have_quick.count(id) > 0) continue;  // stored already
        if (is_embedding) embedded.push_back(good.size());
        good.push_back(std::move(f));
      }
    }
    if (!good.empty()) m.db.PutFeatures(good);
    for (std::size_t k : embedded) features[good[k].item] = std::move(good[k].vector);
    if (progress) progress("embeddings", end, missing.size());
  }

  // 2. The vector index: load and reconcile, or rebuild.
  const std::string path = m.IndexPath();
  bool changed = false;
  m.index.reset();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (stored_before > 0)
      warnings->push_back("vector index " + path + " missing: rebuilt from the " +
                          std::to_string(features.size()) + " stored feature records");
  } else {
    try {
      m.index.emplace(VectorIndex::Load(path, m.options.index));
    } catch (const Error& e) {
      warnings->push_back(std::string(e.what()) + ": rebuilt from the " + std::to_string(features.size()) +
                          " stored feature records");
    }
  }
  const int dims = features.empty() ? 0 : static_cast<int>(features.begin()->second.size());
  if (m.index && dims > 0 && m.index->dims() != dims) {
    warnings->push_back("vector index " + path + ": dimensions differ from the stored features: rebuilt");
    m.index.reset();
  }
  if (!m.index) {
    m.index.emplace(std::max(dims, 1), m.options.index);
    changed = true;
  }
  std::vector<VectorId> add_ids;
  std::vector<float> add;
  for (const auto& [id, v] : features) {  // in item order: a rebuild is deterministic
    if (m.index->Contains(id)) continue;
    add_ids.push_back(id);
    add.insert(add.end(), v.begin(), v.end());
  }
  if (!add_ids.empty()) {
    m.index->Add(add_ids, add);
    changed = true;
  }
  // Ids the index has that no longer have features (withdrawn items).
  std::vector<VectorId> stale;
  for (const auto& [id, item] : m.items)
    if (!features.count(id) && m.index->Contains(id)) stale.push_back(id);
  for (VectorId id : stale) changed |= m.index->Remove(id);
  if (m.index->size() != features.size()) {  // an id the catalog does not know: start again
    warnings->push_back("vector index " + path + ": holds items the catalog does not: rebuilt");
    m.index.emplace(std::max(dims, 1), m.options.index);
    add_ids.clear();
    add.clear();
    for (const auto& [id, v] : features) {
      add_ids.push_back(id);
      add.insert(add.end(), v.begin(), v.end());
    }
    if (!add_ids.empty()) m.index->Add(add_ids, add);
    changed = true;
  }
  if (changed) {
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) throw Error("cannot create " + fs::path(path).parent_path().string() + ": " + ec.message());
    m.index->Save(path);
  }
  if (progress) progress("index", m.index->size(), features.size());
}

std::vector<VectorHit> SearchEngine::Shortlist(const SearchQuery& query) const {
  const SearchQuery q = impl_->Checked(query);
  return impl_->ShortlistOf(*impl_->comparator->Prepare(query.surface), q);
}

std::vector<SearchHit> SearchEngine::Search(const SearchQuery& query) const {
  const SearchQuery q = impl_->Checked(query);
  return impl_->Rank(*impl_->comparator->Prepare(query.surface), q);
}

std::vector<SearchHit> SearchEngine::SearchItem(ItemId id) const {
  const Impl& m = *impl_;
  Check(m.index.has_value(), "search: Update() first");
  const auto it = m.items.find(id);
  Check(it != m.items.end(),
        "search: item " + std::to_string(id) + " is not a " + KindName(m.kind) + " of this database");
  SearchQuery query;
  query.kind = m.kind;
  query.class_marks = it->second.class_marks;
  query.exclude = id;
  query.surface_kind =
      it->second.surface_kind == "intensity" ? SurfaceKind::kIntensity : SurfaceKind::kHeight;
  query.label = "item " + std::to_string(id);
  return m.Rank(*m.PreparedItem(id), query);
}

int LandPosition(const ItemRecord& item) {
  for (const std::string& m : item.marks) {
    if (m.rfind("land", 0) != 0 || m.size() < 5 || m.size() > 6) continue;
    if (m.find_first_not_of("0123456789", 4) != std::string::npos) continue;
    const int n = std::stoi(m.substr(4));
    if (n >= 1 && n <= 64) return n - 1;
  }
  return -1;
}

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
  using Key = std::pair<std::string, std::string>;  // (case, item label)
  std::map<Key, std::vector<ItemId>> members;
  for (const auto& [id, it] : m.items) members[{it.case_id, it.item_label}].push_back(id);
  std::set<Key> candidates;
  for (std::size_t i = 0; i < lands.size(); ++i) {
    SearchQuery q;
    q.kind = m.kind;
    q.surface_kind = lands[i].surface.kind;
    for (const VectorHit& h : m.ShortlistOf(*query[i], q)) {
      const ItemRecord& it = m.items.at(h.id);
      if (it.case_id == exclude_case && it.item_label == exclude_item) continue;
      candidates.insert({it.case_id, it.item_label});
    }
  }
  // 2. Each candidate bullet compared whole, in parallel.
  const std::vector<Key> keys(candidates.begin(), candidates.end());
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

CorrelateSummary Correlate(Database& db, Kind kind, const SearchOptions& options,
                           const CorrelateSelection& selection, std::vector<std::string>* warnings,
                           const std::function<void(const CorrelateStep&)>& on_query) {
  SearchEngine engine(db, kind, options);
  engine.Update(warnings);
  const std::string name = ComparatorForKind(kind), version = FeatureVersion(name);
  const std::vector<ItemId> done_list = db.CorrelatedItems(name, version);
  const std::set<ItemId> done(done_list.begin(), done_list.end());
  const std::set<ItemId> only(selection.items.begin(), selection.items.end());
  std::set<ItemId> known;
  std::vector<ItemId> queries;
  CorrelateSummary summary;
  for (const ItemRecord& it : db.List()) {
    known.insert(it.id);
    if (it.kind != kind) continue;
    if (it.values_sha256.empty()) continue;  // shared at features level: a candidate, never a query here
    if (!only.empty() && !only.count(it.id)) continue;
    if (!selection.case_id.empty() && it.case_id != selection.case_id) continue;
    if (!selection.since.empty() && it.ingested_at < selection.since) continue;
    ++summary.selected;
    if (done.count(it.id)) {
      ++summary.already;
      continue;
    }
    queries.push_back(it.id);
  }
  for (ItemId id : only)
    Check(known.count(id) > 0, "correlate: item " + std::to_string(id) + ": no such item");
  if (selection.limit > 0 && queries.size() > selection.limit) {
    summary.remaining = queries.size() - selection.limit;
    queries.resize(selection.limit);
  }
  for (std::size_t i = 0; i < queries.size(); ++i) {
    CorrelateStep step;
    step.query = queries[i];
    try {
      step.hits = engine.SearchItem(queries[i]);
    } catch (const Error& e) {
      // One item that cannot be searched (its scan cannot be prepared) is
      // reported and left uncorrelated; the batch goes on.
      const std::optional<ItemRecord> it = db.Get(queries[i]);
      warnings->push_back("item " + std::to_string(queries[i]) + (it ? " (" + it->file + ")" : "") +
                          ": not correlated: " + e.what());
      ++summary.failed;
      step.failed = true;
      step.done = i + 1;
      step.total = queries.size();
      if (on_query) on_query(step);
      continue;
    }
    std::vector<HitRecord> records;
    for (const SearchHit& h : step.hits) {
      HitRecord r;
      r.query = queries[i];
      r.candidate = h.item;
      r.rank = h.rank;
      r.score = h.score;
      r.log10_lr = h.log10_lr;
      r.calibration = h.calibration;
      r.similarity = h.similarity;
      r.rotation_deg = h.rotation_deg;
      r.shift_x_um = h.shift_x_um;
      r.shift_y_um = h.shift_y_um;
      records.push_back(r);
    }
    if (db.RecordHits(queries[i], name, version, records)) {
      ++summary.correlated;
      summary.hits += records.size();
    } else {
      ++summary.already;  // another process recorded it meanwhile
    }
    step.done = i + 1;
    step.total = queries.size();
    if (on_query) on_query(step);
  }
  return summary;
}

std::string QuickFeatureVersion(const std::string& comparator) { return QuickVersionOf(comparator); }
std::string FeatureMarkFor(Kind kind) { return MarkFor(kind); }

}  // namespace toolmark::index
