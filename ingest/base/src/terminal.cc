#include "toolmark/base/terminal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace toolmark::base {

Progress::Progress(std::size_t total, std::string label)
    : total_(total), label_(std::move(label)), shown_(::isatty(STDERR_FILENO) == 1 && total > 1) {}

Progress::~Progress() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
}

void Progress::Tick(const std::string& what) {
  ++done_;
  if (!shown_) return;
  std::fprintf(stderr, "\r\033[K%s [%zu/%zu] %s", label_.c_str(), done_, total_, what.c_str());
  std::fflush(stderr);
}

QuietStderr::QuietStderr() {
  const char* verbose = std::getenv("TOOLMARK_VERBOSE");
  if (verbose && *verbose && std::string(verbose) != "0") return;
  std::fflush(stderr);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd < 0) return;
  saved_ = ::dup(STDERR_FILENO);
  if (saved_ >= 0) ::dup2(null_fd, STDERR_FILENO);
  ::close(null_fd);
}

QuietStderr::~QuietStderr() {
  if (saved_ < 0) return;
  std::fflush(stderr);
  ::dup2(saved_, STDERR_FILENO);
  ::close(saved_);
}

}  // namespace toolmark::base
