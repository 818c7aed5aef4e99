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

/// Runs toolmark and expects success (a test failure says why otherwise); returns stdout.
std::string CliOk(const std::vector<std::string>& args);
/// Runs toolmark and expects a refusal with a one-line error; returns stderr.
std::string CliRefused(const std::vector<std::string>& args);

/// Number of lines in text (a final line without newline counts).
int LineCount(const std::string& text);

}  // namespace toolmark::testing
