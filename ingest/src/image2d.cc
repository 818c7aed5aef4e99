// 2D images (PNG, TIFF, JPEG) decoded with OpenCV into intensity surfaces.
// Hostile input: the stated size is read from the header and checked against
// the limits before anything is decoded; OpenCV's failures become one-line
// toolmark::Error messages.
#include "toolmark/ingest/image2d.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <vector>

#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

/// Largest sidecar we read, in bytes.
constexpr std::size_t kMaxSidecarBytes = std::size_t{1} << 20;

/// Lateral pixel spacing in µm and where it came from.
struct Spacing {
  double x_um = 0;
  double y_um = 0;
  std::string source;
};

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::uint32_t Byte(std::string_view b, std::size_t pos) { return static_cast<unsigned char>(b[pos]); }

/// Unsigned integer of `n` bytes at `pos`, big- or little-endian.
std::uint32_t ReadUint(std::string_view b, std::size_t pos, int n, bool big_endian) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i) {
    const std::size_t at = pos + static_cast<std::size_t>(big_endian ? i : n - 1 - i);
    v = (v << 8) | Byte(b, at);
  }
  return v;
}

/// Refuses a width × height (pixels) outside the limits.
void CheckDimensions(std::uint64_t width, std::uint64_t height, const IngestLimits& limits,
                     const std::string& what) {
  const std::string size = std::to_string(width) + " x " + std::to_string(height);
  Check(width > 0 && height > 0, what + " states an empty image (" + size + ")");
  const auto max_side = static_cast<std::uint64_t>(limits.max_side);
  Check(width <= max_side && height <= max_side, what + " states " + size + " pixels, over the limit of " +
                                                     std::to_string(limits.max_side) + " per side");
  Check(width * height <= limits.max_points,  // both < 2^32: no overflow
        what + " states " + size + " pixels, over the limit of " + std::to_string(limits.max_points) +
            " points");
}

/// PNG: the IHDR chunk must come first; width and height are big-endian.
void CheckPngHeader(std::string_view b, const IngestLimits& limits) {
  Check(b.size() >= 24 && b.substr(12, 4) == "IHDR", "PNG has no IHDR header");
  CheckDimensions(ReadUint(b, 16, 4, true), ReadUint(b, 20, 4, true), limits, "PNG header");
}

/// TIFF: ImageWidth (256) and ImageLength (257) of the first directory.
void CheckTiffHeader(std::string_view b, const IngestLimits& limits) {
  const bool big = b[0] == 'M';
  Check(b.size() >= 8, "TIFF header is truncated");
  const std::uint64_t ifd = ReadUint(b, 4, 4, big);
  Check(ifd >= 8 && ifd + 2 <= b.size(), "TIFF directory lies outside the file");
  const std::uint64_t entries = ReadUint(b, ifd, 2, big);
  // Entries of 12 bytes, then the 4-byte offset of the next directory.
  Check(ifd + 2 + 12 * entries + 4 <= b.size(), "TIFF directory is truncated");
  std::uint64_t width = 0, height = 0;
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::size_t at = ifd + 2 + 12 * i;
    const std::uint32_t tag = ReadUint(b, at, 2, big);
    const std::uint32_t type = ReadUint(b, at + 2, 2, big);
    const std::uint32_t value = type == 3 ? ReadUint(b, at + 8, 2, big) : ReadUint(b, at + 8, 4, big);
    if (tag == 256) width = value;
    if (tag == 257) height = value;
  }
  CheckDimensions(width, height, limits, "TIFF header");
}

bool IsJpegFrameMarker(std::uint32_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/// JPEG: walks the marker segments up to the first scan, checks the frame
/// header's size and that an end-of-image marker follows the scan (a
/// truncated JPEG would otherwise decode as a grey-padded image).
void CheckJpegHeader(std::string_view b, const IngestLimits& limits) {
  std::size_t pos = 2;
  bool have_frame = false;
  while (pos + 4 <= b.size()) {
    Check(Byte(b, pos) == 0xFF, "JPEG marker structure is corrupt");
    const std::uint32_t marker = Byte(b, pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
      pos += 2;
      continue;
    }
    if (marker == 0xDA) break;  // start of scan
    Check(marker != 0xD9, "JPEG ends before its image data");
    const std::size_t length = ReadUint(b, pos + 2, 2, true);
    Check(length >= 2 && pos + 2 + length <= b.size(), "JPEG segment is truncated");
    if (IsJpegFrameMarker(marker)) {
      Check(length >= 8, "JPEG frame header is truncated");
      CheckDimensions(ReadUint(b, pos + 7, 2, true), ReadUint(b, pos + 5, 2, true), limits, "JPEG header");
      have_frame = true;
    }
    pos += 2 + length;
  }
  Check(have_frame && pos + 4 <= b.size(), "JPEG has no frame header or no image data");
  const std::size_t eoi = b.rfind("\xFF\xD9");
  Check(eoi != std::string_view::npos && eoi > pos, "JPEG is truncated (no end-of-image marker)");
}

void CheckHeader(std::string_view bytes, const std::string& format, const IngestLimits& limits) {
  if (format == "png") CheckPngHeader(bytes, limits);
  if (format == "tiff") CheckTiffHeader(bytes, limits);
  if (format == "jpeg") CheckJpegHeader(bytes, limits);
}

/// Decodes with OpenCV, keeping the stored depth and channels.
cv::Mat Decode(std::string_view bytes, const std::string& format) {
  Check(bytes.size() <= static_cast<std::size_t>(INT_MAX), "image file is too large to decode");
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);  // includes IMREAD_ANYDEPTH
  } catch (const cv::Exception& e) {
    Fail("cannot decode the " + format + " image: " + e.err);
  } catch (const std::exception& e) {
    Fail("cannot decode the " + format + " image: " + e.what());
  }
  Check(!image.empty(),
        "cannot decode the " + format + " image (corrupt, truncated or an unsupported variant)");
  return image;
}

/// One grey channel of 8 or 16 bits; colour is converted with a note.
cv::Mat ToGrey(const cv::Mat& image, std::vector<std::string>* notes) {
  const int depth = image.depth();
  Check(depth == CV_8U || depth == CV_16U, "unsupported pixel type (only 8 and 16 bit images are supported)");
  const int channels = image.channels();
  if (channels == 1) return image;
  cv::Mat grey;
  if (channels == 3) {
    cv::cvtColor(image, grey, cv::COLOR_BGR2GRAY);
    notes->push_back("colour image converted to grey levels (BT.601 luma)");
  } else if (channels == 4) {
    cv::cvtColor(image, grey, cv::COLOR_BGRA2GRAY);
    notes->push_back("colour image converted to grey levels (BT.601 luma); alpha ignored");
  } else {
    Fail("unsupported number of channels: " + std::to_string(channels));
  }
  return grey;
}

void CheckSpacing(double v, const std::string& source) {
  Check(std::isfinite(v) && v >= kMinPlausibleSpacingUm && v <= kMaxPlausibleSpacingUm,
        "pixel spacing " + FormatNumber(v) + " µm from " + source + " is not plausible (expected " +
            FormatNumber(kMinPlausibleSpacingUm) + " to " + FormatNumber(kMaxPlausibleSpacingUm) + " µm)");
}

/// "<path>.json", then "<path without extension>.json"; the first that exists.
std::optional<std::string> FindSidecar(const std::string& path) {
  if (path.empty()) return std::nullopt;
  const std::string candidates[] = {path + ".json",
                                    std::filesystem::path(path).replace_extension(".json").string()};
  for (const std::string& candidate : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

double SidecarNumber(const nlohmann::json& j, const char* key, const std::string& sidecar) {
  Check(j.contains(key) && j[key].is_number(), "sidecar " + sidecar + ": \"" + key + "\" must be a number");
  return j[key].get<double>();
}

/// Reads {"spacing_um": v} or {"spacing_x_um": a, "spacing_y_um": b}.
Spacing ParseSidecar(const std::string& sidecar) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(base::ReadFileBounded(sidecar, kMaxSidecarBytes));
  } catch (const nlohmann::json::exception& e) {
    Fail("sidecar " + sidecar + " is not valid JSON: " + e.what());
  } catch (const Error& e) {
    Fail("sidecar " + sidecar + ": " + e.what());
  }
  Check(j.is_object(), "sidecar " + sidecar + " must hold a JSON object");
  const bool single = j.contains("spacing_um");
  const bool pair = j.contains("spacing_x_um") || j.contains("spacing_y_um");
  Check(single != pair, "sidecar " + sidecar +
                            " must give either \"spacing_um\" or \"spacing_x_um\" and "
                            "\"spacing_y_um\"");
  Spacing s{0, 0, "sidecar " + sidecar};
  if (single) {
    s.x_um = s.y_um = SidecarNumber(j, "spacing_um", sidecar);
  } else {
    s.x_um = SidecarNumber(j, "spacing_x_um", sidecar);
    s.y_um = SidecarNumber(j, "spacing_y_um", sidecar);
  }
  return s;
}

/// The spacing from the options, else from a sidecar; never guessed.
Spacing ResolveSpacing(const std::string& path, const ReadOptions& options, std::vector<std::string>* notes) {
  const std::optional<std::string> sidecar = FindSidecar(path);
  Spacing s;
  if (options.spacing_um) {
    s = {*options.spacing_um, *options.spacing_um, "--spacing-um"};
    if (sidecar) notes->push_back("sidecar " + *sidecar + " ignored: spacing given explicitly");
  } else if (sidecar) {
    s = ParseSidecar(*sidecar);
    notes->push_back("pixel spacing from " + s.source);
  } else {
    Fail(
        "no pixel spacing: a 2D image does not store its physical pixel size; pass "
        "--spacing-um or put a sidecar <file>.json with {\"spacing_um\": …} next to it");
  }
  CheckSpacing(s.x_um, s.source);
  CheckSpacing(s.y_um, s.source);
  return s;
}

}  // namespace

std::string SniffImageFormat(std::string_view bytes) {
  if (bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return "png";
  if (bytes.substr(0, 4) == std::string_view("II*\0", 4) ||
      bytes.substr(0, 4) == std::string_view("MM\0*", 4)) {
    return "tiff";
  }
  if (bytes.substr(0, 3) == "\xFF\xD8\xFF") return "jpeg";
  return "";
}

Scan ReadImageBytes(std::string_view bytes, const std::string& path, const ReadOptions& options) {
  options.limits.Check();
  Scan scan;
  scan.format = SniffImageFormat(bytes);
  Check(!scan.format.empty(), "not a PNG, TIFF or JPEG image");
  CheckHeader(bytes, scan.format, options.limits);
  const Spacing spacing = ResolveSpacing(path, options, &scan.notes);
  const cv::Mat image = Decode(bytes, scan.format);
  CheckDimensions(static_cast<std::uint64_t>(image.cols), static_cast<std::uint64_t>(image.rows),
                  options.limits, "decoded " + scan.format);
  ToGrey(image, &scan.notes).convertTo(scan.surface.values, CV_64F);
  scan.surface.kind = SurfaceKind::kIntensity;
  scan.surface.spacing_x_um = spacing.x_um;
  scan.surface.spacing_y_um = spacing.y_um;
  scan.sha256 = base::Sha256Hex(bytes);
  return scan;
}

}  // namespace toolmark::ingest
