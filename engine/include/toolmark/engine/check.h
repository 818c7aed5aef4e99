// One check header for the whole project (cf. FAISS FaissAssert.h).
// Errors that come from outside (files, users) throw toolmark::Error, whose
// what() is a single line meant for the user. Broken internal invariants use
// TM_ASSERT, which aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace toolmark {

/// A user-facing failure: what() is one line, without a trailing newline.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
};

/// Formats "context: reason" and throws toolmark::Error.
[[noreturn]] void Fail(const std::string& reason);

/// Throws Error(reason) unless cond holds.
inline void Check(bool cond, const std::string& reason) {
  if (!cond) Fail(reason);
}

/// a * b, or throws Error(what) on overflow of size_t.
std::size_t CheckedMul(std::size_t a, std::size_t b, const char* what);
/// a + b, or throws Error(what) on overflow of size_t.
std::size_t CheckedAdd(std::size_t a, std::size_t b, const char* what);

/// Collapses newlines and control characters so a message stays one line.
std::string OneLine(std::string text);

/// The parts with `separator` between them ("a,b,c").
std::string Join(const std::vector<std::string>& parts, std::string_view separator = ",");

}  // namespace toolmark

#define TM_ASSERT(cond)                                                       \
  do {                                                                        \
    if (!(cond)) ::toolmark::detail::AssertFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace toolmark::detail {
[[noreturn]] void AssertFailed(const char* cond, const char* file, int line);
}
