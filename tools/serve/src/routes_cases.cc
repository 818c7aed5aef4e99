// Routes: cases and the clusters of linked items.
#include "server_internal.h"
#include "toolmark/review/json.h"

namespace toolmark::serve::detail {

void Server::GetCase(const httplib::Request& req, httplib::Response& res) {
  const Principal p = Authenticate(req);
  Require(p, kReaders, "read cases");
  const View view = ViewOf(p);
  const std::string case_id = req.matches[1];
  const auto items = ItemsById(*db_);
  nlohmann::json list = nlohmann::json::array();
  std::set<index::ItemId> mine;
  for (const auto& [id, it] : items)
    if (it.case_id == case_id && view.Visible(it)) {
      list.push_back(ItemRefJson(it));
      mine.insert(id);
    }
  if (mine.empty()) throw HttpError{404, "case '" + case_id.substr(0, 80) + "': no such case"};
  index::HitFilter f;
  f.status = "all";
  f.case_id = case_id;
  nlohmann::json hits = nlohmann::json::array();
  std::set<index::ItemId> seen = mine;
  for (const auto& h : index::ReviewHits(*db_, f))
    if (view.Visible(h)) {
      hits.push_back(HitSummaryJson(h));
      seen.insert(h.query.id);
      seen.insert(h.candidate.id);
    }
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& c : Clusters(view, items))
    for (index::ItemId id : c.items)
      if (mine.count(id)) {
        clusters.push_back(c.id);
        break;
      }
  AuditShared(p, req, seen, items);
  Json(res, {{"case", case_id}, {"items", list}, {"hits", hits}, {"clusters", clusters}});
}

void Server::Links(const httplib::Request& req, httplib::Response& res) {
  const Principal p = Authenticate(req);
  Require(p, kReaders, "read links");
  const View view = ViewOf(p);
  const auto items = ItemsById(*db_);
  const auto clusters = Clusters(view, items);
  std::set<index::ItemId> seen;
  for (const auto& c : clusters) seen.insert(c.items.begin(), c.items.end());
  AuditShared(p, req, seen, items);
  Json(res, ClustersJson(clusters, items));
}

}  // namespace toolmark::serve::detail
