// Test main: fixed seeds, build information, then all tests.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "toolmark/engine/version.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::srand(20261129);
  if (!::testing::GTEST_FLAG(list_tests)) {
    std::printf("toolmark %s tests, %u hardware threads\n", toolmark::Version(),
                std::thread::hardware_concurrency());
  }
  return RUN_ALL_TESTS();
}
