// Batch work in shards (docs/cluster.md): the features and hit lists that
// a 4-task Slurm job leaves (scripts/slurm-correlate.sh on a single-node
// cluster, tests/slurm/with-slurm.sh) are those of one process, value for
// value; shard tasks killed with SIGKILL mid-way and then the whole job run
// again give the same final state. Without a cluster (SLURM_CONF unset) the
// Slurm part skips and the shard commands are run by hand.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "run_cli.h"
#include "spawn.h"
#include "test_util.h"
#include "toolmark/engine/version.h"
#include "toolmark/index/database.h"

namespace toolmark::testing {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

/// What batch work leaves, without ids and times: every feature record (its
/// values) and every hit (its numbers), in a fixed order.
std::string Results(const std::string& db) {
  auto d = index::Database::Open(db, false);
  json out = json::array();
  for (const std::string& version : {std::string("cmc-") + Version(), std::string("cmc-quick-") + Version(),
                                     std::string("cmc-screen-") + Version()})
    for (const index::FeatureRecord& f : d->Features("cmc", version))
      out.push_back({f.item, MarkName(f.mark), f.version, f.vector});
  std::vector<json> hits;
  for (const index::HitRecord& h : d->Hits())
    hits.push_back({h.query, h.candidate, h.rank, h.score, h.similarity, h.rotation_deg, h.shift_x_um,
                    h.shift_y_um, h.version});
  std::sort(hits.begin(), hits.end());
  out.push_back(hits);
  out.push_back(d->CorrelatedItems("cmc", std::string("cmc-") + Version()));
  return out.dump();
}

/// Starts `toolmark args…` and kills it with SIGKILL after `after`.
void KilledAfter(const std::vector<std::string>& args, std::chrono::milliseconds after) {
  const pid_t pid = SpawnProcess(TOOLMARK_BINARY, args, -1, -1);
  std::this_thread::sleep_for(after);
  kill(pid, SIGKILL);
  WaitProcess(pid);
}

int RunScript(const std::vector<std::string>& args) {
  return WaitProcess(
      SpawnProcess(std::string(TOOLMARK_SOURCE_DIR) + "/scripts/slurm-correlate.sh", args, -1, -1));
}

class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    CliOk({"synth", dir_ / "cc", "--kind", "cartridge_case", "--firearms", "8", "--per-firearm", "2",
           "--size", "96", "--seed", "5"});
    for (const char* db : {"one", "shards", "killed"})
      CliOk({"ingest", "--db", dir_ / db, "--case", "B-1", "--kind", "cartridge_case", "--role", "reference",
             dir_ / "cc"});
    CliOk({"extract", "--db", dir_ / "one"});
    CliOk({"correlate", "--db", dir_ / "one", "--top", "3"});
    one_ = Results(dir_ / "one");
    ASSERT_GT(one_.size(), 1000u);
  }
  TempDir dir_;
  std::string one_;
};

TEST_F(Cluster, ShardsRunByHandEqualOneProcessEvenWhenKilled) {
  const std::string db = dir_ / "killed";
  // A shard's extraction and a shard's correlation killed mid-way ...
  KilledAfter({"extract", "--db", db, "--shard", "1/4"}, std::chrono::milliseconds(300));
  for (int i = 0; i < 4; ++i) CliOk({"extract", "--db", db, "--shard", std::to_string(i) + "/4"});
  CliOk({"extract", "--db", db});
  KilledAfter({"correlate", "--db", db, "--top", "3", "--shard", "2/4"}, std::chrono::milliseconds(800));
  // ... and every shard run (again): the same final state as one process.
  for (int i = 0; i < 4; ++i)
    CliOk({"correlate", "--db", db, "--top", "3", "--shard", std::to_string(i) + "/4"});
  EXPECT_EQ(Results(db), one_);
  const CliResult bad = RunCli({"correlate", "--db", db, "--shard", "4/4"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("0 <= i < N"), std::string::npos) << bad.err;
}

TEST_F(Cluster, FourSlurmTasksEqualOneProcess) {
  if (std::getenv("SLURM_CONF") == nullptr)
    GTEST_SKIP() << "no Slurm cluster (tests/slurm/with-slurm.sh starts one; ctest's slurm/ tests use it)";
  EXPECT_EQ(RunScript({"--db", dir_ / "shards", "--shards", "4", "--top", "3", "--toolmark", TOOLMARK_BINARY,
                       "--wait"}),
            0);
  EXPECT_EQ(Results(dir_ / "shards"), one_)
      << "4 Slurm tasks and one process leave the same features and hits";
  // Tasks killed by hand mid-way, then the whole job submitted again.
  const std::string db = dir_ / "killed";
  KilledAfter({"extract", "--db", db, "--shard", "0/4"}, std::chrono::milliseconds(300));
  EXPECT_EQ(RunScript({"--db", db, "--shards", "4", "--top", "3", "--toolmark", TOOLMARK_BINARY, "--wait"}),
            0);
  EXPECT_EQ(Results(db), one_);
  EXPECT_TRUE(fs::exists(fs::path(db) / "slurm")) << "task logs";
}

}  // namespace
}  // namespace toolmark::testing
