// Two-stage search (toolmark/index/search.h) on a database of synthetic
// cartridge cases: the same firearm ranks first, the query's own item and
// other jurisdictions stay out, a missing or corrupted vector index is
// rebuilt with a warning and gives the same hits, new items are picked up,
// re-ranking by the quick score, a lab's calibration, and hits do not depend
// on the thread count.
#include "toolmark/index/search.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/half_float.h"
#include "toolmark/engine/synth.h"

namespace toolmark::index {
namespace {

constexpr int kFirearms = 5, kShots = 4;  ///< shots 0..2 are ingested, shot 3 is the query

SynthOptions Options() {
  SynthOptions o;
  o.kind = Kind::kCartridgeCase;
  o.firearms = kFirearms;
  o.per_firearm = kShots;
  o.seed = 31;
  o.size = 128;
  return o;
}

/// The generated scan of `firearm`'s `shot` (index order: firearm-major).
SynthScan Scan(int firearm, int shot) { return GenerateSynthScan(Options(), firearm * kShots + shot); }

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Database::Open(dir_ / "db", true);
    for (int f = 0; f < kFirearms; ++f)
      for (int s = 0; s < 3; ++s) Ingest(f, s, f % 2 ? "DE" : "NL");
  }

  ItemId Ingest(int firearm, int shot, const std::string& jurisdiction) {
    const SynthScan scan = Scan(firearm, shot);
    ItemRecord it;
    it.file = scan.file;
    it.sha256 = base::Sha256Hex(scan.file);
    it.format = "x3p";
    it.case_id = "case-" + std::to_string(firearm);
    it.item_label = scan.file;
    it.jurisdiction = jurisdiction;
    it.kind = Kind::kCartridgeCase;
    it.role = "reference";
    it.marks = {{MarkType::kBreechFace}, {MarkType::kFiringPin}};
    const ItemId id = db_->Add(it, scan.surface).id;
    firearm_of_[id] = firearm;  // the test's own truth; the search never sees it
    return id;
  }

  std::vector<SearchHit> Run(const SearchQuery& q, const SearchOptions& o = {},
                             std::vector<std::string>* w = nullptr) {
    SearchEngine engine(*db_, Kind::kCartridgeCase, o);
    std::vector<std::string> warnings;
    engine.Update(w ? w : &warnings);
    return engine.Search(q);
  }

  static SearchQuery Query(int firearm, int shot) {
    SearchQuery q;
    q.surface = Scan(firearm, shot).surface;
    q.kind = Kind::kCartridgeCase;
    q.label = "query";
    return q;
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::map<ItemId, int> firearm_of_;
};

TEST_F(SearchTest, TheSameFirearmRanksFirst) {
  SearchOptions o;
  o.top = 5;
  for (int f = 0; f < kFirearms; ++f) {
    SCOPED_TRACE("firearm " + std::to_string(f));
    const std::vector<SearchHit> hits = Run(Query(f, 3), o);
    ASSERT_EQ(hits.size(), 5u);
    for (std::size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].rank, static_cast<int>(i) + 1);
      if (i > 0) {
        EXPECT_GE(hits[i - 1].score, hits[i].score);
      }
      EXPECT_FALSE(hits[i].log10_lr.has_value());  // not calibrated yet
    }
    // The three stored shots of the same firearm are the top three.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(firearm_of_[hits[static_cast<std::size_t>(i)].item], f) << i;
    EXPECT_EQ(hits[0].case_id, "case-" + std::to_string(f));
    EXPECT_EQ(hits[0].jurisdiction, f % 2 ? "DE" : "NL");
  }
}

TEST_F(SearchTest, TheQueryItemAndOtherJurisdictionsStayOut) {
  const ItemId own = db_->List().front().id;
  SearchQuery q;
  q.surface = db_->LoadSurface(own);
  q.kind = Kind::kCartridgeCase;
  q.exclude = own;
  SearchOptions o;
  o.top = 20;
  for (const SearchHit& h : Run(q, o)) EXPECT_NE(h.item, own);
  o.jurisdictions = {"DE"};
  const std::vector<SearchHit> de = Run(Query(0, 3), o);
  EXPECT_EQ(de.size(), 6u);  // firearms 1 and 3, three shots each
  for (const SearchHit& h : de) EXPECT_EQ(h.jurisdiction, "DE");
  // 2D images are never candidates of a 3D query, nor 3D scans of a 2D one.
  Surface image = Scan(2, 3).surface;
  image.kind = SurfaceKind::kIntensity;
  image.values = 128 + 10 * image.values;
  ItemRecord it;
  it.file = "image.png";
  it.sha256 = base::Sha256Hex("image");
  it.format = "png";
  it.case_id = it.item_label = it.jurisdiction = "x";
  it.kind = Kind::kCartridgeCase;
  it.role = "reference";
  it.marks = {{MarkType::kBreechFace}};
  const ItemId image_id = db_->Add(it, image).id;
  o.jurisdictions.clear();
  for (const SearchHit& h : Run(Query(2, 3), o)) EXPECT_NE(h.item, image_id);
  SearchQuery image_query;
  image_query.surface = image;
  image_query.kind = Kind::kCartridgeCase;
  const std::vector<SearchHit> only_2d = Run(image_query, o);
  ASSERT_EQ(only_2d.size(), 1u);
  EXPECT_EQ(only_2d[0].item, image_id);
  // A bullet cannot be searched among cartridge cases.
  SearchEngine engine(*db_, Kind::kCartridgeCase);
  std::vector<std::string> w;
  engine.Update(&w);
  SearchQuery bullet = Query(0, 3);
  bullet.kind = Kind::kBullet;
  EXPECT_THROW(engine.Search(bullet), Error);
}

TEST_F(SearchTest, AMissingOrCorruptedIndexIsRebuiltWithAWarning) {
  SearchOptions o;
  o.top = 6;
  std::vector<std::string> first_warnings;
  const std::vector<SearchHit> first = Run(Query(2, 3), o, &first_warnings);
  EXPECT_TRUE(first_warnings.empty());
  SearchEngine engine(*db_, Kind::kCartridgeCase, o);
  const std::string path = engine.IndexPath();
  ASSERT_TRUE(std::filesystem::exists(path));
  const auto same = [&](const std::vector<SearchHit>& hits) {
    ASSERT_EQ(hits.size(), first.size());
    for (std::size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].item, first[i].item);
      EXPECT_EQ(hits[i].score, first[i].score);
    }
  };
  // Corrupted: one byte changed.
  std::string bytes = testing::ReadFile(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x11);
  testing::WriteFile(path, bytes);
  std::vector<std::string> warnings;
  same(Run(Query(2, 3), o, &warnings));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("rebuilt"), std::string::npos) << warnings[0];
  // Missing.
  std::filesystem::remove(path);
  warnings.clear();
  same(Run(Query(2, 3), o, &warnings));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("missing"), std::string::npos) << warnings[0];
  // Up to date: loaded as is, nothing to say.
  warnings.clear();
  same(Run(Query(2, 3), o, &warnings));
  EXPECT_TRUE(warnings.empty());
}

TEST_F(SearchTest, NewItemsAreEmbeddedAndIndexed) {
  SearchEngine before(*db_, Kind::kCartridgeCase);
  std::vector<std::string> w;
  before.Update(&w);
  EXPECT_EQ(before.indexed(), 15u);
  const ItemId added = Ingest(4, 3, "NL");
  SearchEngine after(*db_, Kind::kCartridgeCase);
  after.Update(&w);
  EXPECT_EQ(after.indexed(), 16u);
  EXPECT_TRUE(w.empty());
  SearchQuery q;
  q.surface = db_->LoadSurface(added);
  q.kind = Kind::kCartridgeCase;
  const std::vector<SearchHit> hits = after.Search(q);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].item, added);  // itself, when not excluded
  // Stored embeddings are halves (two bytes a value), the same numbers as a fresh one.
  const std::optional<FeatureRecord> stored =
      db_->Feature(added, Mark{MarkType::kBreechFace}, "cmc", FeatureVersion("cmc"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(AllHalves(stored->vector));
  const auto cmc = MakeComparator("cmc");
  EXPECT_EQ(stored->vector, cmc->Embed(*cmc->Prepare(q.surface)));
}

TEST_F(SearchTest, CorrelateNamesAnItemItCannotSearchAndGoesOn) {
  // An item whose scan no comparator can prepare (stored by an older
  // version, before intake refused such scans): every value missing but one
  // small patch.
  ItemRecord bad;
  bad.file = "unusable.x3p";
  bad.sha256 = base::Sha256Hex(bad.file);
  bad.format = "x3p";
  bad.case_id = "case-bad";
  bad.item_label = "unusable";
  bad.jurisdiction = "NL";
  bad.kind = Kind::kCartridgeCase;
  bad.role = "questioned";
  bad.marks = {{MarkType::kBreechFace}};
  Surface s = Scan(0, 3).surface;
  s.values.setTo(std::numeric_limits<double>::quiet_NaN());
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) s.values.at<double>(r, c) = r + c;
  const ItemId id = db_->Add(bad, s).id;
  std::vector<std::string> warnings;
  SearchOptions o;
  o.top = 3;
  const CorrelateSummary sum = Correlate(*db_, Kind::kCartridgeCase, o, {}, &warnings);
  EXPECT_EQ(sum.failed, 1u);
  EXPECT_EQ(sum.correlated, 15u);  // every other item, recorded
  bool named = false;
  for (const std::string& w : warnings)
    named |= w.find("item " + std::to_string(id) + " (unusable.x3p): not correlated") != std::string::npos;
  EXPECT_TRUE(named) << ::testing::PrintToString(warnings);
  // Not recorded: a later run tries it again (and the others are done).
  const CorrelateSummary again = Correlate(*db_, Kind::kCartridgeCase, o, {}, &warnings);
  EXPECT_EQ(again.already, 15u);
  EXPECT_EQ(again.failed, 1u);
}

TEST_F(SearchTest, TheQuickScoreReRanksAndOnlyTheBestAreComparedFinely) {
  // 15 items, 3 compared finely: every candidate gets the quick score, the
  // best 3 by it the full comparison; the same firearm's 3 shots are those.
  SearchOptions few;
  few.top = 3;
  few.fine = 3;
  SearchOptions all = few;
  all.fine = 0;  // every shortlisted candidate compared finely
  for (int f : {0, 3}) {
    SCOPED_TRACE("firearm " + std::to_string(f));
    const std::vector<SearchHit> reranked = Run(Query(f, 3), few);
    const std::vector<SearchHit> full = Run(Query(f, 3), all);
    ASSERT_EQ(reranked.size(), 3u);
    ASSERT_EQ(full.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(firearm_of_[reranked[i].item], f);
      ASSERT_TRUE(reranked[i].quick_score.has_value());
      EXPECT_GE(reranked[i].rerank, 1);
      EXPECT_LE(reranked[i].rerank, 3);
      EXPECT_FALSE(full[i].quick_score.has_value());
      EXPECT_EQ(full[i].rerank, 0);
      // The fine stage is the same comparison either way: same items, same scores.
      EXPECT_EQ(reranked[i].item, full[i].item);
      EXPECT_EQ(reranked[i].score, full[i].score);
      EXPECT_EQ(reranked[i].rotation_deg, full[i].rotation_deg);
    }
  }
}

TEST_F(SearchTest, AGivenCalibrationGivesTheHitsLikelihoodRatios) {
  Calibration c;
  c.comparator = "cmc";
  c.parameters = {-2.0, 0.25};
  c.min_log10_lr = -3;
  c.max_log10_lr = 4;
  c.provenance.set = "a lab's test fires";
  c.Check();
  SearchOptions o;
  o.top = 4;
  o.calibration = c;
  const std::vector<SearchHit> hits = Run(Query(1, 3), o);
  ASSERT_EQ(hits.size(), 4u);
  for (const SearchHit& h : hits) {
    ASSERT_TRUE(h.log10_lr.has_value());
    EXPECT_DOUBLE_EQ(*h.log10_lr, c.Log10Lr(h.score));
    EXPECT_EQ(h.calibration, "a lab's test fires");
  }
  EXPECT_GT(*hits[0].log10_lr, *hits[3].log10_lr);  // the same firearm against another
  // A calibration of another comparator or level is refused.
  c.comparator = "land";
  o.calibration = c;
  EXPECT_THROW(SearchEngine(*db_, Kind::kCartridgeCase, o), Error);
  c.comparator = "cmc";
  c.level = "bullet";
  o.calibration = c;
  EXPECT_THROW(SearchEngine(*db_, Kind::kCartridgeCase, o), Error);
}

TEST_F(SearchTest, HitsDoNotDependOnTheThreadCount) {
  std::vector<std::vector<SearchHit>> runs;
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    runs.push_back(Run(Query(1, 3)));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_EQ(runs[0][i].item, runs[1][i].item);
    EXPECT_EQ(runs[0][i].score, runs[1][i].score);
    EXPECT_EQ(runs[0][i].similarity, runs[1][i].similarity);
  }
}

TEST_F(SearchTest, TheScreeningAddsToTheEmbeddingsShortlist) {
  // A shortlist of 4 with a depth of 15 (the whole index) and 2 screened:
  // the embedding's best 4, then the screening score's best 2 of the other
  // 11. Off (depth at most the shortlist): the embedding's 4. The same
  // firearm's 3 shots are shortlisted either way here; the screening's own
  // recall is measured on real scans (docs/search-measured.md).
  SearchOptions on;
  on.screen_all_below = 0;
  on.shortlist = 4;
  on.shortlist_depth = 15;
  on.screened = 2;
  on.fine = 0;
  on.top = 6;
  SearchOptions off = on;
  off.shortlist_depth = 4;
  std::vector<std::vector<SearchHit>> runs;
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    runs.push_back(Run(Query(2, 3), on));
  }
  const std::vector<SearchHit>& hits = runs[1];
  ASSERT_EQ(hits.size(), 6u);
  int screened = 0, same = 0;
  for (const SearchHit& h : hits) {
    EXPECT_EQ(h.screen_score.has_value(), h.shortlist_rank > 4) << h.shortlist_rank;
    screened += h.screen_score.has_value();
    same += firearm_of_[h.item] == 2;
  }
  EXPECT_EQ(screened, 2);
  EXPECT_EQ(same, 3);
  for (std::size_t i = 0; i < hits.size(); ++i) {  // whatever the thread count
    EXPECT_EQ(runs[0][i].item, hits[i].item);
    EXPECT_EQ(runs[0][i].screen_score, hits[i].screen_score);
  }
  const std::vector<SearchHit> alone = Run(Query(2, 3), off);
  EXPECT_EQ(alone.size(), 4u);
  for (const SearchHit& h : alone) EXPECT_FALSE(h.screen_score.has_value());
  off = on;
  off.screened = 0;
  EXPECT_EQ(Run(Query(2, 3), off).size(), 4u);
  // Every item got its screening features, stored; a damaged record is made
  // again from the item's quick features, with one warning.
  const std::string version = ScreenFeatureVersion("cmc");
  const std::vector<FeatureRecord> stored = db_->Features("cmc", version);
  ASSERT_EQ(stored.size(), 15u);
  FeatureRecord damaged = stored[4];
  damaged.vector = {1.0f, 2.0f};
  db_->PutFeatures({damaged});
  std::vector<std::string> warnings;
  EXPECT_EQ(Run(Query(2, 3), on, &warnings).front().item, hits.front().item);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("screening features are unreadable"), std::string::npos) << warnings[0];
  EXPECT_EQ(db_->Features("cmc", version)[4].vector, stored[4].vector);
}

/// 4 barrels × 3 bullets × 6 lands; bullets 0 and 1 are stored (one item
/// per land, item label = the bullet), bullet 2 is kept as queries.
struct LandDatabase {
  std::unique_ptr<Database> db;
  std::map<std::string, int> barrel_of;               // the test's truth, by item label
  std::map<ItemId, std::string> land_of;              // physical land (SynthScan::land_id): the test's truth
  std::vector<std::vector<BulletLandQuery>> queries;  // by barrel
};

LandDatabase MakeLandDatabase(const std::string& folder) {
  SynthOptions o;
  o.kind = Kind::kBullet;
  o.firearms = 4;
  o.per_firearm = 3;
  o.lands = 6;
  o.seed = 17;
  LandDatabase out;
  out.db = Database::Open(folder, true);
  out.queries.resize(4);
  for (int i = 0; i < SynthScanCount(o); ++i) {
    const SynthScan scan = GenerateSynthScan(o, i);
    const int barrel = i / (3 * 6), bullet = (i / 6) % 3, land = i % 6;
    if (bullet == 2) {
      out.queries[static_cast<std::size_t>(barrel)].push_back({land, scan.surface});
      continue;
    }
    ItemRecord it;
    it.file = scan.file;
    it.sha256 = base::Sha256Hex(scan.file);
    it.format = "x3p";
    it.case_id = "hamby-like";
    it.item_label = "barrel" + std::to_string(barrel) + "-bullet" + std::to_string(bullet);
    it.jurisdiction = "NL";
    it.kind = Kind::kBullet;
    it.role = "reference";
    it.marks = {{MarkType::kLand, land + 1}};
    out.land_of[out.db->Add(it, scan.surface).id] = scan.land_id;
    out.barrel_of[it.item_label] = barrel;
  }
  return out;
}

/// Options for a LandDatabase's 48 lands: the embedding's best `shortlist`,
/// then the land screening score's best `screened` of the rest (the depth
/// is the whole index); `fine` compared finely, `top` hits.
SearchOptions Screened48(std::size_t shortlist, std::size_t screened, std::size_t fine, std::size_t top) {
  SearchOptions so;
  so.shortlist = shortlist;
  so.shortlist_depth = 48;
  so.screened = screened;
  so.fine = fine;
  so.top = top;
  return so;
}

/// `run(engine, threads)` on 1 thread, then on 2, each with an engine of its own.
template <typename Run>
void OnOneThreadThenTwo(Database& db, const SearchOptions& so, std::vector<std::string>* warnings,
                        const Run& run) {
  for (int threads : {1, 2}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    SearchEngine engine(db, Kind::kBullet, so);
    engine.Update(warnings);
    run(engine, threads);
  }
}

TEST(BulletSearch, LandSearchesAddScreenedLands) {
  // A land searched among the 48 stored: the embedding's best 3, then the
  // land screening score's best 2 of the other 45 (the depth is the whole
  // index). The same land of the barrel's other bullet comes first; the
  // screening's own recall on real lands is measured in
  // docs/search-measured.md.
  testing::TempDir dir;
  LandDatabase d = MakeLandDatabase(dir / "db");
  SearchOptions so = Screened48(3, 2, 0, 5);
  const ItemId query = d.land_of.begin()->first + 6 * 2 + 2;  // barrel 1, bullet 0, land 3
  std::vector<std::vector<SearchHit>> runs;
  std::vector<std::string> warnings;
  OnOneThreadThenTwo(*d.db, so, &warnings,
                     [&](const SearchEngine& engine, int) { runs.push_back(engine.SearchItem(query)); });
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  const std::vector<SearchHit>& hits = runs[1];
  ASSERT_EQ(hits.size(), 5u);
  int screened = 0;
  for (const SearchHit& h : hits) {
    EXPECT_EQ(h.screen_score.has_value(), h.shortlist_rank > 3) << h.shortlist_rank;
    screened += h.screen_score.has_value();
  }
  EXPECT_EQ(screened, 2);
  EXPECT_EQ(d.land_of.at(hits[0].item), d.land_of.at(query));  // the same land of bullet 1
  for (std::size_t i = 0; i < hits.size(); ++i) {              // whatever the thread count
    EXPECT_EQ(runs[0][i].item, hits[i].item);
    EXPECT_EQ(runs[0][i].screen_score, hits[i].screen_score);
  }
  // Every land's screening features were made when it was prepared, and
  // stored; a damaged record is made again from the land's scan, with one
  // warning.
  const std::string version = ScreenFeatureVersion("land");
  const std::vector<FeatureRecord> stored = d.db->Features("land", version);
  ASSERT_EQ(stored.size(), 48u);
  FeatureRecord damaged = stored[7];
  damaged.vector = {1.0f, 4.0f, 1.0f, 1.0f, 4.0f, 70000000.0f};
  d.db->PutFeatures({damaged});
  warnings.clear();
  SearchEngine engine(*d.db, Kind::kBullet, so);
  EXPECT_EQ(engine.Update(&warnings), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("screening features are unreadable"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("made again from their scans"), std::string::npos) << warnings[0];
  EXPECT_EQ(d.db->Features("land", version)[7].vector, stored[7].vector);
  EXPECT_EQ(engine.SearchItem(query).front().item, hits.front().item);
  // Off: the embedding's 3 alone.
  so.screened = 0;
  SearchEngine off(*d.db, Kind::kBullet, so);
  off.Update(&warnings);
  const std::vector<SearchHit> alone = off.SearchItem(query);
  EXPECT_EQ(alone.size(), 3u);
  for (const SearchHit& h : alone) EXPECT_FALSE(h.screen_score.has_value());
}

/// A stored land as a features-level package from DE carries it: its
/// embedding, and its screening features when `with_code`.
ImportedItem SharedLand(Database& sender, const ItemRecord& it, bool with_code) {
  ImportedItem in;
  in.item = it;
  in.item.jurisdiction = "DE";
  in.origin_item = it.id;
  for (const std::string& version : {FeatureVersion("land"), ScreenFeatureVersion("land")})
    if (with_code || version == FeatureVersion("land"))
      in.features.push_back(*sender.Feature(it.id, FeatureMarkFor(Kind::kBullet), "land", version));
  return in;
}

TEST(BulletSearch, LandsSharedAtFeaturesLevelKeepWhatWasSent) {
  // A receiver holds lands without scans (a features-level package): those
  // sent with their screening features keep them, those sent without are
  // not prepared again (there is no scan) and warn of nothing.
  testing::TempDir dir;
  LandDatabase sender = MakeLandDatabase(dir / "sender");
  std::vector<std::string> warnings;
  SearchEngine(*sender.db, Kind::kBullet, SearchOptions{}).Update(&warnings);
  const std::string screen = ScreenFeatureVersion("land");
  std::vector<ImportedItem> sent;
  for (const ItemRecord& it : sender.db->List())
    if (sent.size() < 6) sent.push_back(SharedLand(*sender.db, it, sent.size() < 3));
  auto receiver = Database::Open(dir / "receiver", true);
  const std::vector<ItemId> ids =
      receiver->ImportPackage({"pkg-1", "DE", "NL", "00", "features", "2026-01-01T00:00:00Z"}, sent);
  ASSERT_EQ(ids.size(), 6u);
  SearchOptions so;
  so.shortlist = 2;
  so.shortlist_depth = 6;
  so.screened = 2;
  SearchEngine engine(*receiver, Kind::kBullet, so);
  warnings.clear();
  EXPECT_EQ(engine.Update(&warnings), 0u) << "nothing to prepare: no scans";
  for (const std::string& w : warnings)  // the index's first build from the imported features, nothing else
    EXPECT_NE(w.find("vector index"), std::string::npos) << w;
  EXPECT_EQ(engine.indexed(), 6u);
  EXPECT_EQ(receiver->Features("land", screen).size(), 3u);
  // A damaged one cannot be made again (no scan), and the warning says so.
  FeatureRecord damaged = receiver->Features("land", screen)[0];
  damaged.vector = {1.0f, 4.0f, 1.0f, 1.0f, 4.0f, 70000000.0f};
  receiver->PutFeatures({damaged});
  warnings.clear();
  SearchEngine again(*receiver, Kind::kBullet, so);
  EXPECT_EQ(again.Update(&warnings), 0u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("not screened: shared without their scans"), std::string::npos) << warnings[0];
}

TEST(BulletSearch, TheLandScreeningChoosesTheBulletsComparedWhole) {
  // Each query land's shortlist is the embedding's best 1 and the screening
  // score's best 3 of the rest; the candidate bullets are ordered by their
  // lands' screening scores at the phases they voted for, and only the best
  // 2 are compared whole: the barrel's two bullets, whatever the threads.
  testing::TempDir dir;
  LandDatabase d = MakeLandDatabase(dir / "db");
  SearchOptions so = Screened48(1, 3, 2, 2);
  std::vector<std::vector<BulletHit>> runs[2];
  std::vector<std::string> warnings;
  OnOneThreadThenTwo(*d.db, so, &warnings, [&](const SearchEngine& engine, int threads) {
    for (std::vector<BulletLandQuery> q : d.queries) {
      q.erase(q.begin() + 1);  // two lands missing
      q.erase(q.begin() + 3);
      runs[threads - 1].push_back(engine.SearchBullet(q));
    }
  });
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  for (int barrel = 0; barrel < 4; ++barrel) {
    SCOPED_TRACE("barrel " + std::to_string(barrel));
    const std::vector<BulletHit>& hits = runs[1][static_cast<std::size_t>(barrel)];
    ASSERT_EQ(hits.size(), 2u);
    for (std::size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(d.barrel_of[hits[i].item_label], barrel);
      ASSERT_TRUE(hits[i].screen_score.has_value());
      EXPECT_GT(*hits[i].screen_score, 0.2);
      EXPECT_FALSE(hits[i].features_only);
      EXPECT_EQ(hits[i].land_scores.size(), 4u);
      const BulletHit& one_thread = runs[0][static_cast<std::size_t>(barrel)][i];
      EXPECT_EQ(one_thread.item_label, hits[i].item_label);
      EXPECT_EQ(one_thread.score, hits[i].score);
      EXPECT_EQ(one_thread.screen_score, hits[i].screen_score);
    }
  }
  // Off: the voting lands compared in full choose them, with no screening score.
  so.screened = 0;
  SearchEngine off(*d.db, Kind::kBullet, so);
  off.Update(&warnings);
  for (const BulletHit& h : off.SearchBullet(d.queries[2])) EXPECT_FALSE(h.screen_score.has_value());
}

TEST(BulletSearch, BulletsSharedWithoutScansAreListedByTheirScreeningScore) {
  // A receiver holds two bullets at features level: one sent with its
  // lands' screening features, one without. A bullet search does not fail
  // on them: the first is listed by its screening score (not compared
  // whole: there are no scans), the second cannot be scored and is not.
  testing::TempDir dir;
  LandDatabase sender = MakeLandDatabase(dir / "sender");
  std::vector<std::string> warnings;
  SearchEngine(*sender.db, Kind::kBullet, SearchOptions{}).Update(&warnings);
  std::vector<ImportedItem> sent;
  for (const ItemRecord& it : sender.db->List())
    if (sender.barrel_of.at(it.item_label) == 0)
      sent.push_back(SharedLand(*sender.db, it, it.item_label == "barrel0-bullet0"));
  ASSERT_EQ(sent.size(), 12u);
  auto receiver = Database::Open(dir / "receiver", true);
  receiver->ImportPackage({"pkg-1", "DE", "NL", "00", "features", "2026-01-01T00:00:00Z"}, sent);
  SearchEngine engine(*receiver, Kind::kBullet, SearchOptions{});
  engine.Update(&warnings);
  const std::vector<BulletHit> hits = engine.SearchBullet(sender.queries[0]);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].item_label, "barrel0-bullet0");
  EXPECT_TRUE(hits[0].features_only);
  ASSERT_TRUE(hits[0].screen_score.has_value());
  EXPECT_EQ(hits[0].score, *hits[0].screen_score);
  EXPECT_GT(hits[0].score, 0.2);
  EXPECT_TRUE(hits[0].land_scores.empty());
  EXPECT_FALSE(hits[0].log10_lr.has_value());
  EXPECT_EQ(hits[0].lands.size(), 6u);
}

TEST(BulletSearch, LandShortlistsAggregateToTheSameBarrel) {
  testing::TempDir dir;
  LandDatabase d = MakeLandDatabase(dir / "db");
  auto& db = d.db;
  auto& barrel_of = d.barrel_of;
  auto& queries = d.queries;
  SearchOptions so;
  so.shortlist = 10;
  so.top = 3;
  SearchEngine engine(*db, Kind::kBullet, so);
  std::vector<std::string> warnings;
  engine.Update(&warnings);
  EXPECT_EQ(engine.indexed(), 48u);
  for (int barrel = 0; barrel < 4; ++barrel) {
    SCOPED_TRACE("barrel " + std::to_string(barrel));
    // Two lands missing from the query: the phase still comes out.
    std::vector<BulletLandQuery> q = queries[static_cast<std::size_t>(barrel)];
    q.erase(q.begin() + 1);
    q.erase(q.begin() + 3);
    const std::vector<BulletHit> hits = engine.SearchBullet(q);
    ASSERT_GE(hits.size(), 2u);
    EXPECT_EQ(barrel_of[hits[0].item_label], barrel);
    EXPECT_EQ(barrel_of[hits[1].item_label], barrel);
    EXPECT_EQ(hits[0].lands.size(), 6u);
    EXPECT_EQ(hits[0].positions, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(hits[0].land_scores.size(), 4u);
    EXPECT_GT(hits[0].score, hits.back().score);
    EXPECT_EQ(hits[0].rank, 1);
    // Four of six lands: the bullet-level calibration does not apply.
    for (const BulletHit& h : hits) EXPECT_FALSE(h.log10_lr.has_value());
    // The complete bullet: likelihood ratios from the shipped bullet calibration.
    const std::vector<BulletHit> complete = engine.SearchBullet(queries[static_cast<std::size_t>(barrel)]);
    ASSERT_GE(complete.size(), 2u);
    ASSERT_TRUE(complete[0].log10_lr.has_value());
    EXPECT_FALSE(complete[0].calibration.empty());
    EXPECT_GT(*complete[0].log10_lr, 0);  // the same barrel supports "same source"
    ASSERT_TRUE(complete.back().log10_lr.has_value());
    EXPECT_GE(*complete[0].log10_lr, *complete.back().log10_lr);
  }
  // The query's own bullet is left out when named.
  const std::vector<BulletHit> own = engine.SearchBullet(queries[0], "hamby-like", "barrel0-bullet0");
  for (const BulletHit& h : own) EXPECT_NE(h.item_label, "barrel0-bullet0");
}

}  // namespace
}  // namespace toolmark::index
