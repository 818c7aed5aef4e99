// The X3P main.xml document (ISO 5436-2 XML), parsed into plain values and
// written back. Private to ingest.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "toolmark/engine/surface.h"

namespace toolmark::ingest {

/// One axis of Record1. Numbers exactly as written in the file.
struct X3pAxis {
  char axis_type = 'I';  ///< 'I' incremental, 'A' absolute
  char data_type = 'D';  ///< 'I' int16, 'L' int32, 'F' float32, 'D' float64
  double increment = 1.0;
  double offset = 0.0;
};

struct X3pHeader {
  std::string revision = "ISO5436 - 2000";
  std::string feature_type = "SUR";
  X3pAxis cx, cy, cz;
  ScanMetadata meta;
  std::size_t size_x = 0, size_y = 0, size_z = 1;
  std::string point_link;  ///< zip entry of the point data; empty with a DataList
  std::string point_md5;   ///< lowercase; empty when absent
  std::string valid_link;  ///< zip entry of the validity bit mask; may be empty
  std::string valid_md5;
  std::vector<double> data_list;  ///< inline <DataList> values (raw, unscaled)
  bool has_data_list = false;
  std::string checksum_file;  ///< Record4; empty when absent
};

/// Parses main.xml. Sizes are checked against max_side / max_points.
/// Throws toolmark::Error with a reason naming the element.
X3pHeader ParseX3pXml(const std::string& xml, int max_side, std::size_t max_points);

/// Writes main.xml for a header with a PointDataLink.
std::string WriteX3pXml(const X3pHeader& header);

/// Bytes per value of an X3P data type letter; throws on an unknown letter.
std::size_t X3pTypeSize(char data_type);

}  // namespace toolmark::ingest
