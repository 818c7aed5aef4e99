#include "toolmark/base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "toolmark/engine/check.h"

namespace toolmark::base {
namespace {

/// The text of errno, thread-safe (std::strerror is not).
std::string ErrnoText() { return std::generic_category().message(errno); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

}  // namespace

std::string ReadFileBounded(const std::string& path, std::size_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) Fail("cannot open: " + ErrnoText());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) Fail("cannot stat: " + ErrnoText());
  if (!S_ISREG(st.st_mode)) Fail("not a regular file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    Fail("file is " + std::to_string(st.st_size) + " bytes, over the limit of " + std::to_string(max_bytes));
  }
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Fail("read error: " + ErrnoText());
    if (n == 0) Fail("file shrank while being read");
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

void SyncFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) Fail("cannot open " + path + ": " + ErrnoText());
  if (::fsync(fd.get()) != 0) Fail("cannot sync " + path + ": " + ErrnoText());
}

void SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) Fail("cannot open folder " + dir + ": " + ErrnoText());
  if (::fsync(fd.get()) != 0) Fail("cannot sync folder " + dir + ": " + ErrnoText());
}

void WriteFileAtomic(const std::string& path, std::string_view bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const std::string dir = target.parent_path().string();
  std::random_device rd;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) Fail("cannot create " + tmp + ": " + ErrnoText());
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        std::string why = ErrnoText();
        ::unlink(tmp.c_str());
        Fail("cannot write " + tmp + ": " + why);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      std::string why = ErrnoText();
      ::unlink(tmp.c_str());
      Fail("cannot sync " + tmp + ": " + why);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = ErrnoText();
    ::unlink(tmp.c_str());
    Fail("cannot rename to " + path + ": " + why);
  }
  SyncDirectory(dir);
}

}  // namespace toolmark::base
