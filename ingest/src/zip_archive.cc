#include "toolmark/ingest/zip_archive.h"

#include <zip.h>

#include <algorithm>

#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

/// libzip 1.7 (Debian 12) fills two function-level statics on a process's
/// first zip_open_from_source, without a lock: a thread opening at the same
/// instant can read the first set and the second not yet, and then takes a
/// writable buffer for a read-only one ("Read-only archive"; `toolmark synth`
/// failed so in about 1 run of 100 on 2 cores). Every open here comes after
/// one made under C++'s thread-safe initialisation of a static, which fills
/// both before any other open can start.
void OpenOnceFirst() {
  static const bool opened = [] {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &error);
    TM_ASSERT(src != nullptr);
    zip_t* archive = zip_open_from_source(src, ZIP_TRUNCATE, &error);
    if (archive != nullptr) {
      zip_discard(archive);  // frees src too
    } else {
      zip_source_free(src);
    }
    zip_error_fini(&error);
    return true;
  }();
  (void)opened;
}

}  // namespace

ZipReader::ZipReader(std::string_view bytes, std::size_t max_entries) : bytes_(bytes) {
  OpenOnceFirst();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes_.data(), bytes_.size(), 0, &error);
  if (src == nullptr) Fail("not a zip container: " + std::string(zip_error_strerror(&error)));
  archive_ = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (archive_ == nullptr) {
    std::string why = zip_error_strerror(&error);
    zip_source_free(src);
    zip_error_fini(&error);
    Fail("not a valid zip container: " + why);
  }
  zip_error_fini(&error);
  const zip_int64_t n = zip_get_num_entries(archive_, 0);
  if (n < 0 || static_cast<std::size_t>(n) > max_entries) {
    zip_discard(archive_);
    archive_ = nullptr;
    Fail("zip container has " + std::to_string(n) + " entries, over the limit of " +
         std::to_string(max_entries));
  }
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (name != nullptr) index_.emplace(name, static_cast<unsigned long long>(i));
  }
}

ZipReader::~ZipReader() {
  if (archive_ != nullptr) zip_discard(archive_);
}

bool ZipReader::Has(const std::string& name) const { return index_.count(name) > 0; }

std::vector<std::string> ZipReader::Names() const {
  std::vector<std::pair<unsigned long long, std::string>> byIndex;
  for (const auto& [name, i] : index_) byIndex.emplace_back(i, name);
  std::sort(byIndex.begin(), byIndex.end());
  std::vector<std::string> out;
  for (auto& [i, name] : byIndex) out.push_back(std::move(name));
  return out;
}

std::string ZipReader::ReadExact(const std::string& name, std::size_t expected) const {
  return Read(name, expected, true);
}

std::string ZipReader::ReadAtMost(const std::string& name, std::size_t max_bytes) const {
  return Read(name, max_bytes, false);
}

std::string ZipReader::Read(const std::string& name, std::size_t limit, bool exact) const {
  auto it = index_.find(name);
  if (it == index_.end()) Fail("entry '" + name + "' is missing from the container");
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(archive_, it->second, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    Fail("entry '" + name + "' has no readable size");
  }
  if (exact && st.size != limit) {
    Fail("entry '" + name + "' holds " + std::to_string(st.size) + " bytes where the header implies " +
         std::to_string(limit));
  }
  if (!exact && st.size > limit) {
    Fail("entry '" + name + "' is " + std::to_string(st.size) + " bytes, over the limit of " +
         std::to_string(limit));
  }
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive_, it->second, 0));
  if (!file) Fail("cannot open entry '" + name + "': " + zip_strerror(archive_));
  std::string out(static_cast<std::size_t>(st.size), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    zip_int64_t n = zip_fread(file.get(), out.data() + done, out.size() - done);
    if (n < 0) Fail("entry '" + name + "' is corrupt: " + zip_file_strerror(file.get()));
    if (n == 0) Fail("entry '" + name + "' is truncated");
    done += static_cast<std::size_t>(n);
  }
  char extra = 0;  // reading past the end makes libzip verify the CRC
  zip_int64_t n = zip_fread(file.get(), &extra, 1);
  if (n < 0) Fail("entry '" + name + "' is corrupt: " + zip_file_strerror(file.get()));
  if (n > 0) Fail("entry '" + name + "' is longer than its header says");
  return out;
}

std::string BuildZip(const std::vector<std::pair<std::string, std::string>>& files,
                     const std::vector<std::string>& directories) {
  OpenOnceFirst();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (buffer == nullptr) Fail(std::string("cannot create a zip buffer: ") + zip_error_strerror(&error));
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) {
    const std::string why = zip_error_strerror(&error);
    zip_source_free(buffer);
    zip_error_fini(&error);
    Fail("cannot create a zip archive in memory: " + why);
  }
  zip_source_keep(buffer);  // read back after zip_close, which lets go of it
  for (const std::string& dir : directories) {
    TM_ASSERT(zip_dir_add(archive, dir.c_str(), ZIP_FL_ENC_UTF_8) >= 0);
  }
  for (const auto& [name, content] : files) {
    zip_source_t* src = zip_source_buffer(archive, content.data(), content.size(), 0);
    TM_ASSERT(src != nullptr);
    zip_int64_t idx = zip_file_add(archive, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (idx < 0) {
      zip_source_free(src);
      Fail("cannot add '" + name + "' to zip: " + zip_strerror(archive));
    }
    // Deflate at level 1: float64 heights hardly compress further at the
    // default level 6, which took about 2 s for a 5 MB land scan (level 1:
    // a tenth of that).
    TM_ASSERT(zip_set_file_compression(archive, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 1) == 0);
  }
  if (zip_close(archive) != 0) {
    std::string why = zip_strerror(archive);
    zip_discard(archive);
    zip_source_free(buffer);
    Fail("cannot build zip: " + why);
  }
  std::string out;
  if (zip_source_open(buffer) == 0) {
    zip_source_seek(buffer, 0, SEEK_END);
    zip_int64_t size = zip_source_tell(buffer);
    zip_source_seek(buffer, 0, SEEK_SET);
    out.resize(static_cast<std::size_t>(size));
    zip_int64_t got = zip_source_read(buffer, out.data(), out.size());
    TM_ASSERT(got == size);
    zip_source_close(buffer);
  }
  zip_source_free(buffer);
  zip_error_fini(&error);
  return out;
}

}  // namespace toolmark::ingest
