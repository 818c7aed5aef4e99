// The likelihood ratio a comparison reports (toolmark compare): the
// calibration chosen for its comparator and level, the LR or why there is
// none, and how it is printed.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "toolmark/eval/calibration_file.h"

namespace toolmark::cli {

/// The likelihood ratio of one comparison's score, or why there is none.
struct Likelihood {
  std::optional<eval::ChosenCalibration> calibration;
  std::optional<double> log10_lr;
  std::optional<std::pair<double, double>> interval;  ///< 5–95% (k-of-n calibrations)
  std::string note;                                   ///< why there is no LR

  /// Adds log10_lr (null when none), calibration (null when none) and, without
  /// an LR, log10_lr_note.
  void AddTo(nlohmann::json* j) const;
  /// The text output's "likelihood ratio: …" line.
  void Print() const;
};

/// The LR of a comparison under the calibration for comparator and level
/// (Log10LrOfComparison: its `score`, or k of n and features read by name
/// from its `details`); `unsupported` non-empty: no LR, for that reason.
Likelihood LikelihoodOf(const std::string& calibration_file, const std::string& comparator,
                        const std::string& level, double score, const std::string& unsupported = "",
                        const std::vector<std::pair<const char*, double>>& details = {});

}  // namespace toolmark::cli
