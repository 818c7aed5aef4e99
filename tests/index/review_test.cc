// The review model: decisions append-only and superseding, statuses, queue
// filters, linked clusters recomputed, concurrent decisions, bad input.
#include "toolmark/index/review.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>

#include "raw_catalog.h"
#include "test_util.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {

Surface MakeSurface(int seed) {
  Surface s;
  s.values.create(20, 30, CV_64FC1);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 30; ++x) s.values.at<double>(y, x) = std::sin(0.1 * x * seed) + 0.01 * y;
  s.spacing_x_um = s.spacing_y_um = 2;
  return s;
}

ItemId AddItem(Database& db, int seed, const std::string& case_id, const std::string& jurisdiction) {
  ItemRecord it;
  it.file = "scan-" + std::to_string(seed) + ".x3p";
  it.sha256 = base::Sha256Hex("file " + std::to_string(seed));
  it.format = "x3p";
  it.case_id = case_id;
  it.item_label = "Q" + std::to_string(seed);
  it.jurisdiction = jurisdiction;
  it.kind = Kind::kCartridgeCase;
  it.role = "questioned";
  it.marks = {{MarkType::kBreechFace}};
  return db.Add(it, MakeSurface(seed)).id;
}

/// Items 1–5 in cases A (NL), B (DE), C (FR); hits 1→2, 1→3, 3→4, 5→4.
struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<Database> db = Database::Open(dir / "db", true);
  std::vector<ItemId> items;
  std::map<std::pair<ItemId, ItemId>, std::int64_t> hit;
  Fixture() {
    items = {AddItem(*db, 1, "A", "NL"), AddItem(*db, 2, "A", "NL"), AddItem(*db, 3, "B", "DE"),
             AddItem(*db, 4, "C", "FR"), AddItem(*db, 5, "C", "FR")};
    Record(0, {{1, 20}, {2, 9}});
    Record(2, {{3, 15}});
    Record(4, {{3, 12}});
  }
  /// Records item q's hit list (candidates by index, with scores), as correlate would.
  void Record(int q, const std::vector<std::pair<int, double>>& candidates) {
    std::vector<HitRecord> hits;
    int rank = 1;
    for (const auto& [c, score] : candidates) {
      HitRecord h;
      h.candidate = items[c];
      h.rank = rank++;
      h.score = score;
      h.log10_lr = score / 10;
      h.calibration = "synthetic";
      hits.push_back(h);
    }
    EXPECT_TRUE(db->RecordHits(items[q], "cmc", "cmc-test", hits));
    for (const HitRecord& h : db->Hits()) hit[{h.query, h.candidate}] = h.id;
  }
  std::int64_t Hit(int q, int c) { return hit.at({items[q], items[c]}); }
};

TEST(Review, DecisionsSupersedeAndKeepTheirHistory) {
  Fixture f;
  const std::int64_t h = f.Hit(0, 1);
  EXPECT_EQ(ReviewHitById(*f.db, h)->status, "pending");
  const DecisionRecord first = f.db->RecordDecision(h, "inconclusive", "A. Examiner", "needs the firing pin");
  EXPECT_FALSE(first.supersedes.has_value());
  EXPECT_EQ(first.score, 20);
  ASSERT_TRUE(first.log10_lr.has_value());
  EXPECT_DOUBLE_EQ(*first.log10_lr, 2.0);
  EXPECT_EQ(first.calibration, "synthetic");
  EXPECT_EQ(first.comparator, "cmc");
  EXPECT_FALSE(first.toolmark_version.empty());
  EXPECT_EQ(first.at.size(), 24u) << first.at;  // 2026-11-29T12:00:00.123Z
  const DecisionRecord second = f.db->RecordDecision(h, "identification", "B. Verifier", "");
  EXPECT_EQ(second.supersedes, std::optional<std::int64_t>(first.id));
  EXPECT_GT(second.id, first.id);
  const auto history = f.db->Decisions(h);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].decision, "inconclusive");
  EXPECT_EQ(history[0].note, "needs the firing pin");
  EXPECT_EQ(history[1].examiner, "B. Verifier");
  const auto r = ReviewHitById(*f.db, h);
  EXPECT_EQ(r->status, "identification");
  EXPECT_EQ(r->decisions, 2u);
  EXPECT_EQ(r->query.case_id, "A");
  // Survives reopening.
  f.db.reset();
  f.db = Database::Open(f.dir / "db", false);
  EXPECT_EQ(f.db->Decisions(h).size(), 2u);
  EXPECT_EQ(ReviewHitById(*f.db, h)->status, "identification");
}

TEST(Review, DecisionsCannotBeChangedOrDeletedInTheCatalog) {
  Fixture f;
  f.db->RecordDecision(f.Hit(0, 1), "elimination", "A. Examiner", "n");
  f.db.reset();
  {
    auto raw = testing::RawCatalog(f.dir / "db");
    try {
      raw->Exec("UPDATE decisions SET decision = 'identification'");
      ADD_FAILURE() << "a decision was changed";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("append-only"), std::string::npos) << e.what();
    }
    EXPECT_THROW(raw->Exec("DELETE FROM decisions"), Error);
  }
  f.db = Database::Open(f.dir / "db", false);
  EXPECT_EQ(f.db->Decisions().size(), 1u);
  EXPECT_EQ(f.db->Decisions()[0].decision, "elimination");
}

TEST(Review, BadDecisionsAreRefusedAndChangeNothing) {
  Fixture f;
  const std::int64_t h = f.Hit(0, 1);
  EXPECT_THROW(f.db->RecordDecision(h, "match", "A", ""), Error);
  EXPECT_THROW(f.db->RecordDecision(h, "Identification", "A", ""), Error);
  EXPECT_THROW(f.db->RecordDecision(h, "identification", "  ", ""), Error);
  EXPECT_THROW(f.db->RecordDecision(h, "identification", "A\nB", ""), Error);
  EXPECT_THROW(f.db->RecordDecision(h, "identification", std::string(201, 'x'), ""), Error);
  EXPECT_THROW(f.db->RecordDecision(h, "identification", "A", std::string(10001, 'x')), Error);
  EXPECT_THROW(f.db->RecordDecision(999999, "identification", "A", ""), Error);
  try {
    f.db->RecordDecision(999999, "identification", "A", "");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such hit"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(f.db->Decisions().empty());
  EXPECT_EQ(ReviewHitById(*f.db, h)->status, "pending");
}

TEST(Review, QueueFiltersByStatusCaseJurisdictionKindAndScore) {
  Fixture f;
  f.db->RecordDecision(f.Hit(0, 1), "identification", "A", "");
  const auto ids = [&](const HitFilter& filter) {
    std::vector<std::int64_t> out;
    for (const ReviewHit& r : ReviewHits(*f.db, filter)) out.push_back(r.hit.id);
    return out;
  };
  HitFilter pending;
  // Pending, best score first: 3→4 (15), 5→4 (12), 1→3 (9).
  EXPECT_EQ(ids(pending), (std::vector<std::int64_t>{f.Hit(2, 3), f.Hit(4, 3), f.Hit(0, 2)}));
  HitFilter all;
  all.status = "all";
  EXPECT_EQ(ids(all).size(), 4u);
  HitFilter identified;
  identified.status = "identification";
  EXPECT_EQ(ids(identified), (std::vector<std::int64_t>{f.Hit(0, 1)}));
  HitFilter in_b;  // either side in case B
  in_b.case_id = "B";
  EXPECT_EQ(ids(in_b), (std::vector<std::int64_t>{f.Hit(2, 3), f.Hit(0, 2)}));
  HitFilter fr;
  fr.jurisdiction = "FR";
  EXPECT_EQ(ids(fr), (std::vector<std::int64_t>{f.Hit(2, 3), f.Hit(4, 3)}));
  HitFilter strong;
  strong.min_score = 12;
  EXPECT_EQ(ids(strong), (std::vector<std::int64_t>{f.Hit(2, 3), f.Hit(4, 3)}));
  HitFilter bullets;
  bullets.kind = Kind::kBullet;
  EXPECT_TRUE(ids(bullets).empty());
  HitFilter bad;
  bad.status = "maybe";
  EXPECT_THROW(ReviewHits(*f.db, bad), Error);
  bad.status = "all";
  bad.kind = Kind::kCartridgeCase;
  EXPECT_FALSE(ids(bad).empty());
}

TEST(Review, ClustersFollowTheCurrentDecisions) {
  Fixture f;
  EXPECT_TRUE(LinkedClusters(*f.db).empty());
  f.db->RecordDecision(f.Hit(0, 1), "identification", "A", "");  // 1–2
  f.db->RecordDecision(f.Hit(2, 3), "identification", "A", "");  // 3–4
  f.db->RecordDecision(f.Hit(4, 3), "inconclusive", "A", "");    // 5–4: no link
  auto clusters = LinkedClusters(*f.db);
  ASSERT_EQ(clusters.size(), 2u);
  EXPECT_EQ(clusters[0].items, (std::vector<ItemId>{f.items[0], f.items[1]}));
  EXPECT_EQ(clusters[0].cases, (std::vector<std::string>{"A"}));
  EXPECT_EQ(clusters[1].items, (std::vector<ItemId>{f.items[2], f.items[3]}));
  EXPECT_EQ(clusters[1].jurisdictions, (std::vector<std::string>{"DE", "FR"}));
  // 1→3 identified joins both clusters: cases A, B, C; NL, DE, FR.
  f.db->RecordDecision(f.Hit(0, 2), "identification", "B", "");
  clusters = LinkedClusters(*f.db);
  ASSERT_EQ(clusters.size(), 1u);
  EXPECT_EQ(clusters[0].id, 1);
  EXPECT_EQ(clusters[0].items.size(), 4u);
  EXPECT_EQ(clusters[0].cases, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(clusters[0].links.size(), 3u);
  // Superseded by an elimination: the link and the join are gone again.
  f.db->RecordDecision(f.Hit(0, 2), "elimination", "C. Reviewer", "different breech face on review");
  clusters = LinkedClusters(*f.db);
  ASSERT_EQ(clusters.size(), 2u);
  std::map<ItemId, ItemRecord> items;
  for (ItemRecord& it : f.db->List()) items.emplace(it.id, it);
  const std::string dot = ClustersDot(clusters, items);
  EXPECT_NE(dot.find("graph toolmark_links"), std::string::npos);
  EXPECT_NE(dot.find("subgraph cluster_2"), std::string::npos);
  EXPECT_NE(dot.find("\"B / Q3 (DE)\""), std::string::npos) << dot;
  EXPECT_EQ(dot.find("subgraph cluster_3"), std::string::npos);
}

TEST(Review, SimultaneousDecisionsAreAllRecordedInOrder) {
  Fixture f;
  const std::int64_t h = f.Hit(0, 1);
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> threads;
  // Threads share one handle; a second handle writes too (as another server would).
  auto other = Database::Open(f.dir / "db", false);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Database& db = t % 2 ? *other : *f.db;
      for (int i = 0; i < kEach; ++i)
        db.RecordDecision(h, kConclusions[(t + i) % 3], "examiner " + std::to_string(t), std::to_string(i));
    });
  for (auto& t : threads) t.join();
  const auto history = f.db->Decisions(h);
  ASSERT_EQ(history.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_FALSE(history[0].supersedes.has_value());
  for (std::size_t i = 1; i < history.size(); ++i) {
    EXPECT_GT(history[i].id, history[i - 1].id);
    EXPECT_EQ(history[i].supersedes, std::optional<std::int64_t>(history[i - 1].id)) << i;
    EXPECT_GE(history[i].at, history[i - 1].at);
  }
  EXPECT_EQ(ReviewHitById(*f.db, h)->status, history.back().decision);
}

TEST(Review, APairFoundFromBothSidesIsOneReview) {
  Fixture f;
  f.Record(1, {{0, 18}});           // 2→1: the pair 1–2 again, from its other side
  f.Record(3, {{2, 16}, {4, 11}});  // 4→3 and 4→5
  HitFilter all;
  all.status = "all";
  const std::vector<ReviewHit> pairs = ReviewHits(*f.db, all);
  ASSERT_EQ(pairs.size(), 4u);  // 7 hits, 4 pairs
  // Best pair score first: 1–2 (20 / 18), 3–4 (15 / 16), 5–4 (12 / 11), 1–3 (9).
  EXPECT_EQ(pairs[0].hit.id, f.Hit(0, 1));  // the first recorded hit names the pair
  ASSERT_TRUE(pairs[0].reverse.has_value());
  EXPECT_EQ(pairs[0].reverse->id, f.Hit(1, 0));
  EXPECT_EQ(pairs[0].reverse->score, 18);
  EXPECT_EQ(pairs[1].hit.id, f.Hit(2, 3));
  EXPECT_EQ(PairScore(pairs[1]), 16);  // the better direction
  EXPECT_EQ(pairs[2].hit.id, f.Hit(4, 3));
  EXPECT_FALSE(pairs[3].reverse.has_value());
  HitFilter strong;
  strong.min_score = 16;
  EXPECT_EQ(ReviewHits(*f.db, strong).size(), 2u);

  // Either hit's id finds the pair; a decision on either is the pair's.
  const std::int64_t ab = f.Hit(0, 1), ba = f.Hit(1, 0);
  EXPECT_EQ(ReviewHitById(*f.db, ba)->hit.id, ab);
  EXPECT_EQ(ReviewHitById(*f.db, ba)->reverse->id, ba);
  const DecisionRecord first = f.db->RecordDecision(ba, "identification", "A. Examiner", "");
  EXPECT_TRUE(first.whole_pair);
  EXPECT_EQ(first.score, 18);  // what it was made on: the direction it was recorded on
  EXPECT_EQ(ReviewHitById(*f.db, ab)->status, "identification");
  EXPECT_EQ(f.db->Decisions(ab).size(), 1u);
  HitFilter pending;
  for (const ReviewHit& r : ReviewHits(*f.db, pending)) EXPECT_NE(r.hit.id, ab);
  // The next decision on the other hit supersedes it: one history, not two.
  const DecisionRecord second = f.db->RecordDecision(ab, "inconclusive", "B. Verifier", "");
  EXPECT_EQ(second.supersedes, std::optional<std::int64_t>(first.id));
  EXPECT_EQ(f.db->Decisions(ba).size(), 2u);
  EXPECT_EQ(ReviewHitById(*f.db, ba)->status, "inconclusive");
  EXPECT_EQ(ReviewHitById(*f.db, ba)->decisions, 2u);

  // A link is the pair's, named by its first hit, whichever hit was decided.
  f.db->RecordDecision(f.Hit(3, 2), "identification", "A. Examiner", "");
  const std::vector<Cluster> clusters = LinkedClusters(*f.db);
  ASSERT_EQ(clusters.size(), 1u);
  ASSERT_EQ(clusters[0].links.size(), 1u);
  EXPECT_EQ(clusters[0].links[0].hit, f.Hit(2, 3));
  EXPECT_EQ(clusters[0].items, (std::vector<ItemId>{f.items[2], f.items[3]}));
}

/// Turns the fixture's database back into a schema 6 one (no pair_review)
/// holding the given decisions as schema 6 recorded them: each superseding
/// the latest of its own hit only.
void MakeSchema6(Fixture& f, const std::vector<std::pair<std::int64_t, std::string>>& decisions) {
  f.db.reset();
  auto raw = testing::RawCatalog(f.dir / "db");
  raw->Exec("DROP TABLE pair_review");
  testing::SetSchemaVersion(*raw, 6);
  for (const auto& [hit, decision] : decisions) {
    const std::string sql =
        "INSERT INTO decisions (hit_id, decision, examiner, at, toolmark_version, comparator, version, "
        "score, supersedes) VALUES (" +
        std::to_string(hit) + ", '" + decision +
        "', 'X', '2026-01-01T00:00:00.000Z', '0.1', 'cmc', 'cmc-test', 1, (SELECT max(id) FROM decisions "
        "WHERE hit_id = " +
        std::to_string(hit) + "))";
    raw->Exec(sql);
  }
  raw.reset();
  f.db = Database::Open(f.dir / "db", false);
}

TEST(Review, DecisionsFromBeforePairsAreKeptAndTheirConflictsSurface) {
  Fixture f;
  f.Record(1, {{0, 18}});
  f.Record(3, {{2, 16}});
  // Schema 6 reviewed each direction apart: 1–2 decided differently from its
  // two sides (a conflict), 3–4 the same way from both.
  const std::int64_t ab = f.Hit(0, 1), ba = f.Hit(1, 0);
  MakeSchema6(f, {{ab, "identification"},
                  {ba, "inconclusive"},
                  {ba, "elimination"},
                  {f.Hit(2, 3), "identification"},
                  {f.Hit(3, 2), "identification"}});
  // Nothing rewritten: every decision kept, read as one direction's.
  const std::vector<DecisionRecord> kept = f.db->Decisions(ab);
  ASSERT_EQ(kept.size(), 3u);
  for (const DecisionRecord& d : kept) EXPECT_FALSE(d.whole_pair);
  EXPECT_EQ(ReviewHitById(*f.db, ab)->status, "conflict");
  EXPECT_EQ(ReviewHitById(*f.db, f.Hit(3, 2))->status, "identification");
  HitFilter pending, conflict;  // a conflict awaits a decision: in the pending queue
  conflict.status = "conflict";
  ASSERT_EQ(ReviewHits(*f.db, conflict).size(), 1u);
  EXPECT_EQ(ReviewHits(*f.db, conflict)[0].hit.id, ab);
  std::set<std::int64_t> queued;
  for (const ReviewHit& r : ReviewHits(*f.db, pending)) queued.insert(r.hit.id);
  EXPECT_EQ(queued, (std::set<std::int64_t>{ab, f.Hit(0, 2), f.Hit(4, 3)}));
  // A conflict links nothing; the agreeing pair still does.
  std::vector<Cluster> clusters = LinkedClusters(*f.db);
  ASSERT_EQ(clusters.size(), 1u);
  EXPECT_EQ(clusters[0].items, (std::vector<ItemId>{f.items[2], f.items[3]}));
  // A decision on the pair settles it, over both histories.
  const DecisionRecord settled = f.db->RecordDecision(ab, "identification", "C. Reviewer", "both sides seen");
  EXPECT_TRUE(settled.whole_pair);
  EXPECT_EQ(settled.supersedes, std::optional<std::int64_t>(kept.back().id));
  EXPECT_EQ(ReviewHitById(*f.db, ba)->status, "identification");
  EXPECT_EQ(LinkedClusters(*f.db).size(), 2u);
  // Opened again: not migrated twice, the new decision still the pair's.
  f.db = Database::Open(f.dir / "db", false);
  EXPECT_TRUE(f.db->Decisions(ab).back().whole_pair);
  EXPECT_FALSE(f.db->Decisions(ab).front().whole_pair);
  EXPECT_EQ(ReviewHitById(*f.db, ab)->status, "identification");
}

}  // namespace
}  // namespace toolmark::index
