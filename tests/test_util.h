// Helpers shared by the test suites.
#pragma once

#include <filesystem>
#include <string>

namespace toolmark::testing {

/// A fresh, empty temporary folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// The real-scan datasets folder, or "" when it is absent (tests then skip).
std::string DatasetsDir();

/// Writes bytes to a file (non-atomic; for test fixtures).
void WriteFile(const std::string& path, const std::string& bytes);
/// Reads a whole file.
std::string ReadFile(const std::string& path);

}  // namespace toolmark::testing

/// Skips the current test with a message when the shared datasets are absent.
#define TOOLMARK_REQUIRE_DATASETS()                                           \
  do {                                                                        \
    if (::toolmark::testing::DatasetsDir().empty())                           \
      GTEST_SKIP() << "../shared/datasets is absent; real-scan test skipped"; \
  } while (0)
