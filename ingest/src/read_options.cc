#include "toolmark/ingest/read_options.h"

#include "toolmark/engine/check.h"

namespace toolmark::ingest {

void IngestLimits::Check() const {
  toolmark::Check(max_file_bytes > 0 && max_points > 0 && max_side > 0 && max_xml_bytes > 0 &&
                      max_zip_entries > 0 && max_cloud_points > 0,
                  "ingest limits must be positive");
}

double MicrometresPer(LengthUnit unit) {
  switch (unit) {
    case LengthUnit::kMetre:
      return 1e6;
    case LengthUnit::kMillimetre:
      return 1e3;
    case LengthUnit::kMicrometre:
      return 1.0;
  }
  return 1.0;
}

const char* LengthUnitName(LengthUnit unit) {
  switch (unit) {
    case LengthUnit::kMetre:
      return "m";
    case LengthUnit::kMillimetre:
      return "mm";
    case LengthUnit::kMicrometre:
      return "um";
  }
  return "?";
}

LengthUnit ParseLengthUnit(const std::string& text) {
  if (text == "m") return LengthUnit::kMetre;
  if (text == "mm") return LengthUnit::kMillimetre;
  if (text == "um" || text == "\xC2\xB5m" || text == "micron") return LengthUnit::kMicrometre;
  Fail("unknown length unit '" + text + "' (use m, mm or um)");
}

}  // namespace toolmark::ingest
