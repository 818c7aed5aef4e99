// Two-stage search of the evidence database: a shortlist from the vector
// index of the comparator's embeddings (its second half chosen by the
// comparator's screening score among a deeper list, where the comparator has
// one), re-ranked by the comparator's quick
// score where it has one, then the fine comparator on the best candidates in
// parallel (TBB), ranked. The vector index is
// derived data: it is loaded from <db>/index/, checked against the stored
// feature records, and rebuilt (with a warning) when it is missing, corrupted
// or out of date. See docs/search.md.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/engine/calibration.h"
#include "toolmark/engine/surface.h"
#include "toolmark/index/database.h"
#include "toolmark/index/vector_index.h"

namespace toolmark::index {

/// The comparator that searches items of a kind (DefaultComparator: "cmc"
/// for cartridge cases, "land" for bullets, one land per item).
std::string ComparatorForKind(Kind kind);

/// The feature version of a comparator's embeddings in this build.
std::string FeatureVersion(const std::string& comparator);
/// The feature version of a comparator's stored quick features in this
/// build ("cmc-quick-<version>"), for comparators with a quick score.
std::string QuickFeatureVersion(const std::string& comparator);
/// The feature version of a comparator's stored screening features
/// ("cmc-screen-<version>"), for comparators with a screening score.
std::string ScreenFeatureVersion(const std::string& comparator);
/// The mark a kind's feature records are stored under ("breech_face", "land").
Mark FeatureMarkFor(Kind kind);

struct SearchOptions {
  std::size_t top = 10;         ///< hits returned
  std::size_t shortlist = 100;  ///< candidates taken from the vector index
  /// Comparators with a quick score: while the index holds at most this
  /// many vectors, the quick score screens every candidate (the shortlist
  /// is the whole index), since the embedding is the weakest stage on real
  /// scans among many distractors (docs/search.md); 0: never.
  std::size_t screen_all_below = 2000;
  /// Comparators with a screening score (cmc: the polar signatures'
  /// agreement at the best rotation): above screen_all_below, the vector
  /// index's `shortlist_depth` most similar candidates are taken, and the
  /// shortlist is the embedding's best `shortlist` plus the screening
  /// score's best `screened` of the rest (docs/search.md, "Screening").
  /// `screened` 0, or a depth of at most `shortlist`: the embedding's
  /// shortlist alone.
  std::size_t shortlist_depth = 4000;
  std::size_t screened = 50;
  /// Comparators with a quick score (cmc) re-rank the shortlist with it and
  /// compare only this many (at least `top`) finely; 0: compare every
  /// shortlisted candidate finely.
  std::size_t fine = 10;
  VectorIndexOptions index;
  /// Jurisdictions a search may see (empty: all). Applied inside the vector
  /// search, not after it.
  std::vector<std::string> jurisdictions;
  /// When the query's class characteristics are known (caliber, firing-pin
  /// shape, lands, twist), only items that do not contradict them are
  /// searched (an unknown value contradicts nothing).
  bool match_class = true;
  /// Pair-level calibration of the hits' scores (e.g. a lab's own, from
  /// `toolmark calibrate`); none: the comparator's shipped one, if any.
  std::optional<Calibration> calibration;
};

struct SearchQuery {
  Surface surface;
  Kind kind = Kind::kCartridgeCase;
  ClassCharacteristics class_marks;  ///< of the query, where known
  ItemId exclude = kInvalidItemId;   ///< the query's own item, when it is in the database
  /// Only items of this surface kind are candidates (3D with 3D, 2D with 2D);
  /// Search and Shortlist take it from `surface`.
  SurfaceKind surface_kind = SurfaceKind::kHeight;
  std::string label;  ///< for messages (file or item id)
};

struct SearchHit {
  ItemId item = kInvalidItemId;
  int rank = 0;                    ///< 1 = best
  double score = 0;                ///< the fine comparator's score (higher = more similar)
  std::optional<double> log10_lr;  ///< from the comparator's shipped calibration; none where there is none
  std::string calibration;         ///< that calibration's set ("" = none)
  float similarity = 0;            ///< the embedding similarity that shortlisted it
  int shortlist_rank = 0;          ///< its rank in the shortlist (1 = most similar embedding)
  std::optional<double> screen_score;  ///< the screening score, where it chose this candidate
  std::optional<double> quick_score;   ///< the comparator's quick score, where the shortlist was re-ranked
  int rerank = 0;                      ///< its rank by quick score (0: not re-ranked)
  double rotation_deg = 0, shift_x_um = 0, shift_y_um = 0;  ///< the comparator's registration
  std::string case_id, item_label, jurisdiction, file;
  std::string quality;  ///< the candidate's intake quality (ItemRecord::quality: JSON text, "" = none)
  /// The candidate was shared at features level (no scan here): its score is
  /// the quick score, not a full comparison, and it has no likelihood ratio.
  bool features_only = false;
};

/// One land of a bullet query: its position around the bullet (0-based) and
/// its scan.
struct BulletLandQuery {
  int position = 0;
  Surface surface;
};

/// A candidate bullet: the stored land items that share a case and item label.
struct BulletHit {
  int rank = 0;
  std::string case_id, item_label, jurisdiction;
  std::vector<ItemId> lands;   ///< its land items, by position
  std::vector<int> positions;  ///< their positions (from the marks "landN"; else the item order)
  double score = 0;            ///< bullet score: the best phase's sequence average of land scores
  int phase = 0;               ///< query position k pairs with candidate position (k + phase) mod lands
  double phase_gap = 0;        ///< best phase mean − the other phases' mean
  /// The screening score that chose it for comparison (its lands' screening
  /// scores at their best phase, averaged), where screening chose it.
  std::optional<double> screen_score;
  /// Shared at features level (a land without its scan here): not compared
  /// whole; its score is its screening score, with no land scores, phase or
  /// likelihood ratio.
  bool features_only = false;
  std::vector<std::vector<double>> land_scores;  ///< query land i × candidate land j
  /// From the shipped bullet-level calibration, where both bullets are
  /// complete (every land position scanned); none otherwise.
  std::optional<double> log10_lr;
  std::string calibration;  ///< that calibration's set ("" = none)
};

/// The derived records a search needs of one item of `kind` (embedding and,
/// for comparators with a quick score, quick features), computed from its
/// surface: what SearchEngine::Update stores for items that lack them. For
/// callers that hold the surface anyway (e.g. at ingest). Throws
/// toolmark::Error when the surface cannot be prepared.
std::vector<FeatureRecord> DerivedFeatures(Kind kind, ItemId item, const Surface& surface);

/// Where the time of a search went (wall clock, ms).
struct SearchTimings {
  double shortlist_ms = 0;   ///< the query's embedding and the vector index
  double rerank_ms = 0;      ///< quick scores of the shortlist (0 when not re-ranked)
  double fine_ms = 0;        ///< full comparisons (candidates prepared as needed)
  std::size_t reranked = 0;  ///< candidates the shortlist gave
  std::size_t compared = 0;  ///< candidates compared finely
};

/// One of `count` disjoint parts of a database's items (a Slurm array task):
/// the items whose id modulo count is `index`. Shard{} is every item.
struct Shard {
  std::size_t index = 0, count = 1;
  bool Has(ItemId id) const { return static_cast<std::size_t>(id) % count == index; }
};
/// Parses "i/N" (0 ≤ i < N ≤ 10000); throws toolmark::Error otherwise.
Shard ParseShard(const std::string& text);

/// Searches one database with one comparator. Not thread-safe itself (use
/// one per thread), but each search compares candidates in parallel.
class SearchEngine {
 public:
  using Progress = std::function<void(const std::string& stage, std::size_t done, std::size_t total)>;

  /// Opens the engine for items of `kind` in `db`.
  SearchEngine(Database& db, Kind kind, const SearchOptions& options = {});
  ~SearchEngine();

  /// Brings the derived data up to date: embeddings for every item of the
  /// kind that has none of this feature version (computed in parallel and
  /// stored durably in batches), and the vector index (loaded, checked,
  /// updated or rebuilt, then saved atomically). Warnings (e.g. a rebuilt
  /// index) are appended to *warnings.
  /// Returns the number of items whose features were made now.
  std::size_t Update(std::vector<std::string>* warnings, const Progress& progress = nullptr);
  /// Feature extraction alone, for one shard of a cluster job: the shard's
  /// items of this kind that lack this version's features get them, stored
  /// durably; no vector index is built (Update does, once every shard is
  /// done). Idempotent: a shard run again extracts what it had not stored.
  /// Returns the number of items extracted.
  std::size_t Extract(const Shard& shard, std::vector<std::string>* warnings,
                      const Progress& progress = nullptr);

  /// The ranked hit list of one query (Update first).
  std::vector<SearchHit> Search(const SearchQuery& query) const;
  /// The ranked hit list of a stored item (itself excluded, its class
  /// characteristics applied). Prepared marks of stored items are cached
  /// (a bounded number), which batch correlation relies on for speed.
  std::vector<SearchHit> SearchItem(ItemId id) const;
  /// Bullets (kind "bullet"): every query land is shortlisted in the land
  /// index; the bullets those candidates belong to (same case and item
  /// label) are compared whole — every land pair with the land comparator,
  /// then the best cyclic phase (CompareBullets) — and ranked by bullet
  /// score. `exclude_case` / `exclude_item` leave the query's own bullet out.
  std::vector<BulletHit> SearchBullet(const std::vector<BulletLandQuery>& lands,
                                      const std::string& exclude_case = "",
                                      const std::string& exclude_item = "") const;
  /// A query given as numbers only (a partner's federated search: no scan
  /// leaves its owner): the shortlist of `embedding`, re-ranked by the quick
  /// score against `quick_features` (Comparator::QuickFeatures of the
  /// query); each hit's score is that quick score (features_only). The
  /// query's surface_kind, class_marks and the options' jurisdictions apply.
  std::vector<SearchHit> SearchFeatures(const std::vector<float>& embedding,
                                        const std::vector<float>& quick_features,
                                        const SearchQuery& query) const;
  /// The shortlist alone: ids and similarities from the vector index, best first.
  std::vector<VectorHit> Shortlist(const SearchQuery& query) const;

  std::size_t indexed() const;
  /// The stage times of the last Search or SearchItem.
  const SearchTimings& LastTimings() const;
  /// Bytes the vector index holds in memory (VectorIndex::MemoryBytes).
  std::size_t IndexMemoryBytes() const;
  const std::string& comparator() const;
  /// Where the vector index lives: <db>/index/<comparator>-<feature version>.tmvi.
  std::string IndexPath() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The items a batch correlation takes: the selected items of the kind that
/// have not been correlated yet with this comparator and feature version.
struct CorrelateSelection {
  std::vector<ItemId> items;  ///< only these (empty: all)
  std::string case_id;        ///< only items of this case (a batch)
  std::string since;          ///< only items ingested at or after this UTC time ("2026-11-29" or ISO 8601)
  std::size_t limit = 0;      ///< at most this many queries in this run (0: no limit)
  Shard shard;                ///< only this shard's items (a cluster task)
};

struct CorrelateStep {
  ItemId query = kInvalidItemId;
  std::vector<SearchHit> hits;
  std::size_t done = 0, total = 0;  ///< queries of this run
  bool failed = false;              ///< the query could not be searched (a warning says why)
};

struct CorrelateSummary {
  std::size_t selected = 0;    ///< items the selection names
  std::size_t already = 0;     ///< of which correlated before this run (skipped)
  std::size_t correlated = 0;  ///< correlated and recorded in this run
  std::size_t hits = 0;        ///< hits recorded in this run
  std::size_t remaining = 0;   ///< left for a later run (limit)
  std::size_t failed = 0;      ///< could not be searched (each named in the warnings); not recorded
};

/// Batch correlation: every selected item is searched against the whole
/// database (the rest of its batch included, itself excluded) and its hit
/// list (options.top) is recorded, one item per durable transaction, in item
/// order. An interrupted run is resumed by running it again: recorded items
/// are skipped, so no hit is duplicated. An item that cannot be searched is
/// named in *warnings and left uncorrelated; the rest go on. Throws
/// toolmark::Error for a kind without a comparator or an unknown item id.
CorrelateSummary Correlate(Database& db, Kind kind, const SearchOptions& options,
                           const CorrelateSelection& selection, std::vector<std::string>* warnings,
                           const std::function<void(const CorrelateStep&)>& on_query = nullptr);

/// A bullet land item's position around its bullet from its marks ("land3"
/// → 2), or -1 when it has none.
int LandPosition(const ItemRecord& item);

}  // namespace toolmark::index
