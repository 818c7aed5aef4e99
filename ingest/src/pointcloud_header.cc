#include "pointcloud_header.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

/// The header must end within this many bytes of the file's start.
constexpr std::size_t kHeaderScanBytes = std::size_t{64} << 10;
/// LZF expands at most ~88:1; a larger stated ratio is a lie.
constexpr std::uint64_t kMaxLzfRatio = 100;

using Tokens = std::vector<std::string>;

std::uint64_t ParseCount(const std::string& text, const std::string& what) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  Check(ec == std::errc() && end == text.data() + text.size(),
        what + " '" + text + "' is not a non-negative integer");
  return v;
}

std::uint64_t CheckedFileSize(const std::string& path, const IngestLimits& limits) {
  std::error_code ec;
  Check(std::filesystem::is_regular_file(path, ec), "not a readable regular file");
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  Check(!ec, "cannot stat: " + ec.message());
  Check(size <= limits.max_file_bytes, "file is " + std::to_string(size) + " bytes, over the limit of " +
                                           std::to_string(limits.max_file_bytes));
  return size;
}

/// The first kHeaderScanBytes (+ a little, for a compressed-data header).
std::string ReadHead(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Check(in.good(), "cannot open");
  std::string head(kHeaderScanBytes + 16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head;
}

/// Splits a header line at spaces, tabs and CRs as PCL does. Other control
/// characters, which PCL's tokenisers treat inconsistently, are refused.
Tokens SplitHeaderLine(std::string_view line) {
  Tokens t(1);
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '\t' || c == '\r') {
      if (!t.back().empty()) t.emplace_back();
      continue;
    }
    Check(u >= 0x20 && u != 0x7f, "header has a control character");
    t.back() += c;
  }
  if (t.back().empty()) t.pop_back();
  return t;
}

/// Header lines split into tokens, up to the line starting with `last`;
/// `*data_offset` is the byte after that line. Empty lines are skipped, but a
/// line of only blanks is refused: PCL 1.13 ends a PCD header there and then
/// crashes (null dereference in PCDReader::read).
std::vector<Tokens> HeaderLines(std::string_view head, const std::string& last, std::size_t* data_offset) {
  std::vector<Tokens> lines;
  std::size_t pos = 0;
  while (pos < std::min(head.size(), kHeaderScanBytes)) {
    const std::size_t end = head.find('\n', pos);
    if (end == std::string_view::npos) break;
    const std::string_view raw = head.substr(pos, end - pos);
    pos = end + 1;
    if (raw.empty()) continue;
    lines.push_back(SplitHeaderLine(raw));
    Check(!lines.back().empty(), "header has a line of only blanks");
    if (lines.back()[0] == last) {
      *data_offset = pos;
      return lines;
    }
  }
  Fail("header has no '" + last + "' line within the first 64 KiB");
}

std::uint64_t PlyTypeBytes(const std::string& t) {
  if (t == "char" || t == "uchar" || t == "int8" || t == "uint8") return 1;
  if (t == "short" || t == "ushort" || t == "int16" || t == "uint16") return 2;
  if (t == "int" || t == "uint" || t == "int32" || t == "uint32") return 4;
  if (t == "float" || t == "float32") return 4;
  if (t == "double" || t == "float64") return 8;
  Fail("PLY property type '" + t + "' is unknown");
}

struct PlyElement {
  std::string name;
  std::uint64_t count = 0;
  std::uint64_t min_binary_bytes = 0;  ///< per item; lists count their length field only
  Tokens properties;
};

void AddPlyProperty(const Tokens& t, std::vector<PlyElement>* elements) {
  Check(!elements->empty(), "PLY property before any element");
  PlyElement& e = elements->back();
  const bool list = t.size() >= 2 && t[1] == "list";
  Check(t.size() == (list ? 5u : 3u), "PLY property line is malformed");
  e.min_binary_bytes += PlyTypeBytes(t[list ? 2 : 1]);
  if (list) PlyTypeBytes(t[3]);
  e.properties.push_back(t.back());
}

/// Elements of a PLY header; `*binary` tells the body's encoding.
std::vector<PlyElement> ParsePlyHeader(const std::vector<Tokens>& lines, bool* binary) {
  std::vector<PlyElement> elements;
  bool have_format = false;
  for (const Tokens& t : lines) {
    const std::string& key = t[0];
    if (key == "format") {
      Check(
          t.size() == 3 && (t[1] == "ascii" || t[1] == "binary_little_endian" || t[1] == "binary_big_endian"),
          "PLY format line is malformed");
      have_format = true;
      *binary = t[1] != "ascii";
    } else if (key == "element") {
      Check(t.size() == 3, "PLY element line is malformed");
      elements.push_back({t[1], ParseCount(t[2], "PLY element count"), 0, {}});
    } else if (key == "property") {
      AddPlyProperty(t, &elements);
    } else if (key != "ply" && key != "comment" && key != "obj_info" && key != "end_header") {
      Fail("PLY header has an unknown line '" + key + "'");
    }
  }
  Check(have_format, "PLY header has no format line");
  return elements;
}

void CheckPlyHeader(std::string_view head, std::uint64_t file_size, const IngestLimits& limits) {
  Check(head.starts_with("ply\n") || head.starts_with("ply\r\n"), "not a PLY file");
  std::size_t body_at = 0;
  bool binary = false;
  const std::vector<PlyElement> elements = ParsePlyHeader(HeaderLines(head, "end_header", &body_at), &binary);
  std::uint64_t need = 0;
  int vertex_elements = 0;
  for (const PlyElement& e : elements) {
    // ASCII: every value takes at least a digit and a separator.
    const std::uint64_t per_item = binary ? e.min_binary_bytes : 2 * e.properties.size();
    need = CheckedAdd(need, CheckedMul(e.count, per_item, "PLY size"), "PLY size");
    if (e.name != "vertex") continue;
    ++vertex_elements;
    Check(e.count <= limits.max_cloud_points, "PLY header states " + std::to_string(e.count) +
                                                  " vertices, over the limit of " +
                                                  std::to_string(limits.max_cloud_points));
    for (const char* axis : {"x", "y", "z"}) {
      Check(std::count(e.properties.begin(), e.properties.end(), axis) == 1,
            std::string("PLY vertices need exactly one '") + axis + "' property");
    }
  }
  Check(vertex_elements == 1, "PLY header needs exactly one vertex element");
  Check(need <= file_size - body_at,
        "PLY header states more data than the file holds "
        "(truncated file or lying header)");
}

/// What a PCD header states (only what the size checks need).
struct PcdHeader {
  Tokens names, types;
  std::vector<std::uint64_t> sizes, counts;
  std::uint64_t width = 0, height = 1, points = 0;
  bool have_width = false, have_points = false;
  std::string data;  ///< ascii, binary or binary_compressed
  std::size_t body_at = 0;

  std::uint64_t ValuesPerPoint() const {
    std::uint64_t n = 0;
    for (std::uint64_t c : counts) n += c;
    return n;
  }
  std::uint64_t PointBytes() const {
    std::uint64_t step = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) step += sizes[i] * counts[i];
    return step;
  }
};

std::vector<std::uint64_t> ParseCounts(const Tokens& t, const std::string& what) {
  std::vector<std::uint64_t> v;
  for (std::size_t i = 1; i < t.size(); ++i) v.push_back(ParseCount(t[i], what));
  return v;
}

void ParsePcdLine(const Tokens& t, PcdHeader* h) {
  const std::string& key = t[0];
  if (key[0] == '#' || key == "VERSION" || key == "VIEWPOINT") return;
  if (key == "FIELDS" || key == "COLUMNS") {
    h->names.assign(t.begin() + 1, t.end());
  } else if (key == "SIZE") {
    h->sizes = ParseCounts(t, "PCD SIZE");
  } else if (key == "TYPE") {
    h->types.assign(t.begin() + 1, t.end());
  } else if (key == "COUNT") {
    h->counts = ParseCounts(t, "PCD COUNT");
  } else if (t.size() != 2) {
    Fail("PCD header has an unknown or malformed line '" + key + "'");
  } else if (key == "WIDTH") {
    h->width = ParseCount(t[1], "PCD WIDTH");
    h->have_width = true;
  } else if (key == "HEIGHT") {
    h->height = ParseCount(t[1], "PCD HEIGHT");
  } else if (key == "POINTS") {
    h->points = ParseCount(t[1], "PCD POINTS");
    h->have_points = true;
  } else if (key == "DATA") {
    h->data = t[1];
  } else {
    Fail("PCD header has an unknown line '" + key + "'");
  }
}

void CheckPcdFields(PcdHeader* h) {
  const std::size_t n = h->names.size();
  if (h->counts.empty()) h->counts.assign(n, 1);
  Check(n > 0 && h->sizes.size() == n && h->types.size() == n && h->counts.size() == n,
        "PCD FIELDS, SIZE, TYPE and COUNT disagree");
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t s = h->sizes[i];
    const std::string& t = h->types[i];
    Check((t == "F" && (s == 4 || s == 8)) ||
              ((t == "I" || t == "U") && (s == 1 || s == 2 || s == 4 || s == 8)),
          "PCD field '" + h->names[i] + "' has an unsupported SIZE/TYPE");
    Check(h->counts[i] >= 1 && h->counts[i] <= 4096, "PCD field COUNT out of range");
  }
  for (const char* axis : {"x", "y", "z"}) {
    Check(std::count(h->names.begin(), h->names.end(), axis) == 1,
          std::string("PCD needs exactly one '") + axis + "' field");
  }
}

void CheckPcdPoints(const PcdHeader& h, const IngestLimits& limits) {
  Check(h.have_points, "PCD header has no POINTS line");
  const std::uint64_t width = h.have_width ? h.width : h.points;  // old PCD files: POINTS only
  Check(h.points <= limits.max_cloud_points, "PCD header states " + std::to_string(h.points) +
                                                 " points, over the limit of " +
                                                 std::to_string(limits.max_cloud_points));
  Check(CheckedMul(width, h.have_width ? h.height : 1, "PCD WIDTH x HEIGHT") == h.points,
        "PCD WIDTH x HEIGHT differs from POINTS");
}

/// binary_compressed: two little-endian uint32 (compressed, uncompressed size).
void CheckPcdCompressed(std::string_view head, const PcdHeader& h, std::uint64_t body,
                        std::uint64_t expected) {
  Check(h.body_at + 8 <= head.size() && body >= 8, "PCD compressed data is truncated");
  std::uint32_t sizes[2];
  std::memcpy(sizes, head.data() + h.body_at, sizeof sizes);  // little-endian hosts only
  Check(sizes[0] <= body - 8, "PCD compressed data is truncated");
  Check(sizes[1] == expected && sizes[1] <= kMaxLzfRatio * std::uint64_t{sizes[0]},
        "PCD compressed data states an inconsistent size");
}

/// PCL 1.13 keeps parsing header lines after DATA until one matches no
/// keyword, so point data that begins like "COLUMNS …" or "POINTS …" rewrites
/// the header and PCL then reads out of bounds (found by fuzzing). This
/// replays PCL's loop over the lines after DATA and refuses such files.
void CheckNoHeaderAfterData(std::string_view head, std::size_t body_at, std::uint64_t file_size) {
  static const char* kStateful[] = {"FIELDS", "COLUMNS", "SIZE",      "TYPE",   "COUNT",
                                    "WIDTH",  "HEIGHT",  "VIEWPOINT", "POINTS", "DATA"};
  std::size_t pos = body_at;
  while (pos < head.size()) {
    const std::size_t end = std::min(head.find('\n', pos), head.size());
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    const auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    std::string_view word = line.substr(0, std::find_if(line.begin(), line.end(), is_space) - line.begin());
    if (word.substr(0, 1) == "#" || word.substr(0, 7) == "VERSION") continue;  // PCL skips these
    for (const char* keyword : kStateful) {
      Check(word.substr(0, std::strlen(keyword)) != keyword,
            "PCD point data begins with bytes that PCL would read as a header line");
    }
    return;  // PCL stops reading the header here
  }
  Check(head.size() >= file_size, "PCD point data begins with comment-like lines PCL would keep reading");
}

void CheckPcdHeader(std::string_view head, std::uint64_t file_size, const IngestLimits& limits) {
  PcdHeader h;
  for (const Tokens& t : HeaderLines(head, "DATA", &h.body_at)) ParsePcdLine(t, &h);
  CheckPcdFields(&h);
  CheckPcdPoints(h, limits);
  CheckNoHeaderAfterData(head, h.body_at, file_size);
  const std::uint64_t body = file_size - h.body_at;
  const char* lie = "PCD header states more data than the file holds (truncated file or lying header)";
  if (h.data == "ascii") {
    Check(CheckedMul(h.points, h.ValuesPerPoint(), "PCD size") <= body, lie);
  } else if (h.data == "binary") {
    Check(CheckedMul(h.points, h.PointBytes(), "PCD size") <= body, lie);
  } else if (h.data == "binary_compressed") {
    CheckPcdCompressed(head, h, body, CheckedMul(h.points, h.PointBytes(), "PCD size"));
  } else {
    Fail("PCD DATA '" + h.data + "' is not ascii, binary or binary_compressed");
  }
}

}  // namespace

void CheckPointCloudHeader(const std::string& path, bool ply, const IngestLimits& limits) {
  const std::uint64_t file_size = CheckedFileSize(path, limits);
  const std::string head = ReadHead(path);
  if (ply) {
    CheckPlyHeader(head, file_size, limits);
  } else {
    CheckPcdHeader(head, file_size, limits);
  }
}

}  // namespace toolmark::ingest
