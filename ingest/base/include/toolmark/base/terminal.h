// What long jobs show on a terminal, and keeping libraries' own chatter off
// it (the one-line error contract of ARCHITECTURE.md).
#pragma once

#include <cstddef>
#include <string>

namespace toolmark::base {

/// A one-line progress counter on stderr, shown only on a terminal.
class Progress {
 public:
  Progress(std::size_t total, std::string label);
  ~Progress();
  void Tick(const std::string& what);

 private:
  std::size_t total_, done_ = 0;
  std::string label_;
  bool shown_;
};

/// While alive, sends what libraries print on stderr (libpng, libjpeg, PCL)
/// to /dev/null, so that toolmark's own errors stay the one line the
/// contract promises. TOOLMARK_VERBOSE=1 keeps library output.
class QuietStderr {
 public:
  QuietStderr();
  ~QuietStderr();
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  int saved_ = -1;
};

}  // namespace toolmark::base
