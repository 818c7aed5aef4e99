// Options and limits shared by every reader. Every file from outside is
// hostile: the limits bound what a lying header can make us allocate.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace toolmark::ingest {

/// Upper bounds applied before any allocation driven by file contents.
struct IngestLimits {
  std::size_t max_file_bytes = std::size_t{4} << 30;      ///< whole input file
  std::size_t max_points = std::size_t{200} << 20;        ///< size_x * size_y
  int max_side = 100000;                                  ///< size_x, size_y
  std::size_t max_xml_bytes = std::size_t{8} << 20;       ///< X3P main.xml
  std::size_t max_zip_entries = 256;                      ///< X3P container
  std::size_t max_cloud_points = std::size_t{200} << 20;  ///< PLY / PCD points

  /// Throws toolmark::Error when a limit is not positive.
  void Check() const;
};

/// A length unit in which a file's numbers may be stated.
enum class LengthUnit { kMetre, kMillimetre, kMicrometre };

/// Micrometres per one of `unit`.
double MicrometresPer(LengthUnit unit);
/// "m", "mm", "um".
const char* LengthUnitName(LengthUnit unit);
/// Parses "m", "mm", "um" (or "µm"); throws toolmark::Error otherwise.
LengthUnit ParseLengthUnit(const std::string& text);

struct ReadOptions {
  IngestLimits limits;
  /// X3P: accept a file whose MD5 checksums do not match (reported, not hidden).
  bool ignore_checksum = false;
  /// Lateral spacing in µm. Required for 2D images without a sidecar; for
  /// point clouds the grid spacing; for X3P it replaces the header's increments.
  std::optional<double> spacing_um;
  /// Unit of the lateral numbers (X3P increments / offsets, point-cloud x, y).
  /// Default: X3P metres as the standard says; point clouds inferred.
  std::optional<LengthUnit> xy_unit;
  /// Unit of heights (X3P z, point-cloud z). Default as for xy_unit.
  std::optional<LengthUnit> z_unit;
};

/// Smallest and largest plausible lateral spacing of a toolmark scan, in µm.
inline constexpr double kMinPlausibleSpacingUm = 0.01;
inline constexpr double kMaxPlausibleSpacingUm = 100.0;
/// Largest plausible height range of a toolmark scan, in µm (5 cm).
inline constexpr double kMaxPlausibleHeightRangeUm = 5.0e4;

}  // namespace toolmark::ingest
