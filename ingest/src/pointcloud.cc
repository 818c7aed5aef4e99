// Point clouds (PLY, PCD) read with PCL and gridded into a height map.
// Hostile input: before PCL sees a file, a cheap pass over its header checks
// that the stated point counts fit the limits and the file's actual size, so
// a lying header cannot make PCL allocate huge buffers.
#include "toolmark/ingest/pointcloud.h"

#include <pcl/PCLPointCloud2.h>
#include <pcl/console/print.h>
#include <pcl/io/pcd_io.h>
#include <pcl/io/ply_io.h>
#include <pcl/kdtree/kdtree_flann.h>
#include <pcl/point_types.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "pointcloud_header.h"
#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

/// Points whose nearest neighbour is measured for the spacing estimate.
constexpr std::size_t kMaxSpacingSamples = 20000;
/// Neighbours searched per sample (to step over duplicated points).
constexpr int kNeighbours = 8;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

/// A point in the file's units, later in µm.
struct Point {
  double x, y, z;
};

struct Bounds {
  double xmin = HUGE_VAL, xmax = -HUGE_VAL, ymin = HUGE_VAL, ymax = -HUGE_VAL;
  double zmin = HUGE_VAL, zmax = -HUGE_VAL;
  double LateralExtent() const { return std::max(xmax - xmin, ymax - ymin); }
};

pcl::PCLPointCloud2 LoadBlob(const std::string& path, bool ply) {
  static std::once_flag quiet;  // a global of PCL's: set once, not raced by parallel ingest
  std::call_once(quiet, [] { pcl::console::setVerbosityLevel(pcl::console::L_ALWAYS); });
  const std::string what = ply ? "PLY" : "PCD";
  pcl::PCLPointCloud2 blob;
  int rc = -1;
  try {
    rc = ply ? pcl::io::loadPLYFile(path, blob) : pcl::io::loadPCDFile(path, blob);
  } catch (const std::exception& e) {
    Fail("PCL cannot read the " + what + " file: " + e.what());
  }
  Check(rc >= 0, "PCL cannot read the " + what + " file (corrupt or unsupported)");
  return blob;
}

std::size_t FieldBytes(std::uint8_t type) {
  using F = pcl::PCLPointField;
  switch (type) {
    case F::INT8:
    case F::UINT8:
      return 1;
    case F::INT16:
    case F::UINT16:
      return 2;
    case F::INT32:
    case F::UINT32:
    case F::FLOAT32:
      return 4;
    case F::INT64:
    case F::UINT64:
    case F::FLOAT64:
      return 8;
    default:
      return 0;
  }
}

template <typename T>
double Load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<double>(v);
}

double ReadValue(const std::uint8_t* p, std::uint8_t type) {
  using F = pcl::PCLPointField;
  switch (type) {
    case F::INT8:
      return Load<std::int8_t>(p);
    case F::UINT8:
      return Load<std::uint8_t>(p);
    case F::INT16:
      return Load<std::int16_t>(p);
    case F::UINT16:
      return Load<std::uint16_t>(p);
    case F::INT32:
      return Load<std::int32_t>(p);
    case F::UINT32:
      return Load<std::uint32_t>(p);
    case F::INT64:
      return Load<std::int64_t>(p);
    case F::UINT64:
      return Load<std::uint64_t>(p);
    case F::FLOAT32:
      return Load<float>(p);
    default:
      return Load<double>(p);
  }
}

/// The field `name`, checked to lie inside a point.
const pcl::PCLPointField& FindField(const pcl::PCLPointCloud2& blob, const char* name) {
  for (const pcl::PCLPointField& f : blob.fields) {
    if (f.name != name) continue;
    const std::size_t bytes = FieldBytes(f.datatype);
    Check(bytes > 0 && f.count >= 1 && std::size_t{f.offset} + bytes <= blob.point_step,
          std::string("the '") + name + "' coordinate has an unsupported layout");
    return f;
  }
  Fail(std::string("the cloud has no '") + name + "' coordinate");
}

/// x, y, z of every point whose three coordinates are finite, in file order.
std::vector<Point> FinitePoints(const pcl::PCLPointCloud2& blob, const IngestLimits& limits,
                                std::vector<std::string>* notes) {
  const std::size_t n = CheckedMul(blob.width, blob.height, "cloud size");
  Check(n <= limits.max_cloud_points && blob.point_step > 0 &&
            CheckedMul(n, blob.point_step, "cloud size") <= blob.data.size(),
        "PCL returned an inconsistent cloud");
  const pcl::PCLPointField* f[3] = {&FindField(blob, "x"), &FindField(blob, "y"), &FindField(blob, "z")};
  std::vector<Point> points;
  points.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = blob.data.data() + i * blob.point_step;
    const Point q{ReadValue(p + f[0]->offset, f[0]->datatype), ReadValue(p + f[1]->offset, f[1]->datatype),
                  ReadValue(p + f[2]->offset, f[2]->datatype)};
    if (std::isfinite(q.x) && std::isfinite(q.y) && std::isfinite(q.z)) points.push_back(q);
  }
  if (points.size() < n) {
    notes->push_back("dropped " + std::to_string(n - points.size()) + " non-finite points");
  }
  Check(points.size() >= 3, "too few finite points (" + std::to_string(points.size()) + "); need at least 3");
  return points;
}

Bounds BoundsOf(const std::vector<Point>& points) {
  Bounds b;
  for (const Point& p : points) {
    b.xmin = std::min(b.xmin, p.x);
    b.xmax = std::max(b.xmax, p.x);
    b.ymin = std::min(b.ymin, p.y);
    b.ymax = std::max(b.ymax, p.y);
    b.zmin = std::min(b.zmin, p.z);
    b.zmax = std::max(b.zmax, p.z);
  }
  return b;
}

/// The lateral unit from the larger lateral extent E (file units):
/// 1e-4..0.1 → m, 0.1..100 → mm, 100..1e5 → µm.
LengthUnit InferLateralUnit(double extent, std::vector<std::string>* notes) {
  LengthUnit unit = LengthUnit::kMicrometre;
  if (extent >= 1e-4 && extent <= 0.1) {
    unit = LengthUnit::kMetre;
  } else if (extent > 0.1 && extent <= 100) {
    unit = LengthUnit::kMillimetre;
  } else if (!(extent > 100 && extent <= 1e5)) {
    Fail("cannot infer the coordinate unit from a lateral extent of " + Num(extent) +
         "; pass --xy-unit (m, mm or um)");
  }
  notes->push_back(std::string("coordinates taken as ") + LengthUnitName(unit) +
                   " from a lateral extent of " + Num(extent));
  return unit;
}

/// Converts every point to µm, with the units given or inferred.
void ConvertToMicrometres(std::vector<Point>* points, const ReadOptions& options,
                          std::vector<std::string>* notes) {
  const LengthUnit xy =
      options.xy_unit ? *options.xy_unit : InferLateralUnit(BoundsOf(*points).LateralExtent(), notes);
  const double xy_factor = MicrometresPer(xy);
  const double z_factor = MicrometresPer(options.z_unit.value_or(xy));
  for (Point& p : *points) p = {p.x * xy_factor, p.y * xy_factor, p.z * z_factor};
}

/// Refuses coordinates that no plausible grid within the limits can hold.
void CheckExtents(const Bounds& b, const IngestLimits& limits) {
  const double max_extent = kMaxPlausibleSpacingUm * limits.max_side;
  const double extent = b.LateralExtent();
  Check(std::isfinite(extent) && extent <= max_extent,
        "lateral extent of " + Num(extent) + " µm does not fit a grid of at most " +
            std::to_string(limits.max_side) + " points per side at a plausible spacing " +
            "(check --xy-unit)");
  const double range = b.zmax - b.zmin;
  Check(std::isfinite(range) && range <= kMaxPlausibleHeightRangeUm,
        "height range of " + Num(range) + " µm is not plausible for a toolmark (check --z-unit)");
}

/// Median x-y distance (µm) from a deterministic subsample of points to
/// their nearest distinct neighbour; 0 when every point is duplicated.
double MedianNeighbourSpacing(const std::vector<Point>& points, const Bounds& b) {
  pcl::PointCloud<pcl::PointXYZ>::Ptr cloud(new pcl::PointCloud<pcl::PointXYZ>);
  cloud->reserve(points.size());
  for (const Point& p : points) {  // relative to the corner: small floats keep precision
    cloud->push_back(pcl::PointXYZ(float(p.x - b.xmin), float(p.y - b.ymin), 0.0f));
  }
  pcl::KdTreeFLANN<pcl::PointXYZ> tree;
  tree.setInputCloud(cloud);
  const std::size_t step = (points.size() + kMaxSpacingSamples - 1) / kMaxSpacingSamples;
  pcl::Indices found;
  std::vector<float> sq;
  std::vector<double> nearest;
  for (std::size_t i = 0; i < points.size(); i += step) {
    tree.nearestKSearch(int(i), kNeighbours, found, sq);
    for (pcl::index_t j : found) {
      const double d = std::hypot(points[j].x - points[i].x, points[j].y - points[i].y);
      if (d > 0) {
        nearest.push_back(d);
        break;
      }
    }
  }
  if (nearest.empty()) return 0;
  auto mid = nearest.begin() + static_cast<std::ptrdiff_t>(nearest.size() / 2);
  std::nth_element(nearest.begin(), mid, nearest.end());
  return *mid;
}

double ChooseSpacing(const std::vector<Point>& points, const Bounds& b, const ReadOptions& options,
                     std::vector<std::string>* notes) {
  double spacing = 0;
  std::string source = "--spacing-um";
  if (options.spacing_um) {
    spacing = *options.spacing_um;
  } else {
    spacing = MedianNeighbourSpacing(points, b);
    source = "the median nearest-neighbour distance";
    notes->push_back("grid spacing " + Num(spacing) + " µm from " + source);
  }
  Check(std::isfinite(spacing) && spacing >= kMinPlausibleSpacingUm && spacing <= kMaxPlausibleSpacingUm,
        "grid spacing of " + Num(spacing) + " µm from " + source + " is not plausible (expected " +
            Num(kMinPlausibleSpacingUm) + " to " + Num(kMaxPlausibleSpacingUm) + " µm)");
  return spacing;
}

/// Grid columns and rows for the bounds, checked against the limits.
cv::Size GridSize(const Bounds& b, double spacing, const IngestLimits& limits) {
  const double cols = std::round((b.xmax - b.xmin) / spacing) + 1;
  const double rows = std::round((b.ymax - b.ymin) / spacing) + 1;
  const std::string what =
      "a grid of " + Num(cols) + " x " + Num(rows) + " points at " + Num(spacing) + " µm";
  Check(cols <= limits.max_side && rows <= limits.max_side,
        what + " exceeds the limit of " + std::to_string(limits.max_side) + " per side");
  const auto c = static_cast<std::size_t>(cols), r = static_cast<std::size_t>(rows);
  Check(CheckedMul(c, r, "grid size") <= limits.max_points,
        what + " exceeds the limit of " + std::to_string(limits.max_points) + " points");
  return {static_cast<int>(c), static_cast<int>(r)};
}

/// Each cell the mean z (µm) of the points rounding to it; NaN where none.
Surface Rasterise(const std::vector<Point>& points, const Bounds& b, double spacing, cv::Size size,
                  std::vector<std::string>* notes) {
  Surface s;
  s.values = cv::Mat::zeros(size, CV_64FC1);
  std::vector<std::uint32_t> count(static_cast<std::size_t>(size.width) * size.height, 0);
  for (const Point& p : points) {
    const int col = static_cast<int>(std::lround((p.x - b.xmin) / spacing));
    const int row = static_cast<int>(std::lround((p.y - b.ymin) / spacing));
    s.values.at<double>(row, col) += p.z;
    ++count[static_cast<std::size_t>(row) * size.width + col];
  }
  std::size_t merged = 0;
  double* v = s.values.ptr<double>();
  for (std::size_t i = 0; i < count.size(); ++i) {
    v[i] = count[i] == 0 ? std::nan("") : v[i] / count[i];
    merged += count[i] > 1;
  }
  if (merged > 0) notes->push_back(std::to_string(merged) + " grid cells hold the mean of several points");
  s.spacing_x_um = s.spacing_y_um = spacing;
  s.origin_x_um = b.xmin;
  s.origin_y_um = b.ymin;
  s.kind = SurfaceKind::kHeight;
  return s;
}

/// True for .ply, false for .pcd (any case); refuses other extensions.
bool IsPlyPath(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Check(ext == ".ply" || ext == ".pcd", "not a point cloud file name (expected .ply or .pcd)");
  return ext == ".ply";
}

}  // namespace

Scan ReadPointCloudFile(const std::string& path, const ReadOptions& options) {
  options.limits.Check();
  const bool ply = IsPlyPath(path);
  CheckPointCloudHeader(path, ply, options.limits);
  Scan scan;
  scan.format = ply ? "ply" : "pcd";
  std::vector<Point> points = FinitePoints(LoadBlob(path, ply), options.limits, &scan.notes);
  ConvertToMicrometres(&points, options, &scan.notes);
  const Bounds b = BoundsOf(points);
  CheckExtents(b, options.limits);
  const double spacing = ChooseSpacing(points, b, options, &scan.notes);
  scan.surface = Rasterise(points, b, spacing, GridSize(b, spacing, options.limits), &scan.notes);
  return scan;
}

}  // namespace toolmark::ingest
