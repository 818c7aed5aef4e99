// Private to the exchange library: limits and small helpers shared by keys
// and packages.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace toolmark::exchange::detail {

inline constexpr const char* kFormat = "toolmark-package";
inline constexpr int kFormatVersion = 1;
inline constexpr std::size_t kMaxPackageBytes = std::size_t{4} << 30;  ///< a package file at most 4 GiB
inline constexpr std::size_t kMaxEntries = 100000;
inline constexpr std::size_t kMaxManifestBytes = 64 << 20;
inline constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;  ///< one file in a package at most 1 GiB
inline constexpr std::size_t kMaxItems = 20000;
inline constexpr int kRequestWindowS = 300;  ///< a partner request's sent_at may differ from now by this much

/// Initialises libsodium (idempotent); throws when it cannot.
void InitSodium();
/// <db>/keys
std::filesystem::path KeyDir(const std::string& db);
/// A small file read whole (at most `max` bytes); throws naming it.
std::string ReadSmallFile(const std::filesystem::path& p, std::size_t max);
/// Without leading and trailing white space.
std::string Trimmed(std::string s);
/// The time now, UTC, ISO 8601 with milliseconds.
std::string NowIso();
/// Seconds between an ISO 8601 UTC time ("2026-11-29T12:00:00[.123]Z") and now.
double SecondsFromNow(const std::string& iso);

}  // namespace toolmark::exchange::detail
