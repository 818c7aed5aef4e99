// toolmark search end to end: ingest synthetic cartridge cases, search with a
// file that is not in the database and with a stored item's id; JSON fields
// of ARCHITECTURE.md; bad queries are one-line errors.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "run_cli.h"
#include "spawn.h"
#include "test_util.h"
#include "toolmark/index/database.h"

namespace toolmark {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using testing::CliResult;
using testing::RunCli;

/// `toolmark bench` of items cartridge cases of 64² points, one synthetic query, no recall queries.
std::vector<std::string> BenchArgs(int items, int shortlist) {
  return {
      "bench", "--items",     std::to_string(items),    "--queries", "1", "--recall-queries", "0", "--size",
      "64",    "--shortlist", std::to_string(shortlist)};
}

/// `toolmark synth` of firearms × per_firearm cartridge cases of size² points into set; its exit status.
int SynthCartridgeCases(const std::string& set, int firearms, int per_firearm, int size, int seed) {
  return RunCli({"synth", set, "--firearms", std::to_string(firearms), "--per-firearm",
                 std::to_string(per_firearm), "--size", std::to_string(size), "--seed", std::to_string(seed)})
      .status;
}

TEST(SearchCli, FileAndItemQueriesRankTheSameFirearmFirst) {
  testing::TempDir dir;
  const std::string set = dir / "cc", db = dir / "db";
  ASSERT_EQ(SynthCartridgeCases(set, 3, 3, 96, 5), 0);
  // Shots 1 and 2 of every firearm go in; shot 3 stays out as the query.
  for (int f = 0; f < 3; ++f) {
    for (int s = 1; s <= 2; ++s) {
      const std::string file = set + "/cc-f000" + std::to_string(f) + "-s" + std::to_string(s) + ".x3p";
      const CliResult r = RunCli({"ingest", "--db", db, "--case", "case-" + std::to_string(f),
                                  "--jurisdiction", f == 2 ? "DE" : "NL", "--kind", "cartridge_case", file});
      ASSERT_EQ(r.status, 0) << r.err;
    }
  }
  const CliResult r = RunCli({"search", "--db", db, "--json", "--top", "3", set + "/cc-f0001-s3.x3p"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["comparator"], "cmc");
  EXPECT_EQ(j[0]["indexed"], 6);
  const json& hits = j[0]["hits"];
  ASSERT_EQ(hits.size(), 3u);
  for (const char* field : {"item", "score", "log10_lr", "rank", "case", "jurisdiction"})
    EXPECT_TRUE(hits[0].contains(field)) << field;
  EXPECT_EQ(hits[0]["rank"], 1);
  EXPECT_EQ(hits[0]["case"], "case-1");
  EXPECT_EQ(hits[1]["case"], "case-1");
  EXPECT_TRUE(hits[0]["log10_lr"].is_null());
  EXPECT_GE(hits[0]["score"].get<double>(), hits[2]["score"].get<double>());

  // By item id: the item itself is left out; --jurisdiction scopes the search.
  const int own = hits[0]["item"].get<int>();
  const CliResult by_id =
      RunCli({"search", "--db", db, "--json", std::to_string(own), "--jurisdiction", "NL"});
  ASSERT_EQ(by_id.status, 0) << by_id.err;
  const json k = json::parse(by_id.out);
  EXPECT_EQ(k[0]["hits"].size(), 3u);  // 4 NL items, less itself
  for (const json& h : k[0]["hits"]) {
    EXPECT_NE(h["item"].get<int>(), own);
    EXPECT_EQ(h["jurisdiction"], "NL");
  }
  EXPECT_EQ(k[0]["hits"][0]["case"], "case-1");

  // The text form names the hits and says the scores are not calibrated.
  const CliResult text = RunCli({"search", "--db", db, set + "/cc-f0000-s3.x3p", "--top", "2"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("case-0"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("not calibrated"), std::string::npos);

  // A k-of-n calibration file (fitted here on made-up counts) gives every hit
  // an LR from its comparison's k of n, the same for the same hit.
  std::string counts = "known_match,cmc_count,cells_compared\n";
  for (int i = 0; i < 40; ++i)
    counts +=
        i % 4 == 0 ? "1," + std::to_string(20 + i % 9) + ",40\n" : "0," + std::to_string(i % 5) + ",40\n";
  testing::WriteFile(dir / "counts.csv", counts);
  const CliResult fit = RunCli({"calibrate", "--scores", dir / "counts.csv", "--same-source-column",
                                "known_match", "--score-column", "cmc_count", "--trials-column",
                                "cells_compared", "--out", dir / "kofn.json"});
  ASSERT_EQ(fit.status, 0) << fit.err;
  const CliResult lr = RunCli({"search", "--db", db, "--json", "--top", "3", "--calibration",
                               dir / "kofn.json", set + "/cc-f0001-s3.x3p"});
  ASSERT_EQ(lr.status, 0) << lr.err;
  const json lj = json::parse(lr.out);
  ASSERT_EQ(lj[0]["hits"].size(), 3u);
  for (const json& h : lj[0]["hits"]) EXPECT_TRUE(h["log10_lr"].is_number()) << h.dump();
  EXPECT_GT(lj[0]["hits"][0]["log10_lr"].get<double>(), 0) << lr.out;  // its own firearm's shot
  EXPECT_GE(lj[0]["hits"][0]["log10_lr"].get<double>(), lj[0]["hits"][2]["log10_lr"].get<double>());
  EXPECT_EQ(lj[0]["calibration"]["method"], "kofn") << lr.out;

  // A deleted index is rebuilt, with a warning, and gives the same hits.
  for (const auto& e : fs::directory_iterator(fs::path(db) / "index")) fs::remove(e.path());
  const CliResult again = RunCli({"search", "--db", db, "--json", "--top", "3", set + "/cc-f0001-s3.x3p"});
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("warning"), std::string::npos) << again.err;
  EXPECT_EQ(json::parse(again.out)[0]["hits"], hits);

  // The screening stage, forced at this size: the embedding's 2 plus the
  // screening score's 2 of the other 4; the hits it added say so.
  const CliResult screened =
      RunCli({"search", "--db", db, "--json", "--top", "4", "--fine", "0", "--screen-all-below", "0",
              "--shortlist", "2", "--screened", "2", "--shortlist-depth", "6", set + "/cc-f0001-s3.x3p"});
  ASSERT_EQ(screened.status, 0) << screened.err;
  const json sj = json::parse(screened.out);
  EXPECT_EQ(sj[0]["shortlist_depth"], 6);
  EXPECT_EQ(sj[0]["screened"], 2);
  ASSERT_EQ(sj[0]["hits"].size(), 4u);
  int with_screen = 0;
  for (const json& h : sj[0]["hits"]) {
    EXPECT_EQ(h["screen_score"].is_number(), h["shortlist_rank"].get<int>() > 2) << h.dump();
    with_screen += h["screen_score"].is_number();
  }
  EXPECT_EQ(with_screen, 2);

  // Bad queries: one line, non-zero.
  for (const auto& args :
       {std::vector<std::string>{"search", "--db", db, "--screened", "-1", set + "/cc-f0000-s3.x3p"},
        std::vector<std::string>{"search", "--db", db, dir / "missing.x3p"},
        std::vector<std::string>{"search", "--db", dir / "nodb", set + "/cc-f0000-s3.x3p"},
        std::vector<std::string>{"search", "--db", db, "--kind", "bullet", "1"}}) {
    const CliResult bad = RunCli(args);
    EXPECT_NE(bad.status, 0);
    EXPECT_EQ(bad.err.find('\n'), bad.err.size() - 1) << bad.err;
  }
}

TEST(SearchCli, CorrelateRecordsHitsAndResumesAfterAKill) {
  testing::TempDir dir;
  const std::string set = dir / "cc", db = dir / "db";
  ASSERT_EQ(SynthCartridgeCases(set, 4, 2, 96, 9), 0);
  ASSERT_EQ(RunCli({"ingest", "--db", db, "--manifest", set + "/truth.csv", "--case", "batch-1"}).status, 0);
  const auto hits_now = [&] {
    auto d = index::Database::Open(db, false);
    return d->Hits();
  };
  // --limit: a first run takes 2 items and leaves the rest.
  const CliResult first = RunCli({"correlate", "--db", db, "--top", "3", "--limit", "2"});
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_NE(first.out.find("correlated 2 items (6 hits recorded)"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("6 left for a later run"), std::string::npos) << first.out;
  EXPECT_EQ(hits_now().size(), 6u);

  // A second run is killed (SIGKILL) as soon as it has recorded one more item.
  const pid_t pid = testing::SpawnProcess(TOOLMARK_BINARY, {"correlate", "--db", db, "--top", "3"}, -1, -1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (hits_now().size() < 9 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGKILL);
  testing::WaitProcess(pid);
  const std::size_t after_kill = hits_now().size();
  EXPECT_GE(after_kill, 9u);
  EXPECT_EQ(after_kill % 3, 0u);  // whole hit lists only: one transaction per item

  // The third run finishes the rest, and nothing is recorded twice.
  const CliResult last = RunCli({"correlate", "--db", db, "--top", "3", "--json"});
  ASSERT_EQ(last.status, 0) << last.err;
  const json j = json::parse(last.out);
  EXPECT_EQ(j.size(), (24 - after_kill) / 3);
  const std::vector<index::HitRecord> hits = hits_now();
  ASSERT_EQ(hits.size(), 24u);  // 8 items × 3 hits
  std::set<std::pair<index::ItemId, index::ItemId>> pairs;
  std::map<index::ItemId, std::vector<int>> ranks;
  for (const index::HitRecord& h : hits) {
    EXPECT_TRUE(pairs.emplace(h.query, h.candidate).second)
        << "duplicate hit " << h.query << " " << h.candidate;
    EXPECT_NE(h.query, h.candidate);
    ranks[h.query].push_back(h.rank);
  }
  EXPECT_EQ(ranks.size(), 8u);
  for (const auto& [query, r] : ranks) EXPECT_EQ(r, (std::vector<int>{1, 2, 3})) << query;
  // Each same-firearm pair was found from both sides: one review each.
  std::set<std::pair<index::ItemId, index::ItemId>> unordered;
  for (const auto& [q, c] : pairs) unordered.insert({std::min(q, c), std::max(q, c)});
  EXPECT_LT(unordered.size(), pairs.size());
  const CliResult again = RunCli({"correlate", "--db", db});
  EXPECT_NE(again.out.find("correlated 0 items"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("review queue: " + std::to_string(unordered.size()) + " pairs pending"),
            std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("8 already correlated"), std::string::npos) << again.out;
  EXPECT_TRUE(index::Database::Open(db, false)->Verify(false).ok());
}

TEST(SearchCli, ABulletLandsIdSearchesItsWholeBullet) {
  testing::TempDir dir;
  const std::string set = dir / "bu", db = dir / "db";
  ASSERT_EQ(RunCli({"synth", set, "--kind", "bullet", "--firearms", "3", "--per-firearm", "2", "--lands", "4",
                    "--seed", "4"})
                .status,
            0);
  ASSERT_EQ(RunCli({"ingest", "--db", db, "--manifest", set + "/truth.csv", "--case", "bullets"}).status, 0);
  // Item 1 is land 1 of bullet f0000-b1: the bullet search finds f0000-b2 first.
  const CliResult r = RunCli({"search", "--db", db, "--json", "1", "--top", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j[0]["level"], "bullet");
  EXPECT_EQ(j[0]["query_lands"], 4);
  ASSERT_GE(j[0]["hits"].size(), 2u);
  EXPECT_EQ(j[0]["hits"][0]["item"], "f0000-b2") << r.out;
  EXPECT_EQ(j[0]["hits"][0]["lands"].size(), 4u);
  for (const json& h : j[0]["hits"]) {
    EXPECT_NE(h["item"], "f0000-b1");  // not itself
    // Compared whole, chosen by its lands' screening scores (docs/search.md, "Bullets").
    EXPECT_EQ(h.value("score_kind", ""), "full");
    EXPECT_TRUE(h.contains("screen_score") && h["screen_score"].is_number()) << h;
    EXPECT_TRUE(h.contains("phase") && h["phase"].is_number()) << h;
  }
  // --land: that land alone.
  const CliResult land = RunCli({"search", "--db", db, "--json", "1", "--land", "--top", "1"});
  ASSERT_EQ(land.status, 0) << land.err;
  EXPECT_EQ(json::parse(land.out)[0]["comparator"], "land");
}

TEST(SearchCli, BenchReportsTheContractFields) {
  const CliResult r = RunCli({"bench", "--items", "8", "--queries", "2", "--recall-queries", "1", "--size",
                              "64", "--shortlist", "4", "--vectors", "300", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  for (const char* field : {"items", "shortlist", "shortlist_recall", "shortlist_p50_ms", "search_p50_ms",
                            "search_p95_ms", "index_bytes_per_item", "ingest_items_per_s"})
    EXPECT_TRUE(j.contains(field)) << field;
  EXPECT_EQ(j["items"], 8);
  EXPECT_EQ(j["shortlist"], 4);
  EXPECT_GT(j["ingest_items_per_s"].get<double>(), 0);
  EXPECT_GT(j["index_bytes_per_item"].get<double>(), 0);
  EXPECT_GE(j["search_p95_ms"].get<double>(), j["search_p50_ms"].get<double>());
  EXPECT_EQ(j["vector_level"]["vectors"], 300);
  EXPECT_EQ(j["vector_level"]["index_kind"], "flat");  // exact: its recall is 1 by definition
  EXPECT_EQ(j["reused_database"], false);
  EXPECT_GE(j["best_known_match_in_shortlist"].get<double>(), 0.0);
}

TEST(SearchCli, BenchReusesItsOwnDatabaseOnly) {
  testing::TempDir dir;
  const std::string db = dir / "bench";
  const std::vector<std::string> base = {"bench", "--items", "8",  "--queries",   "2", "--recall-queries",
                                         "0",     "--size",  "64", "--shortlist", "4", "--json",
                                         "--db",  db};
  std::vector<std::string> build = base;
  build.push_back("--keep");
  const CliResult first = RunCli(build);
  ASSERT_EQ(first.status, 0) << first.err;
  // Without --reuse an existing folder is refused; with it, searched again.
  const CliResult refused = RunCli(base);
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("--reuse"), std::string::npos) << refused.err;
  std::vector<std::string> again = base;
  again.push_back("--reuse");
  const CliResult second = RunCli(again);
  ASSERT_EQ(second.status, 0) << second.err;
  const json a = json::parse(first.out), b = json::parse(second.out);
  EXPECT_EQ(b["reused_database"], true);
  EXPECT_TRUE(b["ingest_items_per_s"].is_null());
  EXPECT_EQ(b["known_match_in_shortlist"], a["known_match_in_shortlist"]);
  EXPECT_EQ(b["top_hit_known_match"], a["top_hit_known_match"]);
  EXPECT_TRUE(fs::exists(db)) << "a reused database is kept";
  // Other parameters than the database was built with: refused, one line.
  std::vector<std::string> other = again;
  other[2] = "10";
  const CliResult mismatch = RunCli(other);
  EXPECT_NE(mismatch.status, 0);
  EXPECT_NE(mismatch.err.find("holds 8 scans"), std::string::npos) << mismatch.err;
  std::vector<std::string> seed = again;
  seed.insert(seed.end(), {"--seed", "5"});
  const CliResult wrong_seed = RunCli(seed);
  EXPECT_NE(wrong_seed.status, 0);
  EXPECT_NE(wrong_seed.err.find("--seed)"), std::string::npos) << wrong_seed.err;
}

TEST(SearchCli, BenchRefusesSketchBitsThatAreNotWholeWordsAtOnce) {
  // Refused before anything is built, in one line, and nothing is created.
  testing::TempDir dir;
  std::vector<std::string> args = BenchArgs(8, 4);
  args.insert(args.end(),
              {"--vectors", "100", "--index", "sketch", "--sketch-bits", "100", "--db", dir / "b"});
  const CliResult r = RunCli(args);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("multiple of 64"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir / "b"));
}

TEST(SearchCli, BenchSearchesBulletsWithLandsMissing) {
  // 12 bullets of 4 lands (6 barrels × 2); each query a third bullet with 2 lands missing. Every bullet is a
  // candidate, and only the best 2 by the lands' phase vote are compared whole (--fine 2): the vote must
  // keep the barrel's bullets.
  const CliResult r = RunCli({"bench", "--kind", "bullet", "--items", "12", "--lands", "4", "--queries", "6",
                              "--recall-queries", "0", "--fine", "2", "--top", "2", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["kind"], "bullet");
  EXPECT_EQ(j["comparator"], "land");
  EXPECT_EQ(j["stored_scans"], 48);
  EXPECT_EQ(j["lands"], 4);
  EXPECT_EQ(j["queries"], 6);
  EXPECT_TRUE(j["known_match_in_shortlist"].is_null());  // bullet search: measured at the bullet level
  EXPECT_GE(j["known_match_in_hits"].get<double>(), 11.0 / 12);
  EXPECT_GE(j["top_hit_known_match"].get<double>(), 5.0 / 6);
  EXPECT_GE(j["search_p95_ms"].get<double>(), j["search_p50_ms"].get<double>());
  EXPECT_GT(j["search_p50_ms"].get<double>(), 0);
}

TEST(SearchCli, BenchSearchesRealScansAmongItsSyntheticOnes) {
  testing::TempDir dir;
  // The "real" set: another generator seed, 3 firearms × 2, with its truth in the manifest.
  const std::string set = dir / "lab-set", db = dir / "bench";
  ASSERT_EQ(SynthCartridgeCases(set, 3, 2, 64, 21), 0);
  std::vector<std::string> base = BenchArgs(12, 6);
  base.insert(base.end(), {"--top", "3", "--db", db, "--real", set + "/truth.csv", "--json"});
  std::vector<std::string> build = base;
  build.push_back("--keep");
  const CliResult first = RunCli(build);
  ASSERT_EQ(first.status, 0) << first.err;
  const json a = json::parse(first.out);
  ASSERT_TRUE(a.contains("real")) << first.out;
  const json& all = a["real"]["all"];
  EXPECT_EQ(a["real"]["sets"][0]["set"], "lab-set");
  EXPECT_EQ(a["real"]["sets"][0]["items"], 6);
  EXPECT_EQ(all["queries"], 6);   // each scan has one partner
  EXPECT_EQ(all["partners"], 6);  // counted from each side
  EXPECT_EQ(all["top"], 3);
  // The hits come from the shortlist (the shortlist path is forced).
  EXPECT_LE(all["partners_in_hits"].get<int>(), all["partners_in_shortlist"].get<int>());
  EXPECT_EQ(all["partners_missed"].get<int>(), 6 - all["partners_in_hits"].get<int>());
  EXPECT_EQ(all["missed"].size(), all["partners_missed"].get<std::size_t>());
  EXPECT_LE(all["every_partner_in_top"].get<int>(), all["queries"].get<int>());
  EXPECT_GE(all["rank1_partner"].get<int>(),
            5);  // a synthetic partner is found first (evaluation wired right)
  EXPECT_GT(a["catalog_bytes_per_item"].get<double>(), 0);
  // Reused with the same set: its scans are already there, the same figures come back.
  std::vector<std::string> again = base;
  again.push_back("--reuse");
  const CliResult second = RunCli(again);
  ASSERT_EQ(second.status, 0) << second.err;
  const json b = json::parse(second.out);
  EXPECT_EQ(b["reused_database"], true);
  for (const char* k : {"queries", "partners", "partners_in_shortlist", "partners_in_hits", "rank1_partner"})
    EXPECT_EQ(b["real"]["all"][k], all[k]) << k;
  EXPECT_EQ(index::Database::Open(db, false)->List().size(), 18u);  // 12 synthetic + 6 real, none twice
  // A manifest that is not there: refused, one line.
  std::vector<std::string> missing = again;
  missing[16] = dir / "nothing.csv";
  const CliResult bad = RunCli(missing);
  EXPECT_NE(bad.status, 0);
  EXPECT_EQ(testing::LineCount(bad.err), 1) << bad.err;
  // A manifest with no scan of the bench's kind (bullet lands for a cartridge-case bench): refused, one line.
  const std::string lands = dir / "lands";
  ASSERT_EQ(RunCli({"synth", lands, "--kind", "bullet", "--firearms", "1", "--per-firearm", "1", "--lands",
                    "3", "--seed", "2"})
                .status,
            0);
  missing[16] = lands + "/truth.csv";
  const CliResult wrong_kind = RunCli(missing);
  EXPECT_NE(wrong_kind.status, 0);
  EXPECT_EQ(testing::LineCount(wrong_kind.err), 1) << wrong_kind.err;
  EXPECT_NE(wrong_kind.err.find("no cartridge_case scan was stored"), std::string::npos) << wrong_kind.err;
}

TEST(SearchCli, BenchPartnersRealBulletLandsByLand) {
  // Lands of one barrel match only the same land of its other bullets: with
  // a land_id column, a land's partners are those lands, not the barrel's
  // every land (2 barrels × 2 bullets × 4 lands: one partner a land, 16 in all).
  testing::TempDir dir;
  const std::string set = dir / "lands", db = dir / "bench";
  ASSERT_EQ(RunCli({"synth", set, "--kind", "bullet", "--firearms", "2", "--per-firearm", "2", "--lands", "4",
                    "--seed", "3"})
                .status,
            0);
  const CliResult r = RunCli({"bench", "--kind", "bullet", "--items", "6", "--lands", "4", "--queries", "1",
                              "--recall-queries", "0", "--db", db, "--real", set + "/truth.csv", "--json"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json all = json::parse(r.out)["real"]["all"];
  EXPECT_EQ(all["queries"], 16);
  EXPECT_EQ(all["partners"], 16);
  EXPECT_GE(all["rank1_partner"].get<int>(), 12);  // the same land of the other bullet, found first
}

TEST(SearchCli, BenchCountsRealPartnersAtTheVectorLevel) {
  // Real scans (here a synthetic set standing in for them) among the vector
  // level's distractors: each query's partners (2 firearms × 3 cases: 2 a
  // query, 12 in all) looked for in the shortlist of the index alone. The
  // distractors follow the database's embeddings (300 items: enough axes),
  // and 6,000 vectors are whitened and make an IVF index (from 4,096).
  testing::TempDir dir;
  const std::string set = dir / "cases", db = dir / "bench";
  ASSERT_EQ(SynthCartridgeCases(set, 2, 3, 96, 4), 0);
  std::vector<std::string> args = BenchArgs(300, 4);
  args.insert(args.end(), {"--vectors", "6000", "--index", "ivf", "--db", db, "--keep", "--real",
                           set + "/truth.csv", "--json"});
  const CliResult r = RunCli(args);
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(r.out), real = j["vector_level"]["real"];
  EXPECT_EQ(real["queries"], 6);
  EXPECT_EQ(real["partners"], 12);
  EXPECT_EQ(real["partners"], j["real"]["all"]["partners"]);
  EXPECT_EQ(j["vector_level"]["index_kind"], "ivf");
  // The exact index of the same (whitened) vectors keeps every partner: the
  // 2 nearest of each query among 6,000; the IVF's lists may lose some.
  EXPECT_EQ(real["partners_in_exact_shortlist"], 12);
  EXPECT_GE(real["partners_in_shortlist"].get<int>(), 10);
  EXPECT_LE(real["partners_in_shortlist"].get<int>(), 12);
  const double recall = j["vector_level"]["recall_vs_exact"].get<double>();
  EXPECT_GT(recall, 0.5);  // measured 0.89 (96 of about 300 lists probed)
  EXPECT_LE(recall, 1.0);

  // The same database and vectors with the sketch index: the nearest 500
  // sketches re-ranked exactly.
  args = BenchArgs(300, 4);
  args.insert(args.end(), {"--vectors", "6000", "--index", "sketch", "--sketch-rerank", "500", "--db", db,
                           "--reuse", "--real", set + "/truth.csv", "--json"});
  const CliResult sk = RunCli(args);
  ASSERT_EQ(sk.status, 0) << sk.err;
  const json v = json::parse(sk.out)["vector_level"];
  EXPECT_EQ(v["index_kind"], "sketch");
  EXPECT_EQ(v["sketch_bits"], 512);
  EXPECT_EQ(v["real"]["partners_in_exact_shortlist"], 12);
  EXPECT_GE(v["real"]["partners_in_shortlist"].get<int>(), 11);
  EXPECT_GT(v["recall_vs_exact"].get<double>(), 0.8);
  // Its bytes: the full vectors (256 whitened floats) and a 64-byte sketch each.
  EXPECT_GT(v["index_bytes_per_item"].get<double>(), 256 * 4 + 64);
}

}  // namespace
}  // namespace toolmark
