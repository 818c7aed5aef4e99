// The review server (toolmark serve): an HTTP API (JSON) over the database
// and the review web UI (docs/review.md). Binds to loopback unless told
// otherwise; a pool of worker threads answers requests; every bad request
// gets a 4xx with a one-line JSON error, never a crash. Logins, roles,
// jurisdiction visibility and the audit of shared evidence: docs/exchange.md.
#pragma once

#include <atomic>
#include <functional>
#include <string>

namespace toolmark::serve {

struct ServeOptions {
  std::string db;
  std::string host = "127.0.0.1";
  int port = 8765;    ///< 0: any free port (the URL is printed)
  std::string ui;     ///< the UI folder (static/, node_modules/); "": installed or source tree's
  bool open = false;  ///< no logins (loopback only): one local user with every right
  /// For a program (or a test) that runs the server in a thread: called with
  /// the port once it is bound (connections queue from then on).
  std::function<void(int port)> on_listening;
  /// The server stops once this becomes true, as on SIGINT or SIGTERM.
  const std::atomic<bool>* stop = nullptr;
};

/// Serves until SIGINT or SIGTERM; prints "toolmark: serving http://HOST:PORT/"
/// on stdout once listening. Returns the exit status; throws toolmark::Error
/// for a database without users (and not --open), --open off loopback, or a
/// port that cannot be bound.
int Serve(const ServeOptions& options);

}  // namespace toolmark::serve
