// Wall-clock time as the database and reports write it.
#pragma once

#include <string>

namespace toolmark::base {

/// The time now, UTC, ISO 8601 with seconds ("2026-12-05T12:00:00Z").
std::string NowUtc();
/// The same with milliseconds ("…T12:00:00.123Z").
std::string NowUtcMillis();

}  // namespace toolmark::base
