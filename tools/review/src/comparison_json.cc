// Comparison results as JSON (toolmark compare --json; the hit views).
#include "toolmark/review/comparison_json.h"

#include <cmath>

namespace toolmark::review {

nlohmann::json ValuesJson(const std::vector<double>& v) {
  nlohmann::json out = nlohmann::json::array();
  for (double x : v) out.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json());
  return out;
}

nlohmann::json LandSignatureJson(const LandSignature& s, bool with_values) {
  nlohmann::json j = {
      {"start_um", s.start_um},
      {"length_um", static_cast<double>(s.values.size()) * s.spacing_um},
      {"valid_fraction",
       s.values.empty() ? 0.0 : static_cast<double>(s.valid) / static_cast<double>(s.values.size())},
      {"groove_left_um", s.groove_left_um},
      {"groove_right_um", s.groove_right_um},
      {"left_shoulder_found", s.left_shoulder_found},
      {"right_shoulder_found", s.right_shoulder_found},
      {"crosscut_y_um", {s.crosscut_y0_um, s.crosscut_y1_um}},
      {"bands_used", s.bands_used},
      {"stable", s.stable},
      {"band_correlation", s.band_correlation},
      {"drift_um_per_mm", s.drift_per_mm},
      {"spacing_um", s.spacing_um}};
  if (with_values) {
    j["signature"] = ValuesJson(s.values);
    j["profile"] = ValuesJson(s.profile);
  }
  return j;
}

nlohmann::json LandFeaturesJson(const LandFeatures& f) {
  nlohmann::json j;
  const std::vector<std::string> names = LandFeatureNames();
  const std::vector<double> values = f.Vector();
  for (std::size_t i = 0; i < names.size(); ++i) j[names[i]] = values[i];
  j["lag_um"] = f.lag_um;
  j["overlap_um"] = f.overlap_um;
  return j;
}

nlohmann::json CmcDirectionJson(const CmcDirection& d) {
  nlohmann::json j = {{"rotation_deg", d.rotation_deg},
                      {"translation_um", {d.shift_x_um, d.shift_y_um}},
                      {"cmc_count", d.count},
                      {"cells_used", d.cells_used},
                      {"cells", nlohmann::json::array()}};
  for (const CmcCell& c : d.cells)
    j["cells"].push_back({{"row", c.row},
                          {"col", c.col},
                          {"centre_um", {c.x_um, c.y_um}},
                          {"matched_centre_um", {c.other_x_um, c.other_y_um}},
                          {"ccf", c.ccf},
                          {"offset_um", {c.dx_um, c.dy_um}},
                          {"valid_fraction", c.valid_fraction},
                          {"congruent", c.congruent}});
  return j;
}

nlohmann::json FiringPinComparisonJson(const FiringPinComparison& fp) {
  nlohmann::json pin = {{"compared", fp.compared}, {"note", fp.note}};
  if (fp.compared) {
    pin["congruent_sectors"] = fp.congruent_sectors;
    pin["sectors_used"] = fp.sectors_used;
    pin["ccf"] = fp.ccf;
    pin["rotation_deg"] = fp.rotation_deg;
    for (const auto& [name, d] : {std::pair{"forward", &fp.forward}, std::pair{"backward", &fp.backward}}) {
      nlohmann::json sectors = nlohmann::json::array();
      for (const FiringPinSector& sec : d->sectors)
        sectors.push_back({{"start_deg", sec.start_deg},
                           {"valid_fraction", sec.valid_fraction},
                           {"used", sec.used},
                           {"ccf", sec.ccf},
                           {"rotation_deg", sec.rotation_deg},
                           {"congruent", sec.congruent}});
      pin[name] = {{"rotation_deg", d->rotation_deg},
                   {"ccf", d->ccf},
                   {"count", d->count},
                   {"sectors_used", d->sectors_used},
                   {"centre_shift_um", {d->shift_x_um, d->shift_y_um}},
                   {"sectors", sectors}};
    }
  }
  return pin;
}

nlohmann::json CartridgeRoiJson(const CartridgeCase& item) {
  const BreechFace* face = &item.face;
  nlohmann::json j = {{"outer_found", face->outer_found},
                      {"outer_radius_um", face->outer_radius_um},
                      {"firing_pin_found", face->firing_pin_found},
                      {"firing_pin_radius_um", face->firing_pin_radius_um},
                      {"notes", face->notes}};
  j["firing_pin_impression"] = {{"present", item.firing_pin.present},
                                {"note", item.firing_pin.note},
                                {"centre_um", {item.firing_pin.centre_x_um, item.firing_pin.centre_y_um}},
                                {"radius_um", item.firing_pin.radius_um},
                                {"depth", item.firing_pin.depth_um}};
  return j;
}

}  // namespace toolmark::review
