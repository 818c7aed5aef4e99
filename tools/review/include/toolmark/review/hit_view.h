// What a reviewer sees of one recorded hit: the two surfaces rendered
// (shaded relief, false colour) and aligned by the comparator's
// registration, the matched regions (congruent cells; land score matrix and
// aligned signatures for bullets), and the comparison plot. Recomputed from
// the stored scans with this version's comparator, so it also shows whether
// the recorded score is reproduced. Used by `toolmark serve` and `report`.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "toolmark/index/database.h"
#include "toolmark/index/review.h"

namespace toolmark::review {

struct HitView {
  index::ReviewHit hit;
  /// Four images, 8-bit BGRA (transparent where no data): query and
  /// candidate, relief and colour. Cartridge cases: the processed breech
  /// faces, the candidate warped into the query's frame, same size and scale.
  cv::Mat query_relief, query_colour, candidate_relief, candidate_colour;
  cv::Mat plot;            ///< 8-bit BGR comparison plot
  nlohmann::json explain;  ///< see docs/review.md (GET /api/hits/{id}/explain)
};

/// Builds the view of a hit from the database (reads both scans, and for a
/// bullet hit every land of both bullets). Throws toolmark::Error.
std::shared_ptr<const HitView> BuildHitView(index::Database& db, const index::ReviewHit& hit);

/// An image as PNG bytes; throws toolmark::Error.
std::string EncodePng(const cv::Mat& image);

/// Shaded relief (light from the upper left) and false colour (mean ± 3σ,
/// viridis) of a surface, 8-bit BGRA, missing points transparent, scaled by
/// `scale` (bilinear above 1, area below).
cv::Mat ReliefImage(const Surface& s, double scale);
cv::Mat ColourImage(const Surface& s, double scale);

}  // namespace toolmark::review
