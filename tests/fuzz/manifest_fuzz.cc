// Fuzz target: CSV manifests and truth.csv files (ParseManifest), each row's
// per-file overrides (ApplyRowOverrides: xy_unit, z_unit, spacing_um,
// orientation), and stored quality records (QualityFromJson, which packages
// and the catalog hand back). Any exception other than toolmark::Error
// escapes and counts as a finding.
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/quality.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const toolmark::ingest::Manifest m = toolmark::ingest::ParseManifest(text, 10000);
    for (const auto& row : m.rows) {
      try {
        const auto o = toolmark::ingest::ApplyRowOverrides(&row, {}, std::nullopt);
        if (o.read.spacing_um && !(*o.read.spacing_um > 0)) __builtin_trap();  // refused, never taken
      } catch (const toolmark::Error&) {
      }
    }
  } catch (const toolmark::Error&) {
  }
  // The same bytes as a stored quality record.
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    try {
      const toolmark::ingest::ScanQuality q = toolmark::ingest::QualityFromJson(j);
      (void)toolmark::ingest::QualityJson(q).dump();
    } catch (const toolmark::Error&) {
    }
  }
  return 0;
}

std::vector<std::string> ToolmarkFuzzSeeds() {
  // A quality record as intake writes it (a land turned upright).
  toolmark::Surface land;
  land.values.create(120, 480, CV_64FC1);
  for (int r = 0; r < land.values.rows; ++r)
    for (int c = 0; c < land.values.cols; ++c)
      land.values.at<double>(r, c) = std::sin(0.4 * c) + 0.3 * std::sin(0.13 * c + 1) + 0.01 * r;
  land.spacing_x_um = land.spacing_y_um = 2.0;
  toolmark::ingest::IntakeOptions o;
  o.kind = toolmark::Kind::kBullet;
  o.preprocess = false;
  const std::string quality =
      toolmark::ingest::QualityJson(toolmark::ingest::AssessScan(land, o).quality).dump();
  return {
      "file,firearm,kind,mark,bullet,land,land_id\nb1-l1.x3p,barrel1,bullet,land,B1,1,AA\n"
      "b1-l2.x3p,barrel1,bullet,land,B1,2,AB\n",
      "file,firearm,kind,mark,xy_unit,z_unit,spacing_um,orientation\n"
      "a.x3p,F1,cartridge_case,breech_face,um,um,,\n"
      "b.x3p,F1,bullet,land,,mm,3.5,transposed\n"
      "\"c, quoted.x3p\",F2,bullet,land,m,,0.8,rot90\r\n",
      "file,case,kind\nx.png,K1,cartridge_case\n",
      quality,
  };
}
