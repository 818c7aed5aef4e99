// Private: CSV records of score files and CSV output (scores.cc, score_table.cc, report.cc).
#pragma once

#include <string>
#include <vector>

namespace toolmark::eval::detail {

/// Splits one CSV record: RFC 4180 quoting, no line breaks inside fields.
std::vector<std::string> CsvRecord(const std::string& line);

/// A field for a CSV record: quoted (RFC 4180) when it holds a comma, a
/// quote or a line break.
std::string CsvField(const std::string& s);

/// A score file's text (at most 256 MiB); errors name the file.
std::string ReadCsvText(const std::string& path);

}  // namespace toolmark::eval::detail
