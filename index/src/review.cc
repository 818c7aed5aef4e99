#include "toolmark/index/review.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "toolmark/engine/check.h"
#include "toolmark/engine/registry.h"

namespace toolmark::index {
namespace {

/// Latest conclusion of each decided hit, and how many decisions it has.
struct Statuses {
  std::map<std::int64_t, std::string> latest;
  std::map<std::int64_t, std::size_t> count;
};

Statuses StatusesOf(const std::vector<DecisionRecord>& decisions) {
  Statuses s;
  for (const DecisionRecord& d : decisions) {  // oldest first: the last one wins
    s.latest[d.hit] = d.decision;
    ++s.count[d.hit];
  }
  return s;
}

std::map<ItemId, ItemRecord> ItemsById(Database& db) {
  std::map<ItemId, ItemRecord> out;
  for (ItemRecord& it : db.List()) out.emplace(it.id, std::move(it));
  return out;
}

bool Selected(const ReviewHit& r, const HitFilter& f) {
  if (f.status != "all" && r.status != f.status) return false;
  if (!f.case_id.empty() && r.query.case_id != f.case_id && r.candidate.case_id != f.case_id) return false;
  if (!f.jurisdiction.empty() && r.query.jurisdiction != f.jurisdiction &&
      r.candidate.jurisdiction != f.jurisdiction)
    return false;
  if (f.kind && r.query.kind != *f.kind) return false;
  if (f.min_score && !(r.hit.score >= *f.min_score)) return false;
  if (f.item && r.hit.query != *f.item && r.hit.candidate != *f.item) return false;
  return true;
}

}  // namespace

void CheckFilter(const HitFilter& f) {
  Check(f.status == "pending" || f.status == "all" || IsConclusion(f.status),
        "status '" + f.status + "' must be pending, identification, inconclusive, elimination or all");
}

std::vector<ReviewHit> ReviewHits(Database& db, const HitFilter& filter) {
  CheckFilter(filter);
  const Statuses statuses = StatusesOf(db.Decisions());
  const std::map<ItemId, ItemRecord> items = ItemsById(db);
  std::vector<ReviewHit> out;
  for (HitRecord& h : db.Hits()) {
    const auto q = items.find(h.query), c = items.find(h.candidate);
    if (q == items.end() || c == items.end()) continue;  // cannot happen: foreign keys
    ReviewHit r;
    r.query = q->second;
    r.candidate = c->second;
    if (const auto s = statuses.latest.find(h.id); s != statuses.latest.end()) r.status = s->second;
    if (const auto n = statuses.count.find(h.id); n != statuses.count.end()) r.decisions = n->second;
    r.hit = std::move(h);
    if (Selected(r, filter)) out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const ReviewHit& a, const ReviewHit& b) {
    return a.hit.score != b.hit.score ? a.hit.score > b.hit.score : a.hit.id < b.hit.id;
  });
  return out;
}

std::optional<ReviewHit> ReviewHitById(Database& db, std::int64_t id) {
  std::optional<HitRecord> h = db.Hit(id);
  if (!h) return std::nullopt;
  ReviewHit r;
  const std::optional<ItemRecord> q = db.Get(h->query), c = db.Get(h->candidate);
  if (!q || !c) return std::nullopt;
  r.query = *q;
  r.candidate = *c;
  const std::vector<DecisionRecord> decisions = db.Decisions(id);
  r.decisions = decisions.size();
  if (!decisions.empty()) r.status = decisions.back().decision;
  r.hit = std::move(*h);
  return r;
}

std::vector<Cluster> LinkedClusters(Database& db) {
  return LinkedClusters(db, [](ItemId) { return true; });
}

std::vector<Cluster> LinkedClusters(Database& db, const std::function<bool(ItemId)>& visible) {
  const Statuses statuses = StatusesOf(db.Decisions());
  std::vector<Link> links;
  for (const HitRecord& h : db.Hits()) {
    const auto s = statuses.latest.find(h.id);
    if (s != statuses.latest.end() && s->second == "identification" && h.query != h.candidate &&
        visible(h.query) && visible(h.candidate))
      links.push_back({h.id, h.query, h.candidate});
  }
  // Union-find over the linked items.
  std::map<ItemId, ItemId> parent;
  const auto find = [&](ItemId x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const Link& l : links) {
    parent.emplace(l.a, l.a);
    parent.emplace(l.b, l.b);
  }
  for (const Link& l : links) {
    const ItemId ra = find(l.a), rb = find(l.b);
    if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);  // the root is the smallest id
  }
  std::map<ItemId, Cluster> by_root;  // ordered by root = smallest item id
  for (const auto& [item, unused] : parent) by_root[find(item)].items.push_back(item);
  for (const Link& l : links) by_root[find(l.a)].links.push_back(l);
  const std::map<ItemId, ItemRecord> items = ItemsById(db);
  std::vector<Cluster> out;
  for (auto& [root, c] : by_root) {
    std::set<std::string> cases, jurisdictions;
    for (ItemId id : c.items)
      if (const auto it = items.find(id); it != items.end()) {
        cases.insert(it->second.case_id);
        jurisdictions.insert(it->second.jurisdiction);
      }
    c.cases.assign(cases.begin(), cases.end());
    c.jurisdictions.assign(jurisdictions.begin(), jurisdictions.end());
    std::sort(c.links.begin(), c.links.end(), [](const Link& a, const Link& b) { return a.hit < b.hit; });
    c.id = static_cast<int>(out.size()) + 1;
    out.push_back(std::move(c));
  }
  return out;
}

namespace {
std::string DotQuoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '\n' || ch == '\r') {
      out += ' ';
      continue;
    }
    out += ch;
  }
  return out + "\"";
}
}  // namespace

std::string ClustersDot(const std::vector<Cluster>& clusters, const std::map<ItemId, ItemRecord>& items) {
  std::string out = "graph toolmark_links {\n  node [shape=box, fontname=\"Helvetica\"];\n";
  for (const Cluster& c : clusters) {
    std::string label = "cluster " + std::to_string(c.id) + ":";
    for (const std::string& j : c.jurisdictions) label += " " + j;
    out += "  subgraph cluster_" + std::to_string(c.id) + " {\n    label=" + DotQuoted(label) + ";\n";
    for (ItemId id : c.items) {
      const auto it = items.find(id);
      const std::string text = it == items.end() ? std::to_string(id)
                                                 : it->second.case_id + " / " + it->second.item_label + " (" +
                                                       it->second.jurisdiction + ")";
      out += "    i" + std::to_string(id) + " [label=" + DotQuoted(text) + "];\n";
    }
    out += "  }\n";
    for (const Link& l : c.links)
      out += "  i" + std::to_string(l.a) + " -- i" + std::to_string(l.b) +
             " [label=" + DotQuoted("hit " + std::to_string(l.hit)) + "];\n";
  }
  return out + "}\n";
}

}  // namespace toolmark::index
