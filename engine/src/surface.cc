#include "toolmark/engine/surface.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace toolmark {

const char* SurfaceKindName(SurfaceKind kind) {
  return kind == SurfaceKind::kHeight ? "height" : "intensity";
}

std::string ScanMetadata::Instrument() const {
  if (instrument_manufacturer.empty()) return instrument_model;
  if (instrument_model.empty()) return instrument_manufacturer;
  return instrument_manufacturer + " " + instrument_model;
}

double Surface::ValidFraction() const {
  if (values.empty()) return 0.0;
  std::size_t valid = 0;
  for (int y = 0; y < values.rows; ++y) {
    const double* row = values.ptr<double>(y);
    for (int x = 0; x < values.cols; ++x) valid += std::isfinite(row[x]) ? 1 : 0;
  }
  return static_cast<double>(valid) / static_cast<double>(values.total());
}

void Surface::Range(double* min_value, double* max_value) const {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (int y = 0; y < values.rows; ++y) {
    const double* row = values.ptr<double>(y);
    for (int x = 0; x < values.cols; ++x) {
      if (!std::isfinite(row[x])) continue;
      lo = std::min(lo, row[x]);
      hi = std::max(hi, row[x]);
    }
  }
  if (lo > hi) lo = hi = std::numeric_limits<double>::quiet_NaN();
  *min_value = lo;
  *max_value = hi;
}

bool IdenticalSurfaces(const Surface& a, const Surface& b) {
  if (a.values.size() != b.values.size() || a.values.type() != b.values.type()) return false;
  if (a.spacing_x_um != b.spacing_x_um || a.spacing_y_um != b.spacing_y_um) return false;
  if (a.origin_x_um != b.origin_x_um || a.origin_y_um != b.origin_y_um) return false;
  if (a.kind != b.kind) return false;
  for (int y = 0; y < a.values.rows; ++y) {
    const std::size_t bytes = a.values.cols * a.values.elemSize();
    if (std::memcmp(a.values.ptr(y), b.values.ptr(y), bytes) != 0) return false;
  }
  return true;
}

}  // namespace toolmark
