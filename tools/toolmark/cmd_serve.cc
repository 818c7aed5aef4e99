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
#include "hit_view.h"
#include "review_json.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/review.h"

#ifndef TOOLMARK_UI_DIR
#define TOOLMARK_UI_DIR ""
#endif

namespace toolmark::cli {
namespace {
namespace fs = std::filesystem;

constexpr std::size_t kViewCache = 32;       ///< hit views kept in memory
constexpr std::size_t kMaxBody = 64 * 1024;  ///< request bodies (decisions) at most this
constexpr int kThreads = 8;                  ///< worker threads

volatile std::sig_atomic_t g_stop_requested = false;  ///< set by SIGINT / SIGTERM

struct ServeArgs {
  std::string db, host = "127.0.0.1", ui;
  int port = 8765;
};

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
  explicit Server(const ServeArgs& args) : args_(args), db_(index::Database::Open(args.db, false)) {}

  int Run() {
    httplib::Server svr;
    svr.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    svr.set_payload_max_length(kMaxBody);
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

  index::ReviewHit HitOr404(std::int64_t id) {
    std::optional<index::ReviewHit> h = index::ReviewHitById(*db_, id);
    if (!h) throw HttpError{404, "hit " + std::to_string(id) + ": no such hit"};
    return *h;
  }

  std::shared_ptr<const HitView> View(std::int64_t id) {
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
    }
    const index::ReviewHit hit = HitOr404(id);
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

  void Routes(httplib::Server& svr) {
    svr.Get("/api/health", Guard([](const httplib::Request&, httplib::Response& res) {
              Json(res, {{"ok", true}, {"version", Version()}});
            }));
    svr.Get("/api/hits", Guard([this](const httplib::Request& req, httplib::Response& res) {
              const index::HitFilter f = FilterOf(req);
              const std::size_t limit = SizeParam(req, "limit", 500), offset = SizeParam(req, "offset", 0);
              const auto hits = index::ReviewHits(*db_, f);
              nlohmann::json list = nlohmann::json::array();
              for (std::size_t i = offset; i < hits.size() && i < offset + limit; ++i)
                list.push_back(HitSummaryJson(hits[i]));
              Json(res, {{"total", hits.size()}, {"hits", list}});
            }));
    svr.Get(R"(/api/hits/([^/]+))", Guard([this](const httplib::Request& req, httplib::Response& res) {
              const std::int64_t id = IdOf(req.matches[1], "hit");
              const index::ReviewHit h = HitOr404(id);
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
              // Neighbours in the pending queue (the reviewer's next and previous).
              index::HitFilter pending;
              const auto queue = index::ReviewHits(*db_, pending);
              j["previous"] = nullptr;
              j["next"] = nullptr;
              const auto better = [&](const index::ReviewHit& q) {
                return q.hit.score != h.hit.score ? q.hit.score > h.hit.score : q.hit.id < h.hit.id;
              };
              for (const auto& q : queue) {
                if (q.hit.id == id) continue;
                if (better(q))
                  j["previous"] = q.hit.id;
                else if (j["next"].is_null())
                  j["next"] = q.hit.id;
              }
              Json(res, j);
            }));
    svr.Get(R"(/api/hits/([^/]+)/explain)",
            Guard([this](const httplib::Request& req, httplib::Response& res) {
              Json(res, View(IdOf(req.matches[1], "hit"))->explain);
            }));
    svr.Get(R"(/api/hits/([^/]+)/plot\.png)",
            Guard([this](const httplib::Request& req, httplib::Response& res) {
              res.set_content(EncodePng(View(IdOf(req.matches[1], "hit"))->plot), "image/png");
            }));
    svr.Get(R"(/api/hits/([^/]+)/image/(query|candidate)\.png)",
            Guard([this](const httplib::Request& req, httplib::Response& res) {
              const std::string style = req.has_param("style") ? req.get_param_value("style") : "relief";
              if (style != "relief" && style != "colour")
                throw HttpError{400, "style '" + style.substr(0, 40) + "' must be relief or colour"};
              const auto view = View(IdOf(req.matches[1], "hit"));
              const bool query = req.matches[2] == "query";
              const cv::Mat& img =
                  query ? (style == "relief" ? view->query_relief : view->query_colour)
                        : (style == "relief" ? view->candidate_relief : view->candidate_colour);
              res.set_header("Cache-Control", "private, max-age=3600");
              res.set_content(EncodePng(img), "image/png");
            }));
    svr.Post(R"(/api/hits/([^/]+)/decisions)",
             Guard([this](const httplib::Request& req, httplib::Response& res) {
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
               const std::string decision = text("decision", true), examiner = text("examiner", true),
                                 note = text("note", false);
               HitOr404(id);
               Json(res, DecisionJson(db_->RecordDecision(id, decision, examiner, note)), 201);
             }));
    svr.Get(R"(/api/cases/(.+))", Guard([this](const httplib::Request& req, httplib::Response& res) {
              const std::string case_id = req.matches[1];
              const auto items = ItemsById(*db_);
              nlohmann::json list = nlohmann::json::array();
              std::set<index::ItemId> mine;
              for (const auto& [id, it] : items)
                if (it.case_id == case_id) {
                  list.push_back(ItemRefJson(it));
                  mine.insert(id);
                }
              if (mine.empty()) throw HttpError{404, "case '" + case_id.substr(0, 80) + "': no such case"};
              index::HitFilter f;
              f.status = "all";
              f.case_id = case_id;
              nlohmann::json hits = nlohmann::json::array();
              for (const auto& h : index::ReviewHits(*db_, f)) hits.push_back(HitSummaryJson(h));
              nlohmann::json clusters = nlohmann::json::array();
              for (const auto& c : index::LinkedClusters(*db_))
                for (index::ItemId id : c.items)
                  if (mine.count(id)) {
                    clusters.push_back(c.id);
                    break;
                  }
              Json(res, {{"case", case_id}, {"items", list}, {"hits", hits}, {"clusters", clusters}});
            }));
    svr.Get("/api/links", Guard([this](const httplib::Request&, httplib::Response& res) {
              Json(res, ClustersJson(index::LinkedClusters(*db_), ItemsById(*db_)));
            }));
  }

  ServeArgs args_;
  std::unique_ptr<index::Database> db_;
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
  cmd->add_option("--ui", args->ui,
                  "Folder of the review UI (static/, node_modules/); default: the source tree's ui/");
  cmd->callback([args, action] { *action = [args] { return Server(*args).Run(); }; });
}

}  // namespace toolmark::cli
