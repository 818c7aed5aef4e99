// Two-stage search. See toolmark/index/search.h and docs/search.md.
#include "toolmark/index/search.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "search_internal.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/version.h"

namespace toolmark::index {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kFeatureBatch = 32;  ///< embeddings stored per transaction

}  // namespace

std::string ComparatorForKind(Kind kind) { return DefaultComparator(kind).name; }

std::string FeatureVersion(const std::string& comparator) { return comparator + "-" + Version(); }

namespace {

/// The embedding record and (with a quick score) the quick-feature record of
/// one prepared item; with a screening score that needs the prepared mark
/// (no quick score to make it from later), its screening record too.
std::vector<FeatureRecord> Derived(const Comparator& comparator, Kind kind, ItemId item,
                                   const PreparedMark& prepared) {
  FeatureRecord embedding{item, detail::MarkFor(kind), comparator.Name(), FeatureVersion(comparator.Name()),
                          comparator.Embed(prepared)};
  Check(!embedding.vector.empty(), "the " + comparator.Name() + " comparator has no embedding");
  std::vector<FeatureRecord> out{std::move(embedding)};
  if (comparator.HasQuickScore())
    out.push_back({item, detail::MarkFor(kind), comparator.Name(), detail::QuickVersionOf(comparator.Name()),
                   comparator.QuickFeatures(prepared)});
  if (comparator.ScreenNeedsMark())
    out.push_back({item, detail::MarkFor(kind), comparator.Name(), ScreenFeatureVersion(comparator.Name()),
                   comparator.ScreenFeaturesOf(prepared)});
  return out;
}

}  // namespace

std::vector<FeatureRecord> DerivedFeatures(Kind kind, ItemId item, const Surface& surface) {
  const auto comparator = MakeComparator(ComparatorForKind(kind));
  return Derived(*comparator, kind, item, *comparator->Prepare(surface));
}

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
  std::vector<float> code;
  if (m.Screening()) code = m.comparator->ScreenFeatures(quick_features);
  std::vector<std::optional<double>> screened;
  std::vector<SearchHit> hits;
  for (const VectorHit& v : m.ShortlistOfEmbedding(embedding, query, code, &screened)) {
    SearchHit h;
    h.item = v.id;
    h.similarity = v.similarity;
    h.screen_score = screened[hits.size()];
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

void SearchEngine::Impl::EmbedBatch(const std::vector<ItemId>& missing, std::size_t start, std::size_t end,
                                    const std::set<ItemId>& have_quick,
                                    std::map<ItemId, std::vector<float>>* features,
                                    std::vector<std::string>* warnings) {
  std::vector<std::vector<FeatureRecord>> batch(end - start);
  std::vector<std::string> errors(end - start);
  tbb::parallel_for(start, end, [&](std::size_t i) {
    try {
      const auto prepared = comparator->Prepare(db.LoadSurface(missing[i]));
      batch[i - start] = Derived(*comparator, kind, missing[i], *prepared);
    } catch (const Error& e) {
      errors[i - start] = e.what();
    }
  });
  std::vector<FeatureRecord> good;
  std::vector<std::size_t> kept;  // positions in `good` of new embeddings and screening features
  const std::string screen_version = ScreenVersion();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const ItemId id = missing[start + i];
    if (!errors[i].empty()) {
      warnings->push_back("item " + std::to_string(id) + " (" + items[id].file +
                          "): not indexed: " + errors[i]);
      continue;
    }
    for (FeatureRecord& f : batch[i]) {
      const bool is_embedding = f.version == version, is_screen = f.version == screen_version;
      const bool stored = is_embedding ? features->count(id) > 0
                          : is_screen  ? screen.count(id) > 0  // a readable one (LoadScreens)
                                       : have_quick.count(id) > 0;
      if (stored) continue;
      if (is_embedding || is_screen) kept.push_back(good.size());
      good.push_back(std::move(f));
    }
  }
  if (!good.empty()) db.PutFeatures(good);
  for (std::size_t k : kept)
    (good[k].version == version ? (*features)[good[k].item] : screen[good[k].item]) =
        std::move(good[k].vector);
}

bool SearchEngine::Impl::AddNewEmbeddings(const std::map<ItemId, std::vector<float>>& features) {
  std::vector<VectorId> add_ids;
  std::vector<float> add;
  for (const auto& [id, v] : features) {  // in item order: a rebuild is deterministic
    if (index->Contains(id)) continue;
    add_ids.push_back(id);
    add.insert(add.end(), v.begin(), v.end());
  }
  if (add_ids.empty()) return false;
  index->Add(add_ids, add);
  return true;
}

bool SearchEngine::Impl::RemoveWithdrawn(const std::map<ItemId, std::vector<float>>& features) {
  std::vector<VectorId> stale;
  for (const auto& [id, item] : items)
    if (!features.count(id) && index->Contains(id)) stale.push_back(id);
  bool removed = false;
  for (VectorId id : stale) removed |= index->Remove(id);
  return removed;
}

void SearchEngine::Impl::RebuildIndex(int dims, const std::map<ItemId, std::vector<float>>& features) {
  index.emplace(std::max(dims, 1), options.index);
  std::vector<VectorId> add_ids;
  std::vector<float> add;
  for (const auto& [id, v] : features) {
    add_ids.push_back(id);
    add.insert(add.end(), v.begin(), v.end());
  }
  if (!add_ids.empty()) index->Add(add_ids, add);
}

void SearchEngine::Impl::ReconcileIndex(const std::map<ItemId, std::vector<float>>& features,
                                        std::size_t stored_before, std::vector<std::string>* warnings) {
  const std::string path = IndexPath();
  bool changed = false;
  index.reset();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (stored_before > 0)
      warnings->push_back("vector index " + path + " missing: rebuilt from the " +
                          std::to_string(features.size()) + " stored feature records");
  } else {
    try {
      index.emplace(VectorIndex::Load(path, options.index));
    } catch (const Error& e) {
      warnings->push_back(std::string(e.what()) + ": rebuilt from the " + std::to_string(features.size()) +
                          " stored feature records");
    }
  }
  const int dims = features.empty() ? 0 : static_cast<int>(features.begin()->second.size());
  if (index && dims > 0 && index->dims() != dims) {
    warnings->push_back("vector index " + path + ": dimensions differ from the stored features: rebuilt");
    index.reset();
  }
  if (!index) {
    index.emplace(std::max(dims, 1), options.index);
    changed = true;
  }
  changed |= AddNewEmbeddings(features);
  changed |= RemoveWithdrawn(features);    // ids the index has that no longer have features
  if (index->size() != features.size()) {  // an id the catalog does not know: start again
    warnings->push_back("vector index " + path + ": holds items the catalog does not: rebuilt");
    RebuildIndex(dims, features);
    changed = true;
  }
  if (changed) {
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) throw Error("cannot create " + fs::path(path).parent_path().string() + ": " + ec.message());
    index->Save(path);
  }
}

SearchEngine::Impl::Embedded SearchEngine::Impl::EmbedMissing(const Shard& shard,
                                                              std::vector<std::string>* warnings,
                                                              const Progress& progress) {
  items.clear();
  for (ItemRecord& it : db.List())
    if (it.kind == kind) items.emplace(it.id, std::move(it));
  bullets.clear();
  if (kind == Kind::kBullet)
    for (const auto& [id, it] : items) bullets[{it.case_id, it.item_label}].push_back(id);
  Embedded out;
  std::map<ItemId, std::vector<float>>& features = out.features;
  for (FeatureRecord& f : db.Features(name, version))
    if (items.count(f.item)) features[f.item] = std::move(f.vector);
  out.stored_before = features.size();
  const bool quick = comparator->HasQuickScore();
  std::set<ItemId> have_quick;
  if (quick)
    for (ItemId id : db.FeatureItems(name, QuickVersion())) have_quick.insert(id);
  // Screening features made from the prepared mark (no quick features to
  // make them from) are missing until the item is prepared again — where it
  // has a scan: an item shared at features level has only what was sent.
  LoadScreens(warnings);
  const bool screen_of_mark = comparator->ScreenNeedsMark();
  std::vector<ItemId> missing;
  for (const auto& [id, item] : items)
    if (shard.Has(id) && (!features.count(id) || (quick && !have_quick.count(id)) ||
                          (screen_of_mark && !screen.count(id) && !item.values_sha256.empty())))
      missing.push_back(id);
  for (std::size_t start = 0; start < missing.size(); start += kFeatureBatch) {
    const std::size_t end = std::min(missing.size(), start + kFeatureBatch);
    EmbedBatch(missing, start, end, have_quick, &features, warnings);
    if (progress) progress("embeddings", end, missing.size());
  }
  out.extracted = missing.size();
  if (quick) ScreensFromQuick(shard, warnings, progress);
  return out;
}

void SearchEngine::Impl::LoadScreens(std::vector<std::string>* warnings) {
  screen.clear();
  if (!comparator->HasScreen()) return;
  std::vector<FeatureRecord> stored = db.Features(name, ScreenVersion());
  std::vector<char> readable(stored.size(), 0);
  tbb::parallel_for(std::size_t{0}, stored.size(), [&](std::size_t i) {
    try {
      comparator->CheckScreen(stored[i].vector);
      readable[i] = 1;
    } catch (const Error&) {
    }
  });
  std::vector<ItemId> unreadable;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    FeatureRecord& f = stored[i];
    if (!items.count(f.item)) continue;
    if (readable[i])
      screen[f.item] = std::move(f.vector);
    else
      unreadable.push_back(f.item);
  }
  if (!unreadable.empty()) {
    std::string which;
    for (std::size_t i = 0; i < std::min<std::size_t>(unreadable.size(), 5); ++i)
      which += (i ? ", " : "") + std::to_string(unreadable[i]);
    // Made again from the quick features, else from the scans, where there
    // are scans: an item shared at features level has only what was sent.
    const auto unscanned = static_cast<std::size_t>(std::count_if(
        unreadable.begin(), unreadable.end(), [&](ItemId id) { return items.at(id).values_sha256.empty(); }));
    std::string what = "made again from their quick features";
    if (!comparator->HasQuickScore())
      what = unscanned == 0 ? "made again from their scans"
             : unscanned == unreadable.size()
                 ? "not screened: shared without their scans, they cannot be made again here"
                 : "made again from their scans, except " + std::to_string(unscanned) +
                       " shared without their scans (not screened)";
    warnings->push_back(std::to_string(unreadable.size()) +
                        " items' stored screening features are unreadable (items " + which +
                        (unreadable.size() > 5 ? ", …" : "") + "): " + what);
  }
}

void SearchEngine::Impl::ScreensFromQuick(const Shard& shard, std::vector<std::string>* warnings,
                                          const Progress& progress) {
  if (!comparator->HasScreen()) return;
  // Derived from the stored quick features alone (no scan needed): items
  // stored before this stage existed, and those shared at features level.
  std::vector<ItemId> missing;
  for (ItemId id : db.FeatureItems(name, QuickVersion()))
    if (items.count(id) && shard.Has(id) && !screen.count(id)) missing.push_back(id);
  const std::string screen_version = ScreenVersion();
  for (std::size_t start = 0; start < missing.size(); start += kFeatureBatch) {
    const std::size_t end = std::min(missing.size(), start + kFeatureBatch);
    std::vector<FeatureRecord> batch(end - start);
    std::vector<std::string> errors(end - start);
    tbb::parallel_for(start, end, [&](std::size_t i) {
      const ItemId id = missing[i];
      try {
        const std::optional<FeatureRecord> quick =
            db.Feature(id, detail::MarkFor(kind), name, QuickVersion());
        Check(quick.has_value(), "its quick features are gone");
        batch[i - start] = {id, detail::MarkFor(kind), name, screen_version,
                            comparator->ScreenFeatures(quick->vector)};
      } catch (const Error& e) {
        errors[i - start] = e.what();
      }
    });
    std::vector<FeatureRecord> good;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (errors[i].empty()) {
        good.push_back(batch[i]);
        continue;
      }
      warnings->push_back("item " + std::to_string(missing[start + i]) + " (" +
                          items[missing[start + i]].file + "): no screening features: " + errors[i]);
    }
    if (!good.empty()) db.PutFeatures(good);
    for (FeatureRecord& f : good) screen[f.item] = std::move(f.vector);
    if (progress) progress("screening features", end, missing.size());
  }
}

std::size_t SearchEngine::Update(std::vector<std::string>* warnings, const Progress& progress) {
  Impl& m = *impl_;
  // 1. Embeddings (and, for comparators with a quick score, quick features)
  // of the items that have none of this version.
  const Impl::Embedded e = m.EmbedMissing(Shard{}, warnings, progress);
  // 2. The vector index: load and reconcile, or rebuild.
  m.ReconcileIndex(e.features, e.stored_before, warnings);
  if (progress) progress("index", m.index->size(), e.features.size());
  return e.extracted;
}

std::size_t SearchEngine::Extract(const Shard& shard, std::vector<std::string>* warnings,
                                  const Progress& progress) {
  return impl_->EmbedMissing(shard, warnings, progress).extracted;
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

Shard ParseShard(const std::string& text) {
  const std::size_t slash = text.find('/');
  const auto number = [&](const std::string& t) {
    Check(!t.empty() && t.size() <= 5 && t.find_first_not_of("0123456789") == std::string::npos,
          "--shard '" + text.substr(0, 20) + "': give i/N, e.g. 0/4 (the first of four)");
    return static_cast<std::size_t>(std::stoul(t));
  };
  Check(slash != std::string::npos,
        "--shard '" + text.substr(0, 20) + "': give i/N, e.g. 0/4 (the first of four)");
  Shard s{number(text.substr(0, slash)), number(text.substr(slash + 1))};
  Check(s.count >= 1 && s.count <= 10000 && s.index < s.count,
        "--shard " + text + ": needs 0 <= i < N <= 10000");
  return s;
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
    if (!selection.shard.Has(it.id)) continue;
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

std::string QuickFeatureVersion(const std::string& comparator) { return detail::QuickVersionOf(comparator); }
std::string ScreenFeatureVersion(const std::string& comparator) {
  return comparator + "-screen-" + Version();
}
Mark FeatureMarkFor(Kind kind) { return detail::MarkFor(kind); }

}  // namespace toolmark::index
