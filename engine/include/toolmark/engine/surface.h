// A scanned surface: a regular grid of heights (3D topography) or grey levels
// (2D images), with missing points as NaN.
#pragma once

#include <opencv2/core/mat.hpp>
#include <string>

namespace toolmark {

/// What the values of a Surface are.
enum class SurfaceKind {
  kHeight,     ///< topography, values in micrometres
  kIntensity,  ///< 2D image, values are grey levels (0..255 or 0..65535)
};

const char* SurfaceKindName(SurfaceKind kind);

/// Descriptive metadata that travels with a scan (X3P Record2 and friends).
struct ScanMetadata {
  std::string date;  ///< acquisition date as written by the instrument
  std::string creator;
  std::string instrument_manufacturer;
  std::string instrument_model;
  std::string instrument_serial;
  std::string instrument_version;
  std::string calibration_date;
  std::string probing_type;  ///< e.g. NonContacting
  std::string probing_id;    ///< e.g. objective "20X"
  std::string comment;

  /// "Manufacturer Model" or empty.
  std::string Instrument() const;
  bool operator==(const ScanMetadata&) const = default;
};

/// A height map. values: CV_64FC1, rows = size_y, cols = size_x, row-major with
/// x fastest (the X3P point order). Point (col x, row y) lies at
/// (origin_x_um + x * spacing_x_um, origin_y_um + y * spacing_y_um).
/// Invalid (missing) points are NaN.
struct Surface {
  cv::Mat values;
  double spacing_x_um = 0;
  double spacing_y_um = 0;
  double origin_x_um = 0;
  double origin_y_um = 0;
  SurfaceKind kind = SurfaceKind::kHeight;
  ScanMetadata meta;

  int SizeX() const { return values.cols; }
  int SizeY() const { return values.rows; }
  /// Fraction of points that are finite, in [0, 1]; 0 for an empty surface.
  double ValidFraction() const;
  /// Minimum and maximum of the finite values; NaN, NaN when none is finite.
  void Range(double* min_value, double* max_value) const;
};

/// True when both surfaces have identical sizes, spacings, origins, kind and
/// bit-identical values (NaN equals NaN).
bool IdenticalSurfaces(const Surface& a, const Surface& b);

}  // namespace toolmark
