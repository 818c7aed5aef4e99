// Private: CSV records of score files (scores.cc, score_table.cc).
#pragma once

#include <string>
#include <vector>

namespace toolmark::eval::detail {

/// Splits one CSV record: RFC 4180 quoting, no line breaks inside fields.
std::vector<std::string> CsvRecord(const std::string& line);

/// A score file's text (at most 256 MiB); errors name the file.
std::string ReadCsvText(const std::string& path);

}  // namespace toolmark::eval::detail
