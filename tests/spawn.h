// Starting a program as a child process (tests and benchmarks run the
// toolmark binary the way a user does).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace toolmark::testing {

/// Starts `binary args…` with stdin from /dev/null and stdout / stderr on the
/// given descriptors (-1 keeps the parent's); returns the child's pid.
pid_t SpawnProcess(const std::string& binary, const std::vector<std::string>& args, int out_fd, int err_fd);

/// Waits for a child; returns its exit status, or 128 + the signal that ended it.
int WaitProcess(pid_t pid);

}  // namespace toolmark::testing
