// Runs the toolmark binary as a child process, capturing its output.
#pragma once

#include <string>
#include <vector>

namespace toolmark::testing {

struct CliResult {
  int status = -1;  ///< exit status, or 128 + signal
  std::string out, err;
};

/// Runs TOOLMARK_BINARY with args (no shell), waits, and returns its output.
CliResult RunCli(const std::vector<std::string>& args);

/// Number of lines in text (a final line without newline counts).
int LineCount(const std::string& text);

}  // namespace toolmark::testing
