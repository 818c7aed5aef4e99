// The review server: start, stop, logins, visibility, audit.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "server_internal.h"
#include "toolmark/exchange/keys.h"
#include "toolmark/exchange/tls.h"

#ifndef TOOLMARK_UI_DIR
#define TOOLMARK_UI_DIR ""
#endif

namespace toolmark::serve {
namespace detail {
namespace fs = std::filesystem;
namespace {

volatile std::sig_atomic_t g_stop_requested = false;  ///< set by SIGINT / SIGTERM

}  // namespace

void Json(httplib::Response& res, const nlohmann::json& j, int status) {
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

Server::Server(const ServeOptions& options)
    : options_(options), db_(index::Database::Open(options.db, false)) {
  home_ = db_->Setting("jurisdiction");
  Check(options_.tls_cert.empty() == options_.tls_key.empty(),
        "serve: give both --tls-cert and --tls-key (or neither, for plain HTTP)");
  tls_ = !options_.tls_cert.empty();
  if (tls_) exchange::CheckServerTlsFiles(options_.tls_cert, options_.tls_key);
  Check(tls_ || options_.plain_http || exchange::IsLoopbackHost(options_.host),
        "serve: --host " + options_.host +
            " is beyond loopback: serve HTTPS (--tls-cert, --tls-key), or --plain-http behind a TLS "
            "terminator");
  if (options_.open) {
    Check(exchange::IsLoopbackHost(options_.host),
          "serve: --open (no logins) is for loopback only; not with --host " + options_.host);
  } else {
    bool any = false;
    for (const index::UserRecord& u : db_->Users()) any |= !u.revoked_at;
    Check(any, "serve: no users (toolmark users add --db " + options_.db +
                   " NAME --role examiner), or --open for a loopback workstation without logins");
  }
}

int Server::Run() {
  std::unique_ptr<httplib::Server> server;
  if (tls_) {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    Check(ssl->is_valid(), "serve: cannot set up TLS with --tls-cert " + options_.tls_cert);
    SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
    server = std::move(ssl);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *server;
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
  int port = options_.port;
  if (port == 0) {
    port = svr.bind_to_any_port(options_.host);
    Check(port > 0, "serve: cannot bind to " + options_.host);
  } else {
    Check(svr.bind_to_port(options_.host, port),
          "serve: cannot bind to " + options_.host + ":" + std::to_string(port) + " (in use?)");
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
      if (g_stop_requested || (options_.stop != nullptr && options_.stop->load())) {
        svr.stop();
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const std::string host =
      options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
  std::printf("toolmark: serving %s://%s:%d/\n", tls_ ? "https" : "http", host.c_str(), port);
  std::fflush(stdout);
  if (ui.empty()) std::fprintf(stderr, "toolmark: no review UI folder found (--ui); serving the API only\n");
  if (options_.on_listening) options_.on_listening(port);
  svr.listen_after_bind();
  finished = true;
  stopper.join();
  return 0;
}

std::string Server::UiDir() const {
  // --ui, else an installed copy beside the binary (cmake --install:
  // <prefix>/share/toolmark/ui), else the source tree's tools/serve/ui/.
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const std::string installed = ec ? "" : (exe.parent_path().parent_path() / "share/toolmark/ui").string();
  for (const std::string& d : {options_.ui, installed, std::string(TOOLMARK_UI_DIR)}) {
    if (!d.empty() && fs::exists(fs::path(d) / "static" / "index.html")) return d;
  }
  Check(options_.ui.empty(), "serve: --ui " + options_.ui + ": no static/index.html there");
  return "";
}

httplib::Server::Handler Server::Route(Handler handler) {
  return [this, handler](const httplib::Request& req, httplib::Response& res) {
    try {
      (this->*handler)(req, res);
    } catch (const HttpError& e) {
      ErrorJson(res, e.status, e.message);
    } catch (const Error& e) {
      ErrorJson(res, 400, e.what());
    }
  };
}

Principal Server::Authenticate(const httplib::Request& req) const {
  if (options_.open) return {"local", home_, "admin", true};
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
  const std::optional<index::UserRecord> u = db_->UserByTokenHash(exchange::TokenSha256(token));
  if (!u) throw HttpError{401, "invalid or revoked token"};
  return {u->name, u->jurisdiction, u->role, false};
}

void Server::Require(const Principal& p, std::initializer_list<const char*> roles, const char* what) {
  if (p.open) return;
  for (const char* r : roles)
    if (p.role == r) return;
  throw HttpError{403, "a " + p.role + " may not " + what};
}

Server::View Server::ViewOf(const Principal& p) const {
  return {p, p.open ? std::map<index::ItemId, std::vector<std::string>>{} : db_->Shares()};
}

void Server::AuditShared(const Principal& p, const httplib::Request& req,
                         const std::set<index::ItemId>& items,
                         const std::map<index::ItemId, index::ItemRecord>& records) {
  if (p.open) return;
  std::string ids;
  for (index::ItemId id : items) {
    const auto it = records.find(id);
    if (it == records.end() || it->second.jurisdiction == p.jurisdiction) continue;
    if (!ids.empty()) ids += ',';
    ids += std::to_string(id) + "(" + it->second.jurisdiction + ")";
  }
  if (!ids.empty())
    db_->Audit("access", std::nullopt,
               p.name + " (" + p.role + ", " + p.jurisdiction + ") " + req.method + " " + req.path +
                   ": items " + ids);
}
void Server::AuditShared(const Principal& p, const httplib::Request& req, const index::ReviewHit& h) {
  AuditShared(p, req, {h.query.id, h.candidate.id}, {{h.query.id, h.query}, {h.candidate.id, h.candidate}});
}

index::ReviewHit Server::HitOr404(std::int64_t id, const View& view) {
  std::optional<index::ReviewHit> h = index::ReviewHitById(*db_, id);
  // A hit the requester may not see is answered as one that does not exist.
  if (!h || !view.Visible(*h)) throw HttpError{404, "hit " + std::to_string(id) + ": no such hit"};
  return *h;
}

std::shared_ptr<const review::HitView> Server::HitViewOf(const index::ReviewHit& hit) {
  const std::int64_t id = hit.hit.id;
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
  }
  std::shared_ptr<const review::HitView> view = review::BuildHitView(*db_, hit);
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

std::shared_ptr<const review::HitView> Server::HitViewFor(const httplib::Request& req) {
  const Principal p = Authenticate(req);
  Require(p, kReaders, "read hits");
  const index::ReviewHit h = HitOr404(IdOf(req.matches[1], "hit"), ViewOf(p));
  AuditShared(p, req, h);
  return HitViewOf(h);
}

std::vector<index::Cluster> Server::Clusters(const View& view,
                                             const std::map<index::ItemId, index::ItemRecord>& items) {
  return index::LinkedClusters(*db_, [&](index::ItemId id) {
    const auto it = items.find(id);
    return it != items.end() && view.Visible(it->second);
  });
}

index::HitFilter Server::FilterOf(const httplib::Request& req) {
  index::HitFilter f;
  if (req.has_param("status")) f.status = req.get_param_value("status");
  if (req.has_param("case")) f.case_id = req.get_param_value("case");
  if (req.has_param("jurisdiction")) f.jurisdiction = req.get_param_value("jurisdiction");
  if (req.has_param("kind") && !req.get_param_value("kind").empty()) {
    const std::string v = req.get_param_value("kind");
    f.kind = ParseKind(v);
    if (!f.kind) throw HttpError{400, "kind '" + v + "' must be cartridge_case or bullet"};
  }
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

std::size_t Server::SizeParam(const httplib::Request& req, const char* name, std::size_t fallback) {
  if (!req.has_param(name)) return fallback;
  return static_cast<std::size_t>(IdOf(req.get_param_value(name), name));
}

}  // namespace detail

int Serve(const ServeOptions& options) { return detail::Server(options).Run(); }

}  // namespace toolmark::serve
