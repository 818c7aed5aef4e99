#include "toolmark/review/json.h"

#include <cstdio>

namespace toolmark::review {

nlohmann::json ItemQuality(const index::ItemRecord& it) {
  if (it.quality.empty()) return nlohmann::json();
  nlohmann::json q = nlohmann::json::parse(it.quality, nullptr, false);
  return q.is_discarded() ? nlohmann::json() : q;
}

std::string QualityRemark(const nlohmann::json& q) {
  if (!q.is_object()) return "not assessed";
  std::string out = q.value("grade", "");
  if (q.contains("orientation")) {
    const auto& o = q["orientation"];
    const std::string as = o.value("stored_as", "");
    if (as != "upright") out += ", turned upright from " + as;
    if (!o.value("settled", true)) out += ", orientation not settled";
  }
  return out;
}

namespace {
nlohmann::json Optional(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
}  // namespace

nlohmann::json ItemRefJson(const index::ItemRecord& it) {
  nlohmann::json j = {{"id", it.id},
                      {"case", it.case_id},
                      {"label", it.item_label},
                      {"jurisdiction", it.jurisdiction},
                      {"kind", KindName(it.kind)},
                      {"role", it.role},
                      {"file", it.file}};
  // The intake's verdict (docs/quality.md): grade, warnings, orientation.
  const nlohmann::json q = ItemQuality(it);
  nlohmann::json warnings = nlohmann::json::array();
  if (q.is_object())
    for (const auto& f : q["findings"])
      if (f.value("severity", "") == "warning") warnings.push_back(f.value("message", ""));
  j["quality"] = q.is_object() ? q.value("grade", "") : "not assessed";
  j["quality_warnings"] = warnings;
  j["orientation"] = q.is_object() && q.contains("orientation") ? q["orientation"] : nlohmann::json();
  return j;
}

bool WeakComparison(const index::ReviewHit& r) {
  const auto weak = [](const index::ItemRecord& it) {
    const nlohmann::json q = ItemQuality(it);
    return q.is_object() && q.value("warnings", 0) > 0;
  };
  return weak(r.query) || weak(r.candidate);
}

nlohmann::json DecisionJson(const index::DecisionRecord& d) {
  return {{"id", d.id},
          {"hit", d.hit},
          {"decision", d.decision},
          {"examiner", d.examiner},
          {"note", d.note},
          {"at", d.at},
          {"toolmark_version", d.toolmark_version},
          {"comparator", d.comparator},
          {"version", d.version},
          {"score", d.score},
          {"log10_lr", Optional(d.log10_lr)},
          {"calibration", d.calibration},
          {"supersedes", d.supersedes ? nlohmann::json(*d.supersedes) : nlohmann::json()}};
}

nlohmann::json HitSummaryJson(const index::ReviewHit& r) {
  const index::HitRecord& h = r.hit;
  return {
      {"id", h.id},
      {"status", r.status},
      {"score", h.score},
      {"log10_lr", Optional(h.log10_lr)},
      {"calibration", h.calibration},
      {"rank", h.rank},
      {"comparator", h.comparator},
      {"version", h.version},
      {"similarity", h.similarity},
      {"query", ItemRefJson(r.query)},
      {"candidate", ItemRefJson(r.candidate)},
      {"decisions", r.decisions},
      // The pair's other direction (the candidate searched as the query), when it was correlated too.
      {"reverse", r.reverse ? nlohmann::json{{"id", r.reverse->id},
                                             {"score", r.reverse->score},
                                             {"log10_lr", Optional(r.reverse->log10_lr)},
                                             {"rank", r.reverse->rank},
                                             {"similarity", r.reverse->similarity}}
                            : nlohmann::json()},
      {"pair_score", index::PairScore(r)},
      // Items of two jurisdictions (e.g. evidence imported from a partner).
      {"cross_border", r.query.jurisdiction != r.candidate.jurisdiction},
      // Either scan has quality warnings (weak data, an assumed orientation): a weak comparison.
      {"weak", WeakComparison(r)},
      // A candidate shared at features level has no scan here: its score is a quick score.
      {"score_kind", r.query.values_sha256.empty() || r.candidate.values_sha256.empty() ? "quick" : "full"}};
}

nlohmann::json ClustersJson(const std::vector<index::Cluster>& clusters,
                            const std::map<index::ItemId, index::ItemRecord>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const index::Cluster& c : clusters) {
    nlohmann::json members = nlohmann::json::array(), edges = nlohmann::json::array();
    for (index::ItemId id : c.items)
      if (const auto it = items.find(id); it != items.end()) members.push_back(ItemRefJson(it->second));
    for (const index::Link& l : c.links) edges.push_back({{"hit", l.hit}, {"a", l.a}, {"b", l.b}});
    out.push_back({{"id", c.id},
                   {"items", members},
                   {"cases", c.cases},
                   {"jurisdictions", c.jurisdictions},
                   {"edges", edges}});
  }
  return {{"clusters", out}};
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string PairScoreText(const index::ReviewHit& h) {
  return Num(h.hit.score) + (h.reverse ? " / " + Num(h.reverse->score) : std::string());
}

std::string LrText(const std::optional<double>& log10_lr) {
  if (!log10_lr) return "not calibrated";
  char buf[32];
  std::snprintf(buf, sizeof buf, "10^%.2f", *log10_lr);
  return buf;
}

std::map<index::ItemId, index::ItemRecord> ItemsById(index::Database& db) {
  std::map<index::ItemId, index::ItemRecord> out;
  for (index::ItemRecord& it : db.List()) out.emplace(it.id, std::move(it));
  return out;
}

}  // namespace toolmark::review
