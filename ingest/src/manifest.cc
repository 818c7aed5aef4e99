#include "toolmark/ingest/manifest.h"

#include <cmath>
#include <set>

#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

/// Splits CSV text into records of fields (RFC 4180: quotes, doubled quotes,
/// CRLF or LF line ends, newlines inside quotes).
std::vector<std::vector<std::string>> SplitCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, any = false;
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"')
        quoted = false;
      else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      any = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
      continue;
    else if (c == '\n') {
      if (any || !field.empty()) {
        fields.push_back(std::move(field));
        records.push_back(std::move(fields));
      }
      fields.clear();
      field.clear();
      any = false;
      ++line;
    } else if (c == '\0')
      Fail("line " + std::to_string(line) + ": NUL byte in CSV");
    else {
      field += c;
      any = true;
    }
  }
  if (quoted) Fail("unterminated quoted field at end of CSV");
  if (any || !field.empty()) {
    fields.push_back(std::move(field));
    records.push_back(std::move(fields));
  }
  return records;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

const std::map<std::string, std::string>* Manifest::Find(const std::string& file_name) const {
  for (const auto& row : rows) {
    auto it = row.find("file");
    if (it != row.end() && it->second == file_name) return &row;
  }
  return nullptr;
}

Manifest ParseManifest(const std::string& text, std::size_t max_rows) {
  std::string body = text;
  if (body.compare(0, 3, "\xEF\xBB\xBF") == 0) body.erase(0, 3);  // UTF-8 BOM
  auto records = SplitCsv(body);
  if (records.empty()) Fail("manifest is empty");
  if (records.size() - 1 > max_rows) Fail("manifest has more than " + std::to_string(max_rows) + " rows");
  Manifest m;
  std::set<std::string> seen_columns;
  for (const auto& c : records[0]) {
    m.columns.push_back(Trim(c));
    if (!seen_columns.insert(m.columns.back()).second)
      Fail("manifest column '" + m.columns.back() + "' appears twice");
  }
  if (!seen_columns.count("file")) Fail("manifest has no 'file' column");
  std::set<std::string> files;
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() > m.columns.size()) {
      Fail("manifest row " + std::to_string(r + 1) + " has more fields than the header");
    }
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
      row[m.columns[c]] = c < records[r].size() ? Trim(records[r][c]) : "";
    }
    if (row["file"].empty()) Fail("manifest row " + std::to_string(r + 1) + " has an empty 'file'");
    if (!files.insert(row["file"]).second) Fail("manifest lists '" + row["file"] + "' twice");
    m.rows.push_back(std::move(row));
  }
  return m;
}

Manifest ReadManifest(const std::string& path) {
  try {
    return ParseManifest(base::ReadFileBounded(path, std::size_t{64} << 20));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

RowOverrides ApplyRowOverrides(const std::map<std::string, std::string>* row, const ReadOptions& read,
                               std::optional<Orientation> orientation) {
  RowOverrides out{read, orientation, orientation ? "flag" : ""};
  if (!row) return out;
  const auto cell = [&](const char* column) {
    const auto it = row->find(column);
    return it == row->end() ? std::string() : it->second;
  };
  const std::string xy = cell("xy_unit"), z = cell("z_unit"), spacing = cell("spacing_um"),
                    turn = cell("orientation");
  const auto unit = [](const std::string& text, const char* column) {
    try {
      return ParseLengthUnit(text);
    } catch (const Error& e) {
      throw Error(std::string("manifest column ") + column + ": " + e.what());
    }
  };
  if (!xy.empty()) {
    out.read.xy_unit = unit(xy, "xy_unit");
    if (z.empty() && !read.z_unit) out.read.z_unit = out.read.xy_unit;
  }
  if (!z.empty()) out.read.z_unit = unit(z, "z_unit");
  if (!spacing.empty()) {
    double v = 0;
    std::size_t used = 0;
    try {
      v = std::stod(spacing, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    Check(used == spacing.size() && std::isfinite(v) && v > 0,
          "manifest column spacing_um: '" + spacing + "' is not a positive number");
    out.read.spacing_um = v;
  }
  if (!turn.empty()) {
    out.orientation = ParseOrientation(turn);
    Check(out.orientation.has_value(),
          "manifest column orientation: '" + turn + "' is not one of upright, " +
              "transposed, rot90, rot270, rot180, flip-x, flip-y, antitransposed");
    out.orientation_source = "manifest";
  }
  return out;
}

std::string ColumnHint(const std::string& reason) {
  static const std::pair<const char*, const char*> kFlags[] = {{"--xy-unit", "xy_unit"},
                                                               {"--z-unit", "z_unit"},
                                                               {"--spacing-um", "spacing_um"},
                                                               {"--orientation", "orientation"}};
  for (const auto& [flag, column] : kFlags)
    if (reason.find(flag) != std::string::npos)
      return reason + " (or, for this file alone, a '" + column + "' column in the manifest / truth.csv)";
  return reason;
}

}  // namespace toolmark::ingest
