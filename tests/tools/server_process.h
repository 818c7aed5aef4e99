// A `toolmark serve` child process on a free loopback port, for tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace toolmark::testing {

class ServerProcess {
 public:
  /// Starts `toolmark serve --port 0 <args…>` and waits for its "serving" line.
  explicit ServerProcess(const std::vector<std::string>& args);
  ~ServerProcess();  ///< SIGTERM, then waits
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  /// Its loopback URL (https:// when it serves HTTPS).
  std::string url() const {
    return (https_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
  }
  /// What it printed instead of the serving line, when it did not start.
  const std::string& first_line() const { return line_; }
  /// Stops it with SIGTERM; returns its exit status.
  int Stop();
  /// Kills it with SIGKILL; returns its exit status (128 + 9).
  int Kill();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool https_ = false;
  std::string line_;
};

}  // namespace toolmark::testing
