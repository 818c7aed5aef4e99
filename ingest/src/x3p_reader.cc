// X3P reader: container → header → point data → micrometres.
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>

#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"
#include "toolmark/ingest/zip_archive.h"
#include "x3p_xml.h"

namespace toolmark::ingest {
namespace {

template <typename T>
T LoadLittleEndian(const char* p) {
  static_assert(std::endian::native == std::endian::little, "big-endian hosts need byte swapping");
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Raw values (unscaled) of the point data, in X3P order (x fastest).
std::vector<double> DecodePoints(const std::string& raw, char type, std::size_t n) {
  std::vector<double> out(n);
  const char* p = raw.data();
  for (std::size_t i = 0; i < n; ++i) {
    switch (type) {
      case 'I':
        out[i] = LoadLittleEndian<std::int16_t>(p + 2 * i);
        break;
      case 'L':
        out[i] = LoadLittleEndian<std::int32_t>(p + 4 * i);
        break;
      case 'F':
        out[i] = LoadLittleEndian<float>(p + 4 * i);
        break;
      default:
        out[i] = LoadLittleEndian<double>(p + 8 * i);
        break;
    }
  }
  return out;
}

/// MD5 of main.xml as stated by the checksum file ("<hex> *main.xml" or "<hex>").
std::string StatedXmlMd5(const std::string& text) {
  std::string hex;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!hex.empty()) {
      break;
    }
  }
  if (hex.size() != 32) Fail("checksum file does not hold an MD5 digest");
  return hex;
}

void CheckSum(bool ok, const std::string& what, const ReadOptions& options, Scan* scan) {
  if (ok) return;
  if (!options.ignore_checksum) {
    Fail("MD5 checksum mismatch for " + what +
         " (the file is damaged or was edited; --ignore-checksum reads it anyway)");
  }
  scan->checksum_ok = false;
  scan->notes.push_back("MD5 mismatch for " + what + " ignored on request");
}

void VerifyChecksums(const ZipReader& zip, const std::string& xml, const X3pHeader& h,
                     const std::string& points, const ReadOptions& options, Scan* scan) {
  bool any = false;
  scan->checksum_ok = true;
  if (!h.point_md5.empty()) {
    any = true;
    CheckSum(base::Md5Hex(points) == h.point_md5, "the point data", options, scan);
  }
  if (!h.checksum_file.empty() && zip.Has(h.checksum_file)) {
    any = true;
    const std::string stated = StatedXmlMd5(zip.ReadAtMost(h.checksum_file, 4096));
    CheckSum(base::Md5Hex(xml) == stated, "main.xml", options, scan);
  }
  if (!any) {
    scan->checksum_ok = false;
    scan->notes.push_back("the file carries no MD5 checksums");
  }
}

/// Applies the validity bit mask (bit i of byte i/8, least significant first).
void ApplyValidMask(const std::string& mask, std::vector<double>* values) {
  for (std::size_t i = 0; i < values->size(); ++i) {
    const auto byte = static_cast<unsigned char>(mask[i / 8]);
    if (((byte >> (i % 8)) & 1) == 0) (*values)[i] = std::numeric_limits<double>::quiet_NaN();
  }
}

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// Lateral spacing in µm, with the plausibility check that catches files
/// whose increments are in µm where the standard says metres.
double SpacingUm(double increment, const char* axis, const ReadOptions& options) {
  if (options.spacing_um) return *options.spacing_um;
  const LengthUnit unit = options.xy_unit.value_or(LengthUnit::kMetre);
  const double um = increment * MicrometresPer(unit);
  if (um >= kMinPlausibleSpacingUm && um <= kMaxPlausibleSpacingUm) return um;
  std::string msg = std::string(axis) + " increment " + Fmt(increment) + " " + LengthUnitName(unit) + " = " +
                    Fmt(um) + " um is not a plausible scan spacing";
  if (!options.xy_unit && increment >= kMinPlausibleSpacingUm && increment <= kMaxPlausibleSpacingUm) {
    msg += "; the file likely states it in um instead of metres: rerun with --xy-unit um";
  } else if (!options.xy_unit && increment * 1e3 >= kMinPlausibleSpacingUm &&
             increment * 1e3 <= kMaxPlausibleSpacingUm) {
    msg += "; the file likely states it in mm instead of metres: rerun with --xy-unit mm";
  } else {
    msg += "; give the true spacing with --spacing-um";
  }
  Fail(msg);
}

void CheckHeightRange(const Surface& s, const ReadOptions& options) {
  double lo = 0, hi = 0;
  s.Range(&lo, &hi);
  if (!std::isfinite(lo) || hi - lo <= kMaxPlausibleHeightRangeUm) return;
  std::string msg = "height range " + Fmt(hi - lo) + " um is not plausible for a toolmark scan";
  if (!options.z_unit) msg += "; the heights are likely in um instead of metres: rerun with --z-unit um";
  Fail(msg);
}

std::vector<double> ReadPoints(const ZipReader& zip, const X3pHeader& h, std::size_t n, std::string* raw) {
  if (h.has_data_list) return h.data_list;
  const std::size_t bytes = CheckedMul(n, X3pTypeSize(h.cz.data_type), "point data size");
  *raw = zip.ReadExact(h.point_link, bytes);
  return DecodePoints(*raw, h.cz.data_type, n);
}

void ReadValidMask(const ZipReader& zip, const X3pHeader& h, std::size_t n, const ReadOptions& options,
                   std::vector<double>* values, Scan* scan) {
  if (h.valid_link.empty()) return;
  const std::string mask = zip.ReadExact(h.valid_link, CheckedAdd(n, 7, "mask size") / 8);
  if (!h.valid_md5.empty()) CheckSum(base::Md5Hex(mask) == h.valid_md5, "the validity mask", options, scan);
  ApplyValidMask(mask, values);
}

}  // namespace

Scan ReadX3pBytes(std::string_view bytes, const ReadOptions& options) {
  options.limits.Check();
  if (bytes.size() > options.limits.max_file_bytes) Fail("file exceeds the size limit");
  if (bytes.size() < 22 || bytes.substr(0, 2) != "PK") {
    Fail("not an X3P file: it is not a zip container");
  }
  ZipReader zip(bytes, options.limits.max_zip_entries);
  if (!zip.Has("main.xml")) Fail("not an X3P file: main.xml is missing from the container");
  const std::string xml = zip.ReadAtMost("main.xml", options.limits.max_xml_bytes);
  const X3pHeader h = ParseX3pXml(xml, options.limits.max_side, options.limits.max_points);
  const std::size_t n = h.size_x * h.size_y;  // bounded by ParseX3pXml
  Scan scan;
  scan.format = "x3p";
  std::string raw;
  std::vector<double> values = ReadPoints(zip, h, n, &raw);
  VerifyChecksums(zip, xml, h, raw, options, &scan);
  ReadValidMask(zip, h, n, options, &values, &scan);

  const bool integer = h.cz.data_type == 'I' || h.cz.data_type == 'L';
  const double z_scale = MicrometresPer(options.z_unit.value_or(LengthUnit::kMetre));
  const double xy_scale = MicrometresPer(options.xy_unit.value_or(LengthUnit::kMetre));
  Surface& s = scan.surface;
  s.values.create(static_cast<int>(h.size_y), static_cast<int>(h.size_x), CV_64FC1);
  auto* out = s.values.ptr<double>(0);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = integer ? values[i] * h.cz.increment + h.cz.offset : values[i] + h.cz.offset;
    out[i] = std::isfinite(v) ? v * z_scale : std::numeric_limits<double>::quiet_NaN();
  }
  s.spacing_x_um = SpacingUm(h.cx.increment, "X", options);
  s.spacing_y_um = SpacingUm(h.cy.increment, "Y", options);
  s.origin_x_um = h.cx.offset * xy_scale;
  s.origin_y_um = h.cy.offset * xy_scale;
  s.kind = SurfaceKind::kHeight;
  s.meta = h.meta;
  if (!integer && h.cz.increment != 1.0) {
    scan.notes.push_back("CZ increment " + Fmt(h.cz.increment) + " ignored for floating-point heights");
  }
  CheckHeightRange(s, options);
  return scan;
}

}  // namespace toolmark::ingest
