// What `toolmark search` and `toolmark correlate` share: the search flags,
// the choice of calibration for hit lists, and a hit's JSON. docs/search.md.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "toolmark/eval/calibration_file.h"
#include "toolmark/index/search.h"

namespace toolmark::cli {

using eval::ChosenCalibration;

struct SearchFlags {
  std::size_t top = 10, shortlist = 100, fine = 10, screen_all_below = 2000, shortlist_depth = 4000,
              screened = 50;
  std::vector<std::string> jurisdictions;
  std::string index_kind = "auto";
  std::string calibration;                      ///< a calibration file; empty: the comparator's shipped one
  std::optional<Calibration> calibration_file;  ///< read by Read()

  /// --top (with `top_help`), --shortlist, --shortlist-depth, --screened, --fine, --jurisdiction, --index,
  /// --calibration.
  void Add(CLI::App* cmd, const std::string& top_help);
  /// Reads the calibration file, if one is named (a bad file fails before any work).
  void Read();
  /// The options for searching items of `kind`. The calibration file applies
  /// where it is for the kind's comparator at pair level; `require` makes any
  /// other file an error naming it.
  index::SearchOptions Options(Kind kind, bool require) const;
  /// The calibration the hits of `kind` carry, for --json (null: none).
  nlohmann::json CalibrationJson(Kind kind) const;
};

/// One hit of a search or correlation, as --json prints it.
nlohmann::json SearchHitJson(const index::SearchHit& h);

}  // namespace toolmark::cli
