// X3P writer: float64 heights in metres, incremental axes, MD5 checksums.
#include <cmath>
#include <cstring>

#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/ingest/zip_archive.h"
#include "x3p_xml.h"

namespace toolmark::ingest {
namespace {

/// A value in metres whose conversion back to µm (× 1e6) gives exactly `um`,
/// so that a written file reads back bit-identical. Falls back to the nearest
/// quotient when no neighbour round-trips (never seen in practice).
double MetresFor(double um) {
  if (!std::isfinite(um)) return um;
  const double m = um / 1e6;
  if (m * 1e6 == um) return m;
  double up = m, down = m;
  for (int i = 0; i < 4; ++i) {
    up = std::nextafter(up, HUGE_VAL);
    if (up * 1e6 == um) return up;
    down = std::nextafter(down, -HUGE_VAL);
    if (down * 1e6 == um) return down;
  }
  return m;
}

X3pHeader HeaderFor(const Surface& s) {
  X3pHeader h;
  h.cx = {'I', 'D', MetresFor(s.spacing_x_um), MetresFor(s.origin_x_um)};
  h.cy = {'I', 'D', MetresFor(s.spacing_y_um), MetresFor(s.origin_y_um)};
  h.cz = {'A', 'D', 1.0, 0.0};
  h.meta = s.meta;
  h.size_x = static_cast<std::size_t>(s.SizeX());
  h.size_y = static_cast<std::size_t>(s.SizeY());
  h.point_link = "bindata/data.bin";
  h.checksum_file = "md5checksum.hex";
  return h;
}

std::string PointBytes(const Surface& s) {
  std::string raw(CheckedMul(s.values.total(), sizeof(double), "point data"), '\0');
  char* p = raw.data();
  for (int y = 0; y < s.SizeY(); ++y) {
    const double* row = s.values.ptr<double>(y);
    for (int x = 0; x < s.SizeX(); ++x, p += sizeof(double)) {
      const double m = MetresFor(row[x]);
      std::memcpy(p, &m, sizeof m);
    }
  }
  return raw;
}

}  // namespace

std::string WriteX3pBytes(const Surface& surface) {
  Check(surface.kind == SurfaceKind::kHeight,
        "X3P holds heights; a 2D intensity image cannot be written as X3P");
  Check(!surface.values.empty() && surface.values.type() == CV_64FC1, "surface is empty or not float64");
  Check(surface.spacing_x_um > 0 && surface.spacing_y_um > 0, "surface spacing must be positive");
  X3pHeader h = HeaderFor(surface);
  const std::string points = PointBytes(surface);
  h.point_md5 = base::Md5Hex(points);
  const std::string xml = WriteX3pXml(h);
  const std::string checksum = base::Md5Hex(xml) + " *main.xml\n";
  return BuildZip({{"main.xml", xml}, {h.point_link, points}, {h.checksum_file, checksum}}, {"bindata/"});
}

void WriteX3pFile(const Surface& surface, const std::string& path) {
  base::WriteFileAtomic(path, WriteX3pBytes(surface));
}

}  // namespace toolmark::ingest
