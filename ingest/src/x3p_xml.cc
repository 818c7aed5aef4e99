#include "x3p_xml.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <pugixml.hpp>

#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

/// Element name without its namespace prefix.
const char* LocalName(const pugi::xml_node& node) {
  const char* name = node.name();
  const char* colon = std::strchr(name, ':');
  return colon ? colon + 1 : name;
}

pugi::xml_node Child(const pugi::xml_node& parent, const char* local) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && std::strcmp(LocalName(c), local) == 0) return c;
  }
  return {};
}

pugi::xml_node Required(const pugi::xml_node& parent, const char* local, const std::string& where) {
  pugi::xml_node c = Child(parent, local);
  if (!c) Fail("main.xml: missing " + where + "/" + local);
  return c;
}

std::string Trimmed(const char* text) {
  std::string s(text);
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Text(const pugi::xml_node& parent, const char* local) {
  return Trimmed(Child(parent, local).child_value());
}

double ParseDouble(const std::string& s, const std::string& what) {
  if (s.empty()) Fail("main.xml: " + what + " is empty");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) {
    Fail("main.xml: " + what + " is not a finite number: '" + s.substr(0, 40) + "'");
  }
  return v;
}

std::size_t ParseSize(const std::string& s, const std::string& what, std::size_t max) {
  if (s.empty() || s.size() > 12)
    Fail("main.xml: " + what + " is not a valid size: '" + s.substr(0, 40) + "'");
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      Fail("main.xml: " + what + " is not a valid size: '" + s + "'");
  }
  unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
  if (v == 0 || v > max) Fail("main.xml: " + what + " = " + s + " is outside 1.." + std::to_string(max));
  return static_cast<std::size_t>(v);
}

char ParseLetter(const std::string& s, const char* allowed, const std::string& what) {
  if (s.size() != 1 || std::strchr(allowed, s[0]) == nullptr) {
    Fail("main.xml: " + what + " '" + s.substr(0, 20) + "' is not one of " + allowed);
  }
  return s[0];
}

X3pAxis ParseAxis(const pugi::xml_node& axes, const char* name) {
  const std::string where = std::string("Record1/Axes/") + name;
  pugi::xml_node node = Required(axes, name, "Record1/Axes");
  X3pAxis a;
  a.axis_type = ParseLetter(Text(node, "AxisType"), "IA", where + "/AxisType");
  const std::string dt = Text(node, "DataType");
  if (!dt.empty() || a.axis_type == 'A') a.data_type = ParseLetter(dt, "ILFD", where + "/DataType");
  const std::string inc = Text(node, "Increment");
  if (!inc.empty()) a.increment = ParseDouble(inc, where + "/Increment");
  const std::string off = Text(node, "Offset");
  if (!off.empty()) a.offset = ParseDouble(off, where + "/Offset");
  return a;
}

void ParseRecord2(const pugi::xml_node& r2, ScanMetadata* m) {
  if (!r2) return;
  m->date = Text(r2, "Date");
  m->creator = Text(r2, "Creator");
  m->calibration_date = Text(r2, "CalibrationDate");
  m->comment = Text(r2, "Comment");
  pugi::xml_node inst = Child(r2, "Instrument");
  m->instrument_manufacturer = Text(inst, "Manufacturer");
  m->instrument_model = Text(inst, "Model");
  m->instrument_serial = Text(inst, "Serial");
  m->instrument_version = Text(inst, "Version");
  pugi::xml_node probe = Child(r2, "ProbingSystem");
  m->probing_type = Text(probe, "Type");
  m->probing_id = Text(probe, "Identification");
}

std::string LowerHex(const std::string& s, const std::string& what) {
  std::string h;
  for (char c : s) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h.size() != 32 || h.find_first_not_of("0123456789abcdef") != std::string::npos) {
    Fail("main.xml: " + what + " is not an MD5 hex digest");
  }
  return h;
}

void ParseDataList(const pugi::xml_node& list, std::size_t expected, X3pHeader* h) {
  h->has_data_list = true;
  h->data_list.reserve(expected);
  for (pugi::xml_node d = list.first_child(); d; d = d.next_sibling()) {
    if (d.type() != pugi::node_element) continue;
    if (h->data_list.size() == expected) Fail("main.xml: DataList has more points than SizeX*SizeY");
    const std::string t = Trimmed(d.child_value());
    h->data_list.push_back(t.empty() ? std::nan("") : ParseDouble(t, "DataList/Datum"));
  }
  if (h->data_list.size() != expected) {
    Fail("main.xml: DataList has " + std::to_string(h->data_list.size()) + " points, expected " +
         std::to_string(expected));
  }
}

void ParseRecord3(const pugi::xml_node& r3, int max_side, std::size_t max_points, X3pHeader* h) {
  pugi::xml_node dim = Required(r3, "MatrixDimension", "Record3");
  const auto side = static_cast<std::size_t>(max_side);
  h->size_x = ParseSize(Text(dim, "SizeX"), "SizeX", side);
  h->size_y = ParseSize(Text(dim, "SizeY"), "SizeY", side);
  h->size_z = ParseSize(Text(dim, "SizeZ"), "SizeZ", side);
  if (h->size_z != 1)
    Fail("main.xml: SizeZ = " + std::to_string(h->size_z) + ": multi-layer X3P is not supported");
  const std::size_t points = CheckedMul(h->size_x, h->size_y, "SizeX*SizeY");
  if (points > max_points) {
    Fail("main.xml: " + std::to_string(h->size_x) + "x" + std::to_string(h->size_y) +
         " points exceed the limit of " + std::to_string(max_points));
  }
  if (pugi::xml_node link = Child(r3, "DataLink")) {
    h->point_link = Text(link, "PointDataLink");
    if (h->point_link.empty()) Fail("main.xml: Record3/DataLink/PointDataLink is empty");
    const std::string md5 = Text(link, "MD5ChecksumPointData");
    if (!md5.empty()) h->point_md5 = LowerHex(md5, "MD5ChecksumPointData");
    h->valid_link = Text(link, "ValidPointsLink");
    const std::string vmd5 = Text(link, "MD5ChecksumValidPoints");
    if (!vmd5.empty()) h->valid_md5 = LowerHex(vmd5, "MD5ChecksumValidPoints");
  } else if (pugi::xml_node list = Child(r3, "DataList")) {
    ParseDataList(list, points, h);
  } else {
    Fail("main.xml: Record3 has neither DataLink nor DataList");
  }
}

}  // namespace

std::size_t X3pTypeSize(char data_type) {
  switch (data_type) {
    case 'I':
      return 2;
    case 'L':
      return 4;
    case 'F':
      return 4;
    case 'D':
      return 8;
  }
  Fail(std::string("unknown X3P data type '") + data_type + "'");
}

X3pHeader ParseX3pXml(const std::string& xml, int max_side, std::size_t max_points) {
  pugi::xml_document doc;
  pugi::xml_parse_result ok = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!ok)
    Fail(std::string("main.xml is not well-formed XML: ") + ok.description() + " at byte " +
         std::to_string(ok.offset));
  pugi::xml_node root = doc.document_element();
  if (!root || std::strcmp(LocalName(root), "ISO5436_2") != 0) {
    Fail("main.xml: root element is not ISO5436_2");
  }
  X3pHeader h;
  pugi::xml_node r1 = Required(root, "Record1", "ISO5436_2");
  h.revision = Text(r1, "Revision");
  h.feature_type = Text(r1, "FeatureType");
  if (h.feature_type != "SUR" && h.feature_type != "PRF") {
    Fail("main.xml: FeatureType '" + h.feature_type.substr(0, 20) + "' is not supported (SUR or PRF)");
  }
  pugi::xml_node axes = Required(r1, "Axes", "Record1");
  h.cx = ParseAxis(axes, "CX");
  h.cy = ParseAxis(axes, "CY");
  h.cz = ParseAxis(axes, "CZ");
  if (h.cx.axis_type != 'I' || h.cy.axis_type != 'I') {
    Fail("main.xml: X/Y axes are absolute (a point list); only gridded X3P is supported");
  }
  if (h.cz.axis_type != 'A') Fail("main.xml: Record1/Axes/CZ/AxisType must be A");
  ParseRecord2(Child(root, "Record2"), &h.meta);
  ParseRecord3(Required(root, "Record3", "ISO5436_2"), max_side, max_points, &h);
  h.checksum_file = Text(Child(root, "Record4"), "ChecksumFile");
  return h;
}

namespace {

/// Shortest text that reads back as exactly v.
std::string Number(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void AddText(pugi::xml_node parent, const char* name, const std::string& value) {
  parent.append_child(name).text().set(value.c_str());
}

void WriteAxis(pugi::xml_node axes, const char* name, const X3pAxis& a) {
  pugi::xml_node n = axes.append_child(name);
  AddText(n, "AxisType", std::string(1, a.axis_type));
  AddText(n, "DataType", std::string(1, a.data_type));
  AddText(n, "Increment", Number(a.increment));
  AddText(n, "Offset", Number(a.offset));
}

void WriteRecord2(pugi::xml_node root, const ScanMetadata& m) {
  pugi::xml_node r2 = root.append_child("Record2");
  AddText(r2, "Date", m.date);
  AddText(r2, "Creator", m.creator);
  pugi::xml_node inst = r2.append_child("Instrument");
  AddText(inst, "Manufacturer", m.instrument_manufacturer);
  AddText(inst, "Model", m.instrument_model);
  AddText(inst, "Serial", m.instrument_serial);
  AddText(inst, "Version", m.instrument_version);
  AddText(r2, "CalibrationDate", m.calibration_date);
  pugi::xml_node probe = r2.append_child("ProbingSystem");
  AddText(probe, "Type", m.probing_type);
  AddText(probe, "Identification", m.probing_id);
  AddText(r2, "Comment", m.comment);
}

}  // namespace

std::string WriteX3pXml(const X3pHeader& h) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("p:ISO5436_2");
  root.append_attribute("xmlns:p") = "http://www.opengps.eu/2008/ISO5436_2";
  root.append_attribute("xmlns:xsi") = "http://www.w3.org/2001/XMLSchema-instance";
  root.append_attribute("xsi:schemaLocation") =
      "http://www.opengps.eu/2008/ISO5436_2 http://www.opengps.eu/2008/ISO5436_2/ISO5436_2.xsd";
  pugi::xml_node r1 = root.append_child("Record1");
  AddText(r1, "Revision", h.revision);
  AddText(r1, "FeatureType", h.feature_type);
  pugi::xml_node axes = r1.append_child("Axes");
  WriteAxis(axes, "CX", h.cx);
  WriteAxis(axes, "CY", h.cy);
  WriteAxis(axes, "CZ", h.cz);
  WriteRecord2(root, h.meta);
  pugi::xml_node r3 = root.append_child("Record3");
  pugi::xml_node dim = r3.append_child("MatrixDimension");
  AddText(dim, "SizeX", std::to_string(h.size_x));
  AddText(dim, "SizeY", std::to_string(h.size_y));
  AddText(dim, "SizeZ", std::to_string(h.size_z));
  pugi::xml_node link = r3.append_child("DataLink");
  AddText(link, "PointDataLink", h.point_link);
  AddText(link, "MD5ChecksumPointData", h.point_md5);
  AddText(root.append_child("Record4"), "ChecksumFile", h.checksum_file);
  struct Sink : pugi::xml_writer {
    std::string out;
    void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
  } sink;
  doc.save(sink, "  ", pugi::format_default, pugi::encoding_utf8);
  return sink.out;
}

}  // namespace toolmark::ingest
