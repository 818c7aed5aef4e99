// Self-contained HTML reports of a hit or a case (toolmark report).
#pragma once

#include <cstdint>
#include <string>

#include "toolmark/index/database.h"

namespace toolmark::review {

/// The report of one hit: items, scores, LR, registration, the scans'
/// quality, images and plots recomputed from the stored scans, decisions.
/// `folder` names the database in the footer. Throws for an unknown hit.
std::string HitReport(index::Database& db, std::int64_t id, const std::string& folder);

/// The report of a case: its items, hits, linked clusters and the hits'
/// sections (decided first; at most 50 with images). Throws for an unknown case.
std::string CaseReport(index::Database& db, const std::string& case_id, const std::string& folder);

/// Writes a report: HTML as it is, or (a path ending in .pdf) printed to
/// PDF by headless Chromium. Atomic; throws toolmark::Error.
void WriteReport(const std::string& html, const std::string& path);

}  // namespace toolmark::review
