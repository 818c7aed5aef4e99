#include "run_cli.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "spawn.h"
#include "test_util.h"

namespace toolmark::testing {

CliResult RunCli(const std::vector<std::string>& args) {
  TempDir io;
  const std::string out_path = io / "out", err_path = io / "err";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = SpawnProcess(TOOLMARK_BINARY, args, out, err);
  ::close(out);
  ::close(err);
  CliResult r;
  r.status = WaitProcess(pid);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

std::string CliOk(const std::vector<std::string>& args) {
  const CliResult r = RunCli(args);
  EXPECT_EQ(r.status, 0) << (args.empty() ? "" : args[0]) << ": " << r.err;
  return r.out;
}

std::string CliRefused(const std::vector<std::string>& args) {
  const CliResult r = RunCli(args);
  EXPECT_NE(r.status, 0) << (args.empty() ? "" : args[0]) << " was not refused: " << r.out;
  EXPECT_EQ(LineCount(r.err), 1) << r.err;
  return r.err;
}

int LineCount(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

}  // namespace toolmark::testing
