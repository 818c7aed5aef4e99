#include "toolmark/engine/check.h"

#include <cstdio>
#include <cstdlib>

namespace toolmark {

Error::Error(const std::string& message) : std::runtime_error(OneLine(message)) {}

void Fail(const std::string& reason) { throw Error(reason); }

std::size_t CheckedMul(std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) Fail(std::string(what) + ": size overflow");
  return r;
}

std::size_t CheckedAdd(std::size_t a, std::size_t b, const char* what) {
  std::size_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) Fail(std::string(what) + ": size overflow");
  return r;
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

std::string OneLine(std::string text) {
  for (char& c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

namespace detail {
void AssertFailed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "toolmark: internal error: %s (%s:%d)\n", cond, file, line);
  std::abort();
}
}  // namespace detail

}  // namespace toolmark
