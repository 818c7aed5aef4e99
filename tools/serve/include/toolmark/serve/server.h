// The review server (toolmark serve): an HTTP(S) API (JSON) over the database
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
  /// HTTPS: the server's certificate (PEM; its chain may follow) and private
  /// key files. Both or neither; without them the server speaks plain HTTP.
  std::string tls_cert, tls_key;
  /// Plain HTTP on an address beyond loopback (for a TLS terminator in
  /// front); refused without it. Partner searches still need HTTPS then,
  /// unless they come from loopback.
  bool plain_http = false;
  /// For a program (or a test) that runs the server in a thread: called with
  /// the port once it is bound (connections queue from then on).
  std::function<void(int port)> on_listening;
  /// The server stops once this becomes true, as on SIGINT or SIGTERM.
  const std::atomic<bool>* stop = nullptr;
};

/// Serves until SIGINT or SIGTERM; prints "toolmark: serving
/// http(s)://HOST:PORT/" on stdout once listening. Returns the exit status;
/// throws toolmark::Error for a database without users (and not --open),
/// --open off loopback, plain HTTP off loopback without plain_http, bad TLS
/// files, or a port that cannot be bound.
int Serve(const ServeOptions& options);

}  // namespace toolmark::serve
