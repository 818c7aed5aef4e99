// toolmark serve: the review server — an HTTP API (JSON) over the database
// and the review web UI (docs/review.md). Binds to loopback unless told
// otherwise; a pool of worker threads answers requests; every bad request
// gets a 4xx with a one-line JSON error, never a crash.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "cli_common.h"
#include "exchange.h"
#include "hit_view.h"
#include "review_json.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/review.h"
#include "toolmark/index/search.h"

#ifndef TOOLMARK_UI_DIR
#define TOOLMARK_UI_DIR ""
#endif

namespace toolmark::cli {
namespace {
namespace fs = std::filesystem;

constexpr std::size_t kViewCache = 32;            ///< hit views kept in memory
constexpr std::size_t kMaxBody = 64 * 1024;       ///< request bodies (decisions) at most this
constexpr std::size_t kMaxPartnerBody = 8 << 20;  ///< a partner's query (an embedding and quick features)
constexpr int kThreads = 8;                       ///< worker threads

volatile std::sig_atomic_t g_stop_requested = false;  ///< set by SIGINT / SIGTERM

struct ServeArgs {
  std::string db, host = "127.0.0.1", ui;
  int port = 8765;
  bool open = false;  ///< no logins (loopback only): one local user with every right
};

/// Who asks: a user (by token), or the local user of an --open server.
struct Principal {
  std::string name, jurisdiction, role;
  bool open = false;  ///< --open: sees and may do everything
};

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost";
}

/// A 4xx/5xx answer with its message.
struct HttpError {
  int status;
  std::string message;
};

void Json(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

void ErrorJson(httplib::Response& res, int status, const std::string& message) {
  Json(res, {{"error", OneLine(message)}}, status);
}

std::int64_t IdOf(const std::string& text, const char* what) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    throw HttpError{400, std::string(what) + " '" + text.substr(0, 40) + "' is not a number"};
  return std::stoll(text);
}

class Server {
 public:
  explicit Server(const ServeArgs& args) : args_(args), db_(index::Database::Open(args.db, false)) {
    home_ = db_->Setting("jurisdiction");
    if (args_.open) {
      Check(IsLoopback(args_.host),
            "serve: --open (no logins) is for loopback only; not with --host " + args_.host);
    } else {
      bool any = false;
      for (const index::UserRecord& u : db_->Users()) any |= !u.revoked_at;
      Check(any, "serve: no users (toolmark users add --db " + args_.db +
                     " NAME --role examiner), or --open for a loopback workstation without logins");
    }
  }

  int Run() {
    httplib::Server svr;
    svr.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    svr.set_payload_max_length(kMaxPartnerBody);  // decisions and sessions: kMaxBody, checked below
    svr.set_read_timeout(10, 0);
    svr.set_write_timeout(10, 0);
    svr.set_keep_alive_max_count(1000);
    svr.set_tcp_nodelay(true);  // no 40 ms delayed-ACK stalls on keep-alive connections
    Routes(svr);
    const std::string ui = UiDir();
    if (!ui.empty()) {
      svr.set_mount_point("/", ui + "/static");
      if (fs::exists(ui + "/node_modules")) svr.set_mount_point("/vendor", ui + "/node_modules");
    }
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        ErrorJson(res, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        ErrorJson(res, 500, "internal error");
      }
    });
    svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      ErrorJson(res, res.status,
                res.status == 404 ? "no such resource: " + req.path
                                  : "request failed (HTTP " + std::to_string(res.status) + ")");
    });
    int port = args_.port;
    if (port == 0) {
      port = svr.bind_to_any_port(args_.host);
      Check(port > 0, "serve: cannot bind to " + args_.host);
    } else {
      Check(svr.bind_to_port(args_.host, port),
            "serve: cannot bind to " + args_.host + ":" + std::to_string(port) + " (in use?)");
    }
    // SIGINT / SIGTERM stop the server cleanly: the handler sets a flag (any
    // thread may receive the signal), a watcher thread stops the server.
    g_stop_requested = false;
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop_requested = true; };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a client that goes away is not our death
    std::atomic<bool> finished{false};
    std::thread stopper([&] {
      while (!finished) {
        if (g_stop_requested) {
          svr.stop();
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    const std::string host = args_.host.find(':') != std::string::npos ? "[" + args_.host + "]" : args_.host;
    std::printf("toolmark: serving http://%s:%d/\n", host.c_str(), port);
    std::fflush(stdout);
    if (ui.empty())
      std::fprintf(stderr, "toolmark: no review UI folder found (--ui); serving the API only\n");
    svr.listen_after_bind();
    finished = true;
    stopper.join();
    return 0;
  }

 private:
  std::string UiDir() const {
    // --ui, else an installed copy beside the binary (cmake --install:
    // <prefix>/share/toolmark/ui), else the source tree's ui/.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    const std::string installed = ec ? "" : (exe.parent_path().parent_path() / "share/toolmark/ui").string();
    for (const std::string& d : {args_.ui, installed, std::string(TOOLMARK_UI_DIR)}) {
      if (!d.empty() && fs::exists(fs::path(d) / "static" / "index.html")) return d;
    }
    Check(args_.ui.empty(), "serve: --ui " + args_.ui + ": no static/index.html there");
    return "";
  }

  /// Wraps a handler: HttpError and toolmark::Error become JSON errors.
  template <typename F>
  static httplib::Server::Handler Guard(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const HttpError& e) {
        ErrorJson(res, e.status, e.message);
      } catch (const Error& e) {
        ErrorJson(res, 400, e.what());
      }
    };
  }

  /// The requester: a bearer token (Authorization header or the session
  /// cookie) of a user who is not revoked; 401 otherwise.
  Principal Authenticate(const httplib::Request& req) const {
    if (args_.open) return {"local", home_, "admin", true};
    std::string token;
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) token = auth.substr(7);
    if (token.empty()) {
      const std::string cookies = req.get_header_value("Cookie");
      const std::string key = "toolmark_session=";
      for (std::size_t at = cookies.find(key); at != std::string::npos; at = cookies.find(key, at + 1)) {
        if (at != 0 && cookies[at - 1] != ' ' && cookies[at - 1] != ';') continue;
        const std::size_t end = cookies.find(';', at);
        token = cookies.substr(at + key.size(),
                               end == std::string::npos ? std::string::npos : end - at - key.size());
        break;
      }
    }
    if (token.empty()) throw HttpError{401, "no token: log in (Authorization: Bearer TOKEN)"};
    if (token.size() > 200) throw HttpError{401, "invalid or revoked token"};
    const std::optional<index::UserRecord> u = db_->UserByTokenHash(TokenSha256(token));
    if (!u) throw HttpError{401, "invalid or revoked token"};
    return {u->name, u->jurisdiction, u->role, false};
  }

  static void Require(const Principal& p, std::initializer_list<const char*> roles, const char* what) {
    if (p.open) return;
    for (const char* r : roles)
      if (p.role == r) return;
    throw HttpError{403, "a " + p.role + " may not " + what};
  }

  /// Items the requester may see: its jurisdiction's, and those shared with it.
  struct View {
    const Principal& p;
    std::map<index::ItemId, std::vector<std::string>> shares;
    bool Visible(const index::ItemRecord& it) const {
      if (p.open || it.jurisdiction == p.jurisdiction) return true;
      const auto s = shares.find(it.id);
      return s != shares.end() &&
             std::find(s->second.begin(), s->second.end(), p.jurisdiction) != s->second.end();
    }
    bool Visible(const index::ReviewHit& h) const { return Visible(h.query) && Visible(h.candidate); }
  };
  View ViewOf(const Principal& p) const {
    return {p, p.open ? std::map<index::ItemId, std::vector<std::string>>{} : db_->Shares()};
  }

  /// Audits an access to evidence of another jurisdiction (shared with the requester).
  void AuditShared(const Principal& p, const httplib::Request& req, const std::set<index::ItemId>& items,
                   const std::map<index::ItemId, index::ItemRecord>& records) {
    if (p.open) return;
    std::string ids;
    for (index::ItemId id : items) {
      const auto it = records.find(id);
      if (it != records.end() && it->second.jurisdiction != p.jurisdiction)
        ids += (ids.empty() ? "" : ",") + std::to_string(id) + "(" + it->second.jurisdiction + ")";
    }
    if (!ids.empty())
      db_->Audit("access", std::nullopt,
                 p.name + " (" + p.role + ", " + p.jurisdiction + ") " + req.method + " " + req.path +
                     ": items " + ids);
  }
  void AuditShared(const Principal& p, const httplib::Request& req, const index::ReviewHit& h) {
    AuditShared(p, req, {h.query.id, h.candidate.id}, {{h.query.id, h.query}, {h.candidate.id, h.candidate}});
  }

  index::ReviewHit HitOr404(std::int64_t id, const View& view) {
    std::optional<index::ReviewHit> h = index::ReviewHitById(*db_, id);
    // A hit the requester may not see is answered as one that does not exist.
    if (!h || !view.Visible(*h)) throw HttpError{404, "hit " + std::to_string(id) + ": no such hit"};
    return *h;
  }

  std::shared_ptr<const HitView> HitViewOf(const index::ReviewHit& hit) {
    const std::int64_t id = hit.hit.id;
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
    }
    std::shared_ptr<const HitView> view = BuildHitView(*db_, hit);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.emplace(id, view).second) {
      order_.push_back(id);
      if (order_.size() > kViewCache) {
        cache_.erase(order_.front());
        order_.pop_front();
      }
    }
    return view;
  }

  static index::HitFilter FilterOf(const httplib::Request& req) {
    index::HitFilter f;
    if (req.has_param("status")) f.status = req.get_param_value("status");
    if (req.has_param("case")) f.case_id = req.get_param_value("case");
    if (req.has_param("jurisdiction")) f.jurisdiction = req.get_param_value("jurisdiction");
    if (req.has_param("kind")) f.kind = req.get_param_value("kind");
    if (req.has_param("min_score") && !req.get_param_value("min_score").empty()) {
      const std::string v = req.get_param_value("min_score");
      try {
        std::size_t used = 0;
        f.min_score = std::stod(v, &used);
        if (used != v.size() || !std::isfinite(*f.min_score)) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw HttpError{400, "min_score '" + v.substr(0, 40) + "' is not a number"};
      }
    }
    try {
      index::CheckFilter(f);
    } catch (const Error& e) {
      throw HttpError{400, e.what()};
    }
    return f;
  }

  static std::size_t SizeParam(const httplib::Request& req, const char* name, std::size_t fallback) {
    if (!req.has_param(name)) return fallback;
    return static_cast<std::size_t>(IdOf(req.get_param_value(name), name));
  }

  static constexpr std::initializer_list<const char*> kReaders = {"examiner", "investigator", "admin"};

  void Routes(httplib::Server& svr) {
    svr.Get("/api/health", Guard([](const httplib::Request&, httplib::Response& res) {
              Json(res, {{"ok", true}, {"version", Version()}});
            }));
    // Sessions for the browser (images cannot send headers): the token in an
    // HttpOnly, SameSite=Strict cookie.
    svr.Post("/api/session", Guard([this](const httplib::Request& req, httplib::Response& res) {
               if (req.body.size() > kMaxBody) throw HttpError{413, "too large"};
               std::string token;
               try {
                 token = nlohmann::json::parse(req.body).at("token").get<std::string>();
               } catch (const nlohmann::json::exception&) {
                 throw HttpError{400, "the body must be {\"token\": \"…\"}"};
               }
               httplib::Request probe;
               probe.headers.emplace("Authorization", "Bearer " + token);
               const Principal p = Authenticate(probe);
               res.set_header("Set-Cookie",
                              "toolmark_session=" + token + "; HttpOnly; SameSite=Strict; Path=/");
               Json(res, {{"name", p.name}, {"role", p.role}, {"jurisdiction", p.jurisdiction}});
             }));
    svr.Delete("/api/session", Guard([](const httplib::Request&, httplib::Response& res) {
                 res.set_header("Set-Cookie",
                                "toolmark_session=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/");
                 Json(res, {{"ok", true}});
               }));
    svr.Get(
        "/api/me", Guard([this](const httplib::Request& req, httplib::Response& res) {
          const Principal p = Authenticate(req);
          Json(res, {{"name", p.name}, {"role", p.role}, {"jurisdiction", p.jurisdiction}, {"open", p.open}});
        }));
    svr.Get("/api/hits", Guard([this](const httplib::Request& req, httplib::Response& res) {
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
            }));
    svr.Get(R"(/api/hits/([^/]+))", Guard([this](const httplib::Request& req, httplib::Response& res) {
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
              const auto better = [&](const index::ReviewHit& q) {
                return q.hit.score != h.hit.score ? q.hit.score > h.hit.score : q.hit.id < h.hit.id;
              };
              for (const auto& q : index::ReviewHits(*db_, pending)) {
                if (q.hit.id == id || !view.Visible(q)) continue;
                if (better(q))
                  j["previous"] = q.hit.id;
                else if (j["next"].is_null())
                  j["next"] = q.hit.id;
              }
              Json(res, j);
            }));
    svr.Get(R"(/api/hits/([^/]+)/explain)",
            Guard([this](const httplib::Request& req, httplib::Response& res) {
              Json(res, HitViewFor(req)->explain);
            }));
    svr.Get(R"(/api/hits/([^/]+)/plot\.png)",
            Guard([this](const httplib::Request& req, httplib::Response& res) {
              res.set_content(EncodePng(HitViewFor(req)->plot), "image/png");
            }));
    svr.Get(R"(/api/hits/([^/]+)/image/(query|candidate)\.png)",
            Guard([this](const httplib::Request& req, httplib::Response& res) {
              const std::string style = req.has_param("style") ? req.get_param_value("style") : "relief";
              if (style != "relief" && style != "colour")
                throw HttpError{400, "style '" + style.substr(0, 40) + "' must be relief or colour"};
              const auto view = HitViewFor(req);
              const bool query = req.matches[2] == "query";
              const cv::Mat& img =
                  query ? (style == "relief" ? view->query_relief : view->query_colour)
                        : (style == "relief" ? view->candidate_relief : view->candidate_colour);
              res.set_header("Cache-Control", "private, max-age=3600");
              res.set_content(EncodePng(img), "image/png");
            }));
    svr.Post(R"(/api/hits/([^/]+)/decisions)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
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
                 if (!body[key].is_string())
                   throw HttpError{400, std::string("\"") + key + "\" must be a string"};
                 return body[key].get<std::string>();
               };
               const std::string decision = text("decision", true), note = text("note", false);
               // With logins the examiner is the user (a body may not speak for another).
               const std::string examiner = p.open ? text("examiner", true) : p.name;
               const index::ReviewHit h = HitOr404(id, ViewOf(p));
               AuditShared(p, req, h);
               Json(res, DecisionJson(db_->RecordDecision(id, decision, examiner, note)), 201);
             }));
    svr.Get(R"(/api/cases/(.+))", Guard([this](const httplib::Request& req, httplib::Response& res) {
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
            }));
    svr.Get("/api/links", Guard([this](const httplib::Request& req, httplib::Response& res) {
              const Principal p = Authenticate(req);
              Require(p, kReaders, "read links");
              const View view = ViewOf(p);
              const auto items = ItemsById(*db_);
              const auto clusters = Clusters(view, items);
              std::set<index::ItemId> seen;
              for (const auto& c : clusters) seen.insert(c.items.begin(), c.items.end());
              AuditShared(p, req, seen, items);
              Json(res, ClustersJson(clusters, items));
            }));
    // A trusted partner's federated search: numbers only (an embedding and
    // quick features), signed with the partner's key; answered with
    // references and quick scores over this jurisdiction's own evidence.
    svr.Post("/api/federated/search", Guard([this](const httplib::Request& req, httplib::Response& res) {
               if (home_.empty())
                 throw HttpError{404, "this server takes no partner requests (no jurisdiction)"};
               nlohmann::json body;
               try {
                 body = VerifyRequest(*db_, req.body, req.get_header_value("X-Toolmark-Jurisdiction"),
                                      req.get_header_value("X-Toolmark-Signature"));
               } catch (const Error& e) {
                 throw HttpError{403, e.what()};
               }
               const std::string partner = body["from"];
               std::string kind;
               std::vector<float> embedding, quick;
               std::size_t top = 10;
               try {
                 kind = body.at("kind").get<std::string>();
                 embedding = body.at("embedding").get<std::vector<float>>();
                 quick = body.at("quick_features").get<std::vector<float>>();
                 top = std::clamp<std::size_t>(body.value("top", std::size_t{10}), 1, 100);
               } catch (const nlohmann::json::exception&) {
                 throw HttpError{400, "partner request: needs kind, embedding, quick_features"};
               }
               if (kind != "cartridge_case")
                 throw HttpError{400, "partner request: only cartridge cases so far"};
               for (float v : embedding)
                 if (!std::isfinite(v)) throw HttpError{400, "partner request: non-finite embedding"};
               index::SearchOptions o;
               o.top = top;
               o.jurisdictions = {home_};  // our own evidence only; never a third party's
               std::vector<index::SearchHit> hits;
               {
                 std::lock_guard<std::mutex> lock(search_mutex_);
                 index::SearchEngine engine(*db_, kind, o);
                 std::vector<std::string> warnings;
                 engine.Update(&warnings);
                 index::SearchQuery q;
                 q.kind = kind;
                 q.surface_kind = body.value("surface", "height") == "intensity" ? SurfaceKind::kIntensity
                                                                                 : SurfaceKind::kHeight;
                 try {
                   hits = engine.SearchFeatures(embedding, quick, q);
                 } catch (const Error& e) {
                   throw HttpError{400, std::string("partner request: ") + e.what()};
                 }
               }
               nlohmann::json out = nlohmann::json::array();
               std::string ids;
               for (const index::SearchHit& h : hits) {
                 out.push_back({{"item", h.item},
                                {"rank", h.rank},
                                {"score", h.score},
                                {"score_kind", "quick"},
                                {"similarity", h.similarity},
                                {"case", h.case_id},
                                {"label", h.item_label},
                                {"jurisdiction", h.jurisdiction}});
                 ids += (ids.empty() ? "" : ",") + std::to_string(h.item);
               }
               db_->Audit("federated-search", std::nullopt,
                          "from " + partner + ": " + std::to_string(hits.size()) + " candidates " + ids);
               Json(res, {{"jurisdiction", home_}, {"hits", out}});
             }));
  }

  std::vector<index::Cluster> Clusters(const View& view,
                                       const std::map<index::ItemId, index::ItemRecord>& items) {
    return index::LinkedClusters(*db_, [&](index::ItemId id) {
      const auto it = items.find(id);
      return it != items.end() && view.Visible(it->second);
    });
  }

  /// The hit view of the hit named in the path, for a reader allowed to see it.
  std::shared_ptr<const HitView> HitViewFor(const httplib::Request& req) {
    const Principal p = Authenticate(req);
    Require(p, kReaders, "read hits");
    const index::ReviewHit h = HitOr404(IdOf(req.matches[1], "hit"), ViewOf(p));
    AuditShared(p, req, h);
    return HitViewOf(h);
  }

  ServeArgs args_;
  std::unique_ptr<index::Database> db_;
  std::string home_;         ///< the database's jurisdiction ("" when none is set)
  std::mutex search_mutex_;  ///< one federated search at a time
  std::mutex cache_mutex_;
  std::map<std::int64_t, std::shared_ptr<const HitView>> cache_;
  std::deque<std::int64_t> order_;
};

}  // namespace

int RunServer(const std::string& db, const std::string& host, int port) {
  ServeArgs args;
  args.db = db;
  args.host = host;
  args.port = port;
  args.open = true;  // the demo: a loopback workstation
  return Server(args).Run();
}

void RegisterServe(CLI::App& app, Action* action) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd =
      app.add_subcommand("serve", "The review server: HTTP API (JSON) and web UI over the database");
  AddDbFlag(cmd, &args->db);
  cmd->add_option("--host", args->host, "Address to listen on (default 127.0.0.1: loopback only)");
  cmd->add_option("--port", args->port, "TCP port (0: any free port; the URL is printed)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag(
      "--open", args->open,
      "No logins (loopback only): every request acts as a local admin; without it every API request "
      "needs a user's token (toolmark users add)");
  cmd->add_option("--ui", args->ui,
                  "Folder of the review UI (static/, node_modules/); default: the source tree's ui/");
  cmd->callback([args, action] { *action = [args] { return Server(*args).Run(); }; });
}

}  // namespace toolmark::cli
