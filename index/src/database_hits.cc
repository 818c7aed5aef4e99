// Correlation hits and the examiners' decisions on them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog.h"
#include "database_impl.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"

namespace toolmark::index::detail {

bool DatabaseImpl::RecordHits(ItemId query, const std::string& comparator, const std::string& version,
                              const std::vector<HitRecord>& hits) {
  Check(IsToken(comparator) && !version.empty(), "hits: bad comparator or version");
  for (const HitRecord& h : hits)
    Check(h.rank >= 1 && std::isfinite(h.score) && (!h.log10_lr || std::isfinite(*h.log10_lr)) &&
              std::isfinite(h.rotation_deg) && std::isfinite(h.shift_x_um) && std::isfinite(h.shift_y_um),
          "hits of item " + std::to_string(query) + ": bad rank, score or registration");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();
  try {
    Statement done(catalog_,
                   "SELECT 1 FROM correlations WHERE item_id = ? AND comparator = ? AND version = ?");
    done.Bind(1, static_cast<std::int64_t>(query)).Bind(2, comparator).Bind(3, version);
    if (done.Step()) {
      catalog_.Rollback();
      return false;
    }
    const std::string now = NowUtc();
    for (const HitRecord& h : hits) {
      Statement put(
          catalog_,
          "INSERT INTO hits (query_item, candidate_item, comparator, version, rank, score, log10_lr, "
          "calibration, similarity, rotation_deg, shift_x_um, shift_y_um, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      put.Bind(1, static_cast<std::int64_t>(query))
          .Bind(2, static_cast<std::int64_t>(h.candidate))
          .Bind(3, comparator)
          .Bind(4, version)
          .Bind(5, static_cast<std::int64_t>(h.rank))
          .Bind(6, h.score);
      if (h.log10_lr)
        put.Bind(7, *h.log10_lr);
      else
        put.BindNull(7);
      put.Bind(8, h.calibration)
          .Bind(9, static_cast<double>(h.similarity))
          .Bind(10, h.rotation_deg)
          .Bind(11, h.shift_x_um)
          .Bind(12, h.shift_y_um)
          .Bind(13, now);
      put.Step();
    }
    Statement mark(
        catalog_,
        "INSERT INTO correlations (item_id, comparator, version, hits, done_at) VALUES (?, ?, ?, ?, ?)");
    mark.Bind(1, static_cast<std::int64_t>(query))
        .Bind(2, comparator)
        .Bind(3, version)
        .Bind(4, static_cast<std::int64_t>(hits.size()))
        .Bind(5, now);
    mark.Step();
    catalog_.Audit("correlate", query,
                   comparator + " " + version + ": " + std::to_string(hits.size()) + " hits");
    catalog_.Commit();
    return true;
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::vector<ItemId> DatabaseImpl::CorrelatedItems(const std::string& comparator, const std::string& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement q(catalog_,
              "SELECT item_id FROM correlations WHERE comparator = ? AND version = ? ORDER BY item_id");
  q.Bind(1, comparator).Bind(2, version);
  std::vector<ItemId> out;
  while (q.Step()) out.push_back(q.Int(0));
  return out;
}

namespace {

constexpr const char* kHitColumns =
    "SELECT id, query_item, candidate_item, comparator, version, rank, score, log10_lr, calibration, "
    "similarity, rotation_deg, shift_x_um, shift_y_um, created_at FROM hits ";

HitRecord HitFromRow(const Statement& q) {
  HitRecord h;
  h.id = q.Int(0);
  h.query = q.Int(1);
  h.candidate = q.Int(2);
  h.comparator = q.Text(3);
  h.version = q.Text(4);
  h.rank = static_cast<int>(q.Int(5));
  h.score = q.Real(6);
  if (!q.IsNull(7)) h.log10_lr = q.Real(7);
  h.calibration = q.Text(8);
  h.similarity = static_cast<float>(q.Real(9));
  h.rotation_deg = q.Real(10);
  h.shift_x_um = q.Real(11);
  h.shift_y_um = q.Real(12);
  h.created_at = q.Text(13);
  return h;
}
}  // namespace

std::vector<HitRecord> DatabaseImpl::Hits(std::optional<ItemId> query) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string sql = std::string(kHitColumns) + (query ? "WHERE query_item = ? " : "") +
                          "ORDER BY query_item, comparator, rank";
  Statement q(catalog_, sql.c_str());
  if (query) q.Bind(1, static_cast<std::int64_t>(*query));
  std::vector<HitRecord> out;
  while (q.Step()) out.push_back(HitFromRow(q));
  return out;
}

std::optional<HitRecord> DatabaseImpl::Hit(std::int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string sql = std::string(kHitColumns) + "WHERE id = ?";
  Statement q(catalog_, sql.c_str());
  q.Bind(1, id);
  if (!q.Step()) return std::nullopt;
  return HitFromRow(q);
}

namespace {

/// The hits of a hit's pair (itself and the other direction), by id; the
/// caller holds the mutex.
std::vector<HitRecord> PairHitsOf(Catalog& db, std::int64_t id) {
  const std::string sql =
      std::string(kHitColumns) +
      "WHERE id = ?1 OR id IN (SELECT r.id FROM hits h JOIN hits r ON "
      "r.query_item = h.candidate_item AND r.candidate_item = h.query_item AND "
      "r.comparator = h.comparator AND r.version = h.version WHERE h.id = ?1) ORDER BY id";
  Statement q(db, sql.c_str());
  q.Bind(1, id);
  std::vector<HitRecord> out;
  while (q.Step()) out.push_back(HitFromRow(q));
  return out;
}

/// "hit_id IN (…)" over a pair's hits (ids are integers: no quoting needed).
std::string HitIdsIn(const std::vector<HitRecord>& pair) {
  std::string ids;
  for (const HitRecord& h : pair) ids += (ids.empty() ? "" : ", ") + std::to_string(h.id);
  return "hit_id IN (" + ids + ")";
}

}  // namespace

std::vector<HitRecord> DatabaseImpl::PairHits(std::int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return PairHitsOf(catalog_, id);
}
namespace {

constexpr std::size_t kMaxExaminer = 200, kMaxNote = 10000;

}  // namespace

DecisionRecord DatabaseImpl::RecordDecision(std::int64_t hit, const std::string& decision,
                                            const std::string& examiner, const std::string& note) {
  Check(IsConclusion(decision),
        "decision '" + decision + "' must be identification, inconclusive or elimination");
  Check(examiner.find_first_not_of(" \t") != std::string::npos, "examiner is empty");
  Check(examiner.size() <= kMaxExaminer, "examiner name is longer than 200 bytes");
  Check(note.size() <= kMaxNote, "note is longer than 10,000 bytes");
  Check(examiner.find_first_of("\n\r") == std::string::npos, "examiner name has a line break");
  std::lock_guard<std::mutex> lock(mutex_);
  catalog_.BeginWrite();  // serialises writers across threads and processes
  try {
    const std::vector<HitRecord> pair = PairHitsOf(catalog_, hit);
    const auto it = std::find_if(pair.begin(), pair.end(), [&](const HitRecord& p) { return p.id == hit; });
    if (it == pair.end()) Fail("hit " + std::to_string(hit) + ": no such hit");
    const HitRecord h = *it;
    DecisionRecord d;
    d.hit = hit;
    d.decision = decision;
    d.examiner = examiner;
    d.note = note;
    d.at = NowUtcMillis();
    d.toolmark_version = Version();
    d.comparator = h.comparator;
    d.version = h.version;
    d.score = h.score;
    d.log10_lr = h.log10_lr;
    d.calibration = h.calibration;
    // The pair's latest decision, whichever direction it was recorded on.
    const std::string latest = "SELECT max(id) FROM decisions WHERE " + HitIdsIn(pair);
    Statement last(catalog_, latest.c_str());
    if (last.Step() && !last.IsNull(0)) d.supersedes = last.Int(0);
    Statement put(
        catalog_,
        "INSERT INTO decisions (hit_id, decision, examiner, note, at, toolmark_version, comparator, "
        "version, score, log10_lr, calibration, supersedes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id");
    put.Bind(1, hit)
        .Bind(2, d.decision)
        .Bind(3, d.examiner)
        .Bind(4, d.note)
        .Bind(5, d.at)
        .Bind(6, d.toolmark_version)
        .Bind(7, d.comparator)
        .Bind(8, d.version)
        .Bind(9, d.score);
    if (d.log10_lr)
      put.Bind(10, *d.log10_lr);
    else
      put.BindNull(10);
    put.Bind(11, d.calibration);
    if (d.supersedes)
      put.Bind(12, *d.supersedes);
    else
      put.BindNull(12);
    Check(put.Step(), "catalog: no id for the new decision");
    d.id = put.Int(0);
    while (put.Step()) {
    }
    catalog_.Audit(
        "review", h.query,
        "hit " + std::to_string(hit) + " (item " + std::to_string(h.candidate) + "): " + decision + " by " +
            examiner +
            (d.supersedes ? ", supersedes decision " + std::to_string(*d.supersedes) : std::string()));
    catalog_.Commit();
    return d;
  } catch (...) {
    catalog_.Rollback();
    throw;
  }
}

std::vector<DecisionRecord> DatabaseImpl::Decisions(std::optional<std::int64_t> hit) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string where;
  if (hit) {
    const std::vector<HitRecord> pair = PairHitsOf(catalog_, *hit);
    if (pair.empty()) return {};
    where = "WHERE " + HitIdsIn(pair) + " ";
  }
  const std::string sql =
      "SELECT id, hit_id, decision, examiner, note, at, toolmark_version, comparator, version, "
      "score, log10_lr, calibration, supersedes FROM decisions " +
      where + "ORDER BY id";
  Statement q(catalog_, sql.c_str());
  std::int64_t legacy_until = 0;
  Statement legacy(catalog_, "SELECT legacy_until FROM pair_review WHERE id = 1");
  if (legacy.Step()) legacy_until = legacy.Int(0);
  std::vector<DecisionRecord> out;
  while (q.Step()) {
    DecisionRecord d;
    d.id = q.Int(0);
    d.hit = q.Int(1);
    d.decision = q.Text(2);
    d.examiner = q.Text(3);
    d.note = q.Text(4);
    d.at = q.Text(5);
    d.toolmark_version = q.Text(6);
    d.comparator = q.Text(7);
    d.version = q.Text(8);
    d.score = q.Real(9);
    if (!q.IsNull(10)) d.log10_lr = q.Real(10);
    d.calibration = q.Text(11);
    if (!q.IsNull(12)) d.supersedes = q.Int(12);
    d.whole_pair = d.id > legacy_until;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace toolmark::index::detail
