// Crash safety: `toolmark ingest` is killed with SIGKILL at random instants;
// afterwards the database opens, passes verify, and holds every item whose
// ingest was acknowledged (an "accepted" line on stdout).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "run_cli.h"
#include "spawn.h"
#include "test_util.h"
#include "toolmark/index/database.h"
#include "toolmark/ingest/scan.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::testing {
namespace {

/// Starts `toolmark args…` with stdout to a pipe; returns pid and read end.
pid_t Spawn(const std::vector<std::string>& args, int* out_fd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  const pid_t pid = SpawnProcess(TOOLMARK_BINARY, args, fds[1], -1);
  close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

/// Reads what the child printed before it died.
std::string Drain(int fd) {
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return all;
}

std::set<std::string> Acknowledged(const std::string& out) {
  std::set<std::string> files;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("accepted ", 0) != 0) continue;  // a half-printed last line has no newline: ignored
    if (in.eof()) break;
    files.insert(line.substr(line.find(' ', 9) + 1));
  }
  return files;
}

/// Checks a database after a kill: it opens, verifies, holds every
/// acknowledged file with its exact surface. Returns the number stored.
std::size_t CheckAfterKill(const std::string& db, const std::string& in_dir,
                           const std::set<std::string>& acknowledged) {
  if (!std::filesystem::exists(std::filesystem::path(db) / "TOOLMARK_DATABASE")) {
    EXPECT_TRUE(acknowledged.empty()) << "items acknowledged but no database";
    return 0;  // killed before the database was created
  }
  auto database = index::Database::Open(db, false);
  const index::VerifyReport report = database->Verify(false);
  EXPECT_TRUE(report.ok()) << report.problems.front();
  std::set<std::string> stored;
  for (const auto& item : database->List()) {
    stored.insert(in_dir + "/" + item.file);
    EXPECT_TRUE(IdenticalSurfaces(database->LoadSurface(item.id),
                                  ingest::ReadScan(in_dir + "/" + item.file, {}).surface));
  }
  for (const auto& f : acknowledged) EXPECT_TRUE(stored.count(f)) << "lost acknowledged item " << f;
  return stored.size();
}

std::vector<std::string> IngestArgs(const std::string& db, const std::string& in_dir) {
  return {"ingest", "--db", db, "--case", "crash", "--kind", "cartridge_case", "--threads", "2", in_dir};
}

/// Runs an ingest and kills it after `delay`; returns the acknowledged files.
std::set<std::string> IngestAndKill(const std::string& db, const std::string& in_dir,
                                    std::chrono::microseconds delay) {
  int fd = -1;
  const pid_t pid = Spawn(IngestArgs(db, in_dir), &fd);
  std::this_thread::sleep_for(delay);
  kill(pid, SIGKILL);
  const std::string out = Drain(fd);
  WaitProcess(pid);
  return Acknowledged(out);
}

TEST(CrashSafety, SigkillDuringIngestLosesNoAcknowledgedItem) {
  TempDir dir;
  const int kFiles = 24;
  const std::string in_dir = dir / "in";
  std::filesystem::create_directories(in_dir);
  for (int i = 0; i < kFiles; ++i) {
    Surface s;
    s.values.create(500, 520, CV_64FC1);
    for (int p = 0; p < 500 * 520; ++p) s.values.ptr<double>(0)[p] = std::sin(0.001 * p * (i + 1));
    s.spacing_x_um = s.spacing_y_um = 2.5;
    char name[32];
    std::snprintf(name, sizeof name, "s%02d.x3p", i);
    ingest::WriteX3pFile(s, in_dir + "/" + name);
  }
  // How long an uninterrupted ingest takes: kills are spread over that time.
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(RunCli(IngestArgs(dir / "timing-db", in_dir)).status, 0);
  const auto full =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  std::mt19937 rng(7);
  // Fresh databases killed at instants spread over the whole run.
  const int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const auto delay = std::chrono::microseconds(static_cast<long long>(
        static_cast<double>(full.count()) * (round + static_cast<double>(rng() % 100) / 100.0) / kRounds));
    const std::string db = dir / ("db" + std::to_string(round));
    const std::set<std::string> acked = IngestAndKill(db, in_dir, delay);
    const std::size_t stored = CheckAfterKill(db, in_dir, acked);
    std::printf("fresh db, killed at %lld ms of %lld: %zu stored, %zu acknowledged\n",
                static_cast<long long>(delay.count() / 1000), static_cast<long long>(full.count() / 1000),
                stored, acked.size());
  }
  // One database killed repeatedly, then resumed to completion.
  const std::string db = dir / "resumed";
  std::set<std::string> acknowledged;
  for (int round = 0; round < 4; ++round) {
    for (const auto& f : IngestAndKill(db, in_dir, full / 3)) acknowledged.insert(f);
    CheckAfterKill(db, in_dir, acknowledged);
  }
  const CliResult last = RunCli(IngestArgs(db, in_dir));
  EXPECT_EQ(last.status, 0) << last.err;
  auto database = index::Database::Open(db, false);
  EXPECT_EQ(database->List().size(), static_cast<std::size_t>(kFiles));
  EXPECT_TRUE(database->Verify(true).ok());
  EXPECT_TRUE(database->Verify(false).leftovers.empty());
}

}  // namespace
}  // namespace toolmark::testing
