// Builds X3P containers byte by byte for tests: every field can be set, broken
// or left out, so the reader can be tested on what other writers (and
// attackers) produce.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace toolmark::testing {

struct X3pSpec {
  std::string data_type = "D";
  std::string inc_x = "1.5625e-06", inc_y = "1.5625e-06";
  std::string off_x = "0", off_y = "0";
  std::string z_inc = "1", z_off = "0";
  std::string axis_type_x = "I", axis_type_z = "A";
  std::string feature_type = "SUR";
  std::string size_x = "4", size_y = "3", size_z = "1";
  std::string data;  ///< raw point bytes (bindata/data.bin)
  bool with_point_md5 = true;
  std::string point_md5;  ///< overrides the computed one when set
  bool with_xml_md5 = true;
  std::string xml_md5;     ///< overrides the computed one when set
  std::string valid_bits;  ///< bindata/valid.bin when non-empty
  std::string data_list;   ///< inline <DataList> body instead of a DataLink
  std::string xml;         ///< whole main.xml when non-empty
  std::vector<std::string> order = {"main.xml", "bindata/data.bin", "md5checksum.hex"};
  bool directory_entries = true;
  std::vector<std::pair<std::string, std::string>> extra_entries;
};

/// Little-endian bytes of values converted to T.
template <typename T>
std::string RawValues(const std::vector<double>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    const T v = static_cast<T>(values[i]);
    std::memcpy(out.data() + i * sizeof(T), &v, sizeof(T));
  }
  return out;
}

/// main.xml text for a spec (spec.xml when set).
std::string X3pXml(const X3pSpec& spec);
/// A complete X3P container.
std::string BuildX3p(const X3pSpec& spec);
/// A zip of arbitrary entries (deflated), in order.
std::string ZipOf(const std::vector<std::pair<std::string, std::string>>& entries, bool store = false);

}  // namespace toolmark::testing

namespace toolmark::testing {
/// A named corpus of broken X3P files: truncations, flipped bytes, lying
/// headers, zip bombs, bad XML, unsupported variants. Each must be refused.
std::vector<std::pair<std::string, std::string>> CorruptX3pCorpus();
/// The valid file the corpus is derived from (4×3 float64 points).
X3pSpec ValidSpec();
}  // namespace toolmark::testing
