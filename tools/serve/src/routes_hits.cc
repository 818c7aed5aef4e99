// Routes: the review queue, one hit, its images and plot, decisions.
#include "server_internal.h"
#include "toolmark/review/json.h"

namespace toolmark::serve::detail {

void Server::ListHits(const httplib::Request& req, httplib::Response& res) {
  const Principal p = Authenticate(req);
  Require(p, kReaders, "read hits");
  const View view = ViewOf(p);
  const index::HitFilter f = FilterOf(req);
  const std::size_t limit = SizeParam(req, "limit", 500), offset = SizeParam(req, "offset", 0);
  std::vector<index::ReviewHit> hits;
  for (auto& h : index::ReviewHits(*db_, f))
    if (view.Visible(h)) hits.push_back(std::move(h));
  nlohmann::json list = nlohmann::json::array();
  std::set<index::ItemId> seen;
  std::map<index::ItemId, index::ItemRecord> records;
  for (std::size_t i = offset; i < hits.size() && i < offset + limit; ++i) {
    list.push_back(HitSummaryJson(hits[i]));
    for (const index::ItemRecord* it : {&hits[i].query, &hits[i].candidate}) {
      seen.insert(it->id);
      records.emplace(it->id, *it);
    }
  }
  AuditShared(p, req, seen, records);
  Json(res, {{"total", hits.size()}, {"hits", list}});
}

void Server::GetHit(const httplib::Request& req, httplib::Response& res) {
  const Principal p = Authenticate(req);
  Require(p, kReaders, "read hits");
  const View view = ViewOf(p);
  const std::int64_t id = IdOf(req.matches[1], "hit");
  const index::ReviewHit h = HitOr404(id, view);
  AuditShared(p, req, h);
  nlohmann::json j = HitSummaryJson(h);
  j["rotation_deg"] = h.hit.rotation_deg;
  j["translation_um"] = {h.hit.shift_x_um, h.hit.shift_y_um};
  j["created_at"] = h.hit.created_at;
  nlohmann::json history = nlohmann::json::array();
  for (const auto& d : db_->Decisions(id)) history.push_back(DecisionJson(d));
  j["history"] = history;
  const std::string base = "/api/hits/" + std::to_string(id);
  for (const char* side : {"query", "candidate"})
    j["images"][side] = {{"relief", base + "/image/" + side + ".png?style=relief"},
                         {"colour", base + "/image/" + side + ".png?style=colour"}};
  j["plot"] = base + "/plot.png";
  j["explain"] = base + "/explain";
  // Neighbours in the requester's pending queue (next and previous).
  index::HitFilter pending;
  j["previous"] = nullptr;
  j["next"] = nullptr;
  const double score = index::PairScore(h);
  const auto better = [&](const index::ReviewHit& q) {
    const double s = index::PairScore(q);
    return s != score ? s > score : q.hit.id < h.hit.id;
  };
  for (const auto& q : index::ReviewHits(*db_, pending)) {
    if (q.hit.id == h.hit.id || !view.Visible(q)) continue;
    if (better(q))
      j["previous"] = q.hit.id;
    else if (j["next"].is_null())
      j["next"] = q.hit.id;
  }
  Json(res, j);
}

void Server::Explain(const httplib::Request& req, httplib::Response& res) {
  Json(res, HitViewFor(req)->explain);
}

void Server::Plot(const httplib::Request& req, httplib::Response& res) {
  res.set_content(EncodePng(HitViewFor(req)->plot), "image/png");
}

void Server::Image(const httplib::Request& req, httplib::Response& res) {
  const std::string style = req.has_param("style") ? req.get_param_value("style") : "relief";
  if (style != "relief" && style != "colour")
    throw HttpError{400, "style '" + style.substr(0, 40) + "' must be relief or colour"};
  const auto view = HitViewFor(req);
  const bool query = req.matches[2] == "query";
  const cv::Mat& img = query ? (style == "relief" ? view->query_relief : view->query_colour)
                             : (style == "relief" ? view->candidate_relief : view->candidate_colour);
  res.set_header("Cache-Control", "private, max-age=3600");
  res.set_content(EncodePng(img), "image/png");
}

void Server::PostDecision(const httplib::Request& req, httplib::Response& res) {
  if (req.body.size() > kMaxBody) throw HttpError{413, "a decision's body is at most 64 KiB"};
  const Principal p = Authenticate(req);
  Require(p, {"examiner", "admin"}, "record decisions");
  const std::int64_t id = IdOf(req.matches[1], "hit");
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::exception&) {
    throw HttpError{400, "the body is not JSON ({\"decision\", \"examiner\", \"note\"})"};
  }
  if (!body.is_object()) throw HttpError{400, "the body must be a JSON object"};
  const auto text = [&](const char* key, bool required) -> std::string {
    if (!body.contains(key)) {
      if (required) throw HttpError{400, std::string("\"") + key + "\" is missing"};
      return "";
    }
    if (!body[key].is_string()) throw HttpError{400, std::string("\"") + key + "\" must be a string"};
    return body[key].get<std::string>();
  };
  const std::string decision = text("decision", true), note = text("note", false);
  // With logins the examiner is the user (a body may not speak for another).
  const std::string examiner = p.open ? text("examiner", true) : p.name;
  const index::ReviewHit h = HitOr404(id, ViewOf(p));
  AuditShared(p, req, h);
  Json(res, DecisionJson(db_->RecordDecision(id, decision, examiner, note)), 201);
}

}  // namespace toolmark::serve::detail
