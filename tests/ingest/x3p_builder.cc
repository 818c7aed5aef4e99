#include "x3p_builder.h"

#include <zip.h>

#include <stdexcept>

#include "toolmark/base/hash.h"

namespace toolmark::testing {

std::string X3pXml(const X3pSpec& s) {
  if (!s.xml.empty()) return s.xml;
  std::string link;
  if (!s.data_list.empty()) {
    link = "<DataList>" + s.data_list + "</DataList>";
  } else {
    link = "<DataLink><PointDataLink>bindata/data.bin</PointDataLink>";
    if (s.with_point_md5) {
      link += "<MD5ChecksumPointData>" + (s.point_md5.empty() ? base::Md5Hex(s.data) : s.point_md5) +
              "</MD5ChecksumPointData>";
    }
    if (!s.valid_bits.empty()) {
      link += "<ValidPointsLink>bindata/valid.bin</ValidPointsLink><MD5ChecksumValidPoints>" +
              base::Md5Hex(s.valid_bits) + "</MD5ChecksumValidPoints>";
    }
    link += "</DataLink>";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<p:ISO5436_2 xmlns:p=\"http://www.opengps.eu/2008/ISO5436_2\">"
         "<Record1><Revision>ISO5436 - 2000</Revision><FeatureType>" +
         s.feature_type +
         "</FeatureType><Axes>"
         "<CX><AxisType>" +
         s.axis_type_x + "</AxisType><DataType>D</DataType><Increment>" + s.inc_x + "</Increment><Offset>" +
         s.off_x +
         "</Offset></CX>"
         "<CY><AxisType>I</AxisType><DataType>D</DataType><Increment>" +
         s.inc_y + "</Increment><Offset>" + s.off_y +
         "</Offset></CY>"
         "<CZ><AxisType>" +
         s.axis_type_z + "</AxisType><DataType>" + s.data_type + "</DataType><Increment>" + s.z_inc +
         "</Increment><Offset>" + s.z_off +
         "</Offset></CZ></Axes></Record1>"
         "<Record2><Date>2026-11-29T00:00:00</Date><Creator>test</Creator><Instrument><Manufacturer>Acme"
         "</Manufacturer><Model>Scope</Model><Serial>1</Serial><Version>2</Version></Instrument>"
         "<CalibrationDate>2026-01-01T00:00:00</CalibrationDate><ProbingSystem><Type>NonContacting</Type>"
         "<Identification>20X</Identification></ProbingSystem><Comment>made by a test</Comment></Record2>"
         "<Record3><MatrixDimension><SizeX>" +
         s.size_x + "</SizeX><SizeY>" + s.size_y + "</SizeY><SizeZ>" + s.size_z +
         "</SizeZ></MatrixDimension>" + link +
         "</Record3>"
         "<Record4><ChecksumFile>md5checksum.hex</ChecksumFile></Record4></p:ISO5436_2>\n";
}

std::string ZipOf(const std::vector<std::pair<std::string, std::string>>& entries, bool store) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(buffer);
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!archive) throw std::runtime_error("zip_open_from_source");
  for (const auto& [name, content] : entries) {
    if (!name.empty() && name.back() == '/') {
      zip_dir_add(archive, name.c_str(), 0);
      continue;
    }
    zip_source_t* src = zip_source_buffer(archive, content.data(), content.size(), 0);
    zip_int64_t idx = zip_file_add(archive, name.c_str(), src, ZIP_FL_OVERWRITE);
    if (store) zip_set_file_compression(archive, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  if (zip_close(archive) != 0) throw std::runtime_error("zip_close");
  zip_source_open(buffer);
  zip_source_seek(buffer, 0, SEEK_END);
  std::string out(static_cast<std::size_t>(zip_source_tell(buffer)), '\0');
  zip_source_seek(buffer, 0, SEEK_SET);
  zip_source_read(buffer, out.data(), out.size());
  zip_source_close(buffer);
  zip_source_free(buffer);
  return out;
}

std::string BuildX3p(const X3pSpec& s) {
  const std::string xml = X3pXml(s);
  std::vector<std::pair<std::string, std::string>> entries;
  if (s.directory_entries) entries.emplace_back("bindata/", "");
  for (const std::string& name : s.order) {
    if (name == "main.xml") entries.emplace_back(name, xml);
    if (name == "bindata/data.bin" && s.data_list.empty()) entries.emplace_back(name, s.data);
    if (name == "md5checksum.hex" && s.with_xml_md5) {
      entries.emplace_back(name, (s.xml_md5.empty() ? base::Md5Hex(xml) : s.xml_md5) + " *main.xml\n");
    }
  }
  if (!s.valid_bits.empty()) entries.emplace_back("bindata/valid.bin", s.valid_bits);
  for (const auto& e : s.extra_entries) entries.push_back(e);
  return ZipOf(entries);
}

}  // namespace toolmark::testing

namespace toolmark::testing {

X3pSpec ValidSpec() {
  X3pSpec spec;
  spec.data = RawValues<double>({1e-6, 2e-6, 3e-6, 4e-6, 5e-6, 6e-6, 7e-6, 8e-6, 9e-6, 1e-6, 2e-6, 3e-6});
  return spec;
}

namespace {

void AddSpecCases(std::vector<std::pair<std::string, std::string>>* out) {
  auto with = [&](const std::string& name, auto edit) {
    X3pSpec s = ValidSpec();
    edit(s);
    out->emplace_back(name, BuildX3p(s));
  };
  with("size_huge", [](X3pSpec& s) {
    s.size_x = "100000";
    s.size_y = "100000";
  });
  with("size_overflow", [](X3pSpec& s) { s.size_x = "99999999999"; });
  with("size_negative", [](X3pSpec& s) { s.size_x = "-4"; });
  with("size_zero", [](X3pSpec& s) { s.size_y = "0"; });
  with("size_text", [](X3pSpec& s) { s.size_x = "four"; });
  with("size_z_two", [](X3pSpec& s) { s.size_z = "2"; });
  with("data_short", [](X3pSpec& s) { s.data.resize(s.data.size() - 8); });
  with("data_long", [](X3pSpec& s) { s.data += std::string(8, '\0'); });
  with("data_missing", [](X3pSpec& s) { s.order = {"main.xml", "md5checksum.hex"}; });
  with("main_xml_missing", [](X3pSpec& s) { s.order = {"bindata/data.bin"}; });
  with("type_unknown", [](X3pSpec& s) { s.data_type = "X"; });
  with("type_mismatch", [](X3pSpec& s) { s.data_type = "F"; });
  with("increment_nan", [](X3pSpec& s) { s.inc_x = "nan"; });
  with("increment_inf", [](X3pSpec& s) { s.inc_y = "1e999"; });
  with("increment_zero", [](X3pSpec& s) { s.inc_x = "0"; });
  with("increment_text", [](X3pSpec& s) { s.inc_x = "1.5e-6abc"; });
  with("offset_inf", [](X3pSpec& s) { s.z_off = "-inf"; });
  with("axes_absolute", [](X3pSpec& s) { s.axis_type_x = "A"; });
  with("z_incremental", [](X3pSpec& s) { s.axis_type_z = "I"; });
  with("feature_pointcloud", [](X3pSpec& s) { s.feature_type = "PCL"; });
  with("point_md5_wrong", [](X3pSpec& s) { s.point_md5 = std::string(32, '0'); });
  with("point_md5_malformed", [](X3pSpec& s) { s.point_md5 = "xyz"; });
  with("xml_md5_wrong", [](X3pSpec& s) { s.xml_md5 = std::string(32, 'f'); });
  with("heights_in_um", [](X3pSpec& s) {
    s.data = RawValues<double>(std::vector<double>(12, 0.0));
    s.data.replace(0, 8, RawValues<double>({2e5}));
  });
  with("not_xml", [](X3pSpec& s) { s.xml = "this is not xml"; });
  with("wrong_root", [](X3pSpec& s) { s.xml = "<?xml version=\"1.0\"?><root/>"; });
  with("no_record3",
       [](X3pSpec& s) { s.xml = X3pXml(s).substr(0, X3pXml(s).find("<Record3>")) + "</p:ISO5436_2>"; });
  with("datalist_short", [](X3pSpec& s) { s.data_list = "<Datum>1</Datum>"; });
  with("datalist_long", [](X3pSpec& s) {
    s.size_x = "1";
    s.size_y = "1";
    s.data_list = "<Datum>1e-6</Datum><Datum>2e-6</Datum>";
  });
  with("valid_mask_short", [](X3pSpec& s) { s.valid_bits = "\x01"; });
  with("xml_huge", [](X3pSpec& s) {
    s.xml = X3pXml(s);
    s.xml.insert(s.xml.find("<Record1>"), std::string(9 << 20, ' '));
  });
  with("xml_entity_bomb", [](X3pSpec& s) {
    s.xml =
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
        "\"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
        "<p:ISO5436_2 xmlns:p=\"x\"><Record1>&b;&b;&b;&b;</Record1></p:ISO5436_2>";
  });
}

void AddContainerCases(std::vector<std::pair<std::string, std::string>>* out) {
  const std::string valid = BuildX3p(ValidSpec());
  out->emplace_back("empty", "");
  out->emplace_back("not_zip", "hello, I am a text file pretending to be X3P");
  out->emplace_back("zip_magic_only", "PK\x03\x04");
  for (std::size_t cut : {std::size_t{10}, std::size_t{30}, std::size_t{100}, valid.size() / 2,
                          valid.size() - 22, valid.size() - 1}) {
    out->emplace_back("truncated_" + std::to_string(cut), valid.substr(0, cut));
  }
  for (std::size_t pos = 0; pos < valid.size(); pos += 37) {
    std::string flipped = valid;
    flipped[pos] = static_cast<char>(flipped[pos] ^ 0x5A);
    out->emplace_back("flipped_" + std::to_string(pos), flipped);
  }
  // A zip bomb: 64 MiB of zeros (a few KiB compressed) where the header says 12 points.
  X3pSpec bomb = ValidSpec();
  bomb.data = std::string(std::size_t{64} << 20, '\0');
  bomb.with_point_md5 = false;
  out->emplace_back("zip_bomb_data", BuildX3p(bomb));
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 300; ++i) many.emplace_back(std::string("e").append(std::to_string(i)), "x");
  out->emplace_back("too_many_entries", ZipOf(many));
}

}  // namespace

std::vector<std::pair<std::string, std::string>> CorruptX3pCorpus() {
  std::vector<std::pair<std::string, std::string>> out;
  AddSpecCases(&out);
  AddContainerCases(&out);
  return out;
}

}  // namespace toolmark::testing
