#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <stdexcept>

#include "spawn.h"

namespace toolmark::testing {

ServerProcess::ServerProcess(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> all = {"serve", "--port", "0"};
  all.insert(all.end(), args.begin(), args.end());
  pid_ = SpawnProcess(TOOLMARK_BINARY, all, fds[1], -1);
  close(fds[1]);
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') line_ += c;
  close(fds[0]);
  // "toolmark: serving http(s)://HOST:PORT/"
  const std::string prefix = "toolmark: serving ";
  const std::size_t colon = line_.rfind(':');
  if (line_.rfind(prefix, 0) == 0 && colon != std::string::npos && colon > prefix.size()) {
    port_ = std::stoi(line_.substr(colon + 1));
    https_ = line_.rfind(prefix + "https://", 0) == 0;
  } else {
    WaitProcess(pid_);  // it exited (e.g. refused to start)
    pid_ = -1;
  }
}

ServerProcess::~ServerProcess() { Stop(); }

int ServerProcess::Stop() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  const int status = WaitProcess(pid_);
  pid_ = -1;
  return status;
}

int ServerProcess::Kill() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGKILL);
  const int status = WaitProcess(pid_);
  pid_ = -1;
  return status;
}

}  // namespace toolmark::testing
