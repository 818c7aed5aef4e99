#include "toolmark/ingest/manifest.h"

#include <set>

#include "toolmark/engine/check.h"
#include "toolmark/ingest/file_io.h"

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
    return ParseManifest(ReadFileBounded(path, std::size_t{64} << 20));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace toolmark::ingest
