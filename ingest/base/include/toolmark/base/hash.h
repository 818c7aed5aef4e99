#pragma once

#include <string>
#include <string_view>

namespace toolmark::base {
/// SHA-256 of bytes as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);
/// MD5 of bytes as 32 lowercase hex digits (X3P checksums only).
std::string Md5Hex(std::string_view bytes);
}  // namespace toolmark::base
