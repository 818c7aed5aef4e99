#include "toolmark/index/review.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <tuple>

#include "toolmark/engine/check.h"
#include "toolmark/engine/registry.h"

namespace toolmark::index {
namespace {

std::map<ItemId, ItemRecord> ItemsById(Database& db) {
  std::map<ItemId, ItemRecord> out;
  for (ItemRecord& it : db.List()) out.emplace(it.id, std::move(it));
  return out;
}

bool Selected(const ReviewHit& r, const HitFilter& f) {
  if (f.status != "all" && r.status != f.status && !(f.status == "pending" && r.status == "conflict"))
    return false;
  if (!f.case_id.empty() && r.query.case_id != f.case_id && r.candidate.case_id != f.case_id) return false;
  if (!f.jurisdiction.empty() && r.query.jurisdiction != f.jurisdiction &&
      r.candidate.jurisdiction != f.jurisdiction)
    return false;
  if (f.kind && r.query.kind != *f.kind) return false;
  if (f.min_score && !(PairScore(r) >= *f.min_score)) return false;
  if (f.item && r.hit.query != *f.item && r.hit.candidate != *f.item) return false;
  return true;
}

/// Every recorded pair with its items, status and decision count: the hits
/// grouped by their two items (either order), comparator and version.
std::vector<ReviewHit> AllPairs(Database& db, const std::map<ItemId, ItemRecord>& items) {
  using Key = std::tuple<ItemId, ItemId, std::string, std::string>;
  std::map<Key, ReviewHit> pairs;
  for (HitRecord& h : db.Hits()) {
    const Key key{std::min(h.query, h.candidate), std::max(h.query, h.candidate), h.comparator, h.version};
    auto [it, added] = pairs.try_emplace(key);
    ReviewHit& r = it->second;
    if (added) {
      r.hit = std::move(h);
    } else if (h.id < r.hit.id) {  // the first recorded hit names the pair
      r.reverse = std::move(r.hit);
      r.hit = std::move(h);
    } else {
      r.reverse = std::move(h);
    }
  }
  std::map<std::int64_t, std::vector<DecisionRecord>> by_hit;
  for (DecisionRecord& d : db.Decisions()) by_hit[d.hit].push_back(std::move(d));
  std::vector<ReviewHit> out;
  for (auto& [key, r] : pairs) {
    const auto q = items.find(r.hit.query), c = items.find(r.hit.candidate);
    if (q == items.end() || c == items.end()) continue;  // cannot happen: foreign keys
    r.query = q->second;
    r.candidate = c->second;
    std::vector<DecisionRecord> decisions;
    for (const HitRecord* h : {&r.hit, r.reverse ? &*r.reverse : nullptr})
      if (h)
        if (const auto d = by_hit.find(h->id); d != by_hit.end())
          decisions.insert(decisions.end(), d->second.begin(), d->second.end());
    std::sort(decisions.begin(), decisions.end(),
              [](const DecisionRecord& a, const DecisionRecord& b) { return a.id < b.id; });
    r.status = PairStatus(decisions);
    r.decisions = decisions.size();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

double PairScore(const ReviewHit& r) {
  return r.reverse ? std::max(r.hit.score, r.reverse->score) : r.hit.score;
}

std::string PairStatus(const std::vector<DecisionRecord>& decisions) {
  if (decisions.empty()) return "pending";
  const DecisionRecord& latest = decisions.back();
  if (latest.whole_pair) return latest.decision;  // made over the pair's whole history
  // Every decision was made on one direction alone: their latest must agree.
  std::map<std::int64_t, std::string> latest_of_hit;  // oldest first: the last one wins
  for (const DecisionRecord& d : decisions) latest_of_hit[d.hit] = d.decision;
  for (const auto& [hit, conclusion] : latest_of_hit)
    if (conclusion != latest.decision) return "conflict";
  return latest.decision;
}

void CheckFilter(const HitFilter& f) {
  Check(f.status == "pending" || f.status == "all" || f.status == "conflict" || IsConclusion(f.status),
        "status '" + f.status +
            "' must be pending, identification, inconclusive, elimination, conflict or all");
}

std::vector<ReviewHit> ReviewHits(Database& db, const HitFilter& filter) {
  CheckFilter(filter);
  std::vector<ReviewHit> out;
  for (ReviewHit& r : AllPairs(db, ItemsById(db)))
    if (Selected(r, filter)) out.push_back(std::move(r));
  std::sort(out.begin(), out.end(), [](const ReviewHit& a, const ReviewHit& b) {
    const double sa = PairScore(a), sb = PairScore(b);
    return sa != sb ? sa > sb : a.hit.id < b.hit.id;
  });
  return out;
}

std::optional<ReviewHit> ReviewHitById(Database& db, std::int64_t id) {
  std::vector<HitRecord> pair = db.PairHits(id);
  if (pair.empty()) return std::nullopt;
  ReviewHit r;
  const std::optional<ItemRecord> q = db.Get(pair.front().query), c = db.Get(pair.front().candidate);
  if (!q || !c) return std::nullopt;
  r.query = *q;
  r.candidate = *c;
  const std::vector<DecisionRecord> decisions = db.Decisions(id);
  r.decisions = decisions.size();
  r.status = PairStatus(decisions);
  r.hit = std::move(pair.front());
  if (pair.size() > 1) r.reverse = std::move(pair[1]);
  return r;
}

std::vector<Cluster> LinkedClusters(Database& db) {
  return LinkedClusters(db, [](ItemId) { return true; });
}

std::vector<Cluster> LinkedClusters(Database& db, const std::function<bool(ItemId)>& visible) {
  const std::map<ItemId, ItemRecord> items = ItemsById(db);
  std::vector<Link> links;
  for (const ReviewHit& r : AllPairs(db, items)) {
    const HitRecord& h = r.hit;
    if (r.status == "identification" && h.query != h.candidate && visible(h.query) && visible(h.candidate))
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
