// Calibration files (`toolmark calibrate --out`), read by `toolmark eval
// --calibration` and `toolmark compare --calibration`: JSON, format
// "toolmark-calibration" version 1 (docs/calibration.md), and the choice of
// calibration for a comparator and level.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "toolmark/engine/calibration.h"

namespace toolmark::eval {

/// The file format's name and version; a file with another version is refused.
inline constexpr const char* kCalibrationFormat = "toolmark-calibration";
inline constexpr int kCalibrationFormatVersion = 1;

/// The calibration as the file's JSON object (format, format_version,
/// comparator, level, method, transform, parameters, min_log10_lr,
/// max_log10_lr, provenance{set, command, fitted_at, toolmark_version, km,
/// knm}, kofn: replicates; sha256 = CalibrationHash).
nlohmann::json CalibrationToJson(const Calibration& c);
/// SHA-256 (hex) of the file's content without its sha256 field (compact
/// JSON): names the calibration in every result that uses it.
std::string CalibrationHash(const Calibration& c);

/// Parses and checks (Calibration::Check) a calibration object. Throws
/// toolmark::Error naming `what` (e.g. the file) for anything malformed, a
/// wrong format name or an unsupported version, or a sha256 that does not
/// match the content.
Calibration CalibrationFromJson(const nlohmann::json& j, const std::string& what);

/// Reads a calibration file (at most 1 MiB). Throws toolmark::Error
/// "<path>: <reason>".
Calibration ReadCalibrationFile(const std::string& path);

/// Writes the calibration's JSON to path atomically (WriteFileAtomic).
void WriteCalibrationFile(const Calibration& c, const std::string& path);

/// A calibration in use and where it came from.
struct ChosenCalibration {
  Calibration calibration;
  std::string source;  ///< "default" or the file it was read from
};

/// The calibration for scores of `comparator` at calibration level `level`
/// ("pair" or "bullet"): the file's when one is given (an error naming the
/// file when it is for another comparator or level), else the shipped
/// DefaultCalibration, else nullopt.
std::optional<ChosenCalibration> ChooseCalibration(const std::optional<Calibration>& file,
                                                   const std::string& file_path,
                                                   const std::string& comparator, const std::string& level);

/// {"set", "comparator", "level", "source", "command", "min_log10_lr",
/// "max_log10_lr", "method", "format_version", "sha256"} for reports and --json output.
nlohmann::json CalibrationSummaryJson(const ChosenCalibration& c);

/// "10^2.31 = 204" or "10^-1.50 = 1/31.6": an LR for people, from its log10.
std::string FormatLr(double log10_lr);

}  // namespace toolmark::eval
