// A bounded view of a zip container held in memory (libzip), and an
// in-memory zip writer (X3P files, evidence packages).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct zip;

namespace toolmark::ingest {

/// Read-only access to a zip archive in memory. Entry names are exact.
class ZipReader {
 public:
  /// Opens the archive; refuses more than max_entries entries.
  ZipReader(std::string_view bytes, std::size_t max_entries);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  bool Has(const std::string& name) const;
  /// Every entry's name, in archive order.
  std::vector<std::string> Names() const;
  /// Reads an entry whose uncompressed content must be exactly `expected`
  /// bytes (libzip verifies the CRC); never reads more than that.
  std::string ReadExact(const std::string& name, std::size_t expected) const;
  /// Reads an entry of at most max_bytes (uncompressed), whatever its header says.
  std::string ReadAtMost(const std::string& name, std::size_t max_bytes) const;

 private:
  std::string Read(const std::string& name, std::size_t limit, bool exact) const;
  std::string bytes_;  // libzip reads from this buffer
  ::zip* archive_ = nullptr;
  std::map<std::string, unsigned long long> index_;
};

/// Builds a zip archive in memory (deflate), entries in the order added.
std::string BuildZip(const std::vector<std::pair<std::string, std::string>>& files,
                     const std::vector<std::string>& directories);

}  // namespace toolmark::ingest
