// The --png plot of `toolmark compare` for bullets: the land score matrix
// (chosen phase outlined) and, per matched land pair, the two signatures
// aligned by the comparison's lag. Drawn with OpenCV, written as PNG.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "toolmark/engine/cmc.h"
#include "toolmark/engine/land.h"

namespace toolmark::review {

struct MatchedLandPlot {
  std::string name_a, name_b;
  const LandSignature* a = nullptr;
  const LandSignature* b = nullptr;
  LandFeatures features;
  double score = 0;
};

/// labels_a / labels_b name the matrix rows / columns (e.g. "A1", "B4").
/// Throws toolmark::Error when the file cannot be written.
void WriteBulletPng(const std::string& path, const std::vector<MatchedLandPlot>& matched,
                    const BulletComparison& bullets, const std::vector<std::string>& labels_a,
                    const std::vector<std::string>& labels_b);

/// The --png plot for breech faces: both processed surfaces side by side (grey
/// levels ±3σ), A's cells outlined (green: congruent, grey: not) and each
/// congruent cell's match drawn on B, rotated by the registration.
void WriteCmcPng(const std::string& path, const BreechFace& a, const BreechFace& b, const CmcResult& result);

/// The same plots as images (8-bit BGR), for the review server and reports.
cv::Mat CmcPlot(const BreechFace& a, const BreechFace& b, const CmcResult& result);
cv::Mat BulletPlot(const std::vector<MatchedLandPlot>& matched, const BulletComparison& bullets,
                   const std::vector<std::string>& labels_a, const std::vector<std::string>& labels_b);

/// Writes an image as PNG; throws toolmark::Error (one line) when it cannot.
void WritePng(const std::string& path, const cv::Mat& img);

}  // namespace toolmark::review
