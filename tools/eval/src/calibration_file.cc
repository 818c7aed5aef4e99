// Calibration files: JSON (de)serialisation with strict checks.
#include "toolmark/eval/calibration_file.h"

#include <cmath>
#include <cstdio>

#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"

namespace toolmark::eval {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxCalibrationBytes = 1 << 20;

/// j[key], or an error naming the field when it is missing or of another type.
template <typename T>
T Field(const json& j, const char* key, const std::string& what) {
  const auto it = j.find(key);
  Check(it != j.end(), what + ": calibration has no '" + key + "'");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(what + ": calibration field '" + key + "' has the wrong type");
  }
}

}  // namespace

namespace {

/// The file's object without its hash.
json UnhashedJson(const Calibration& c) {
  const CalibrationProvenance& p = c.provenance;
  json j = {{"format", kCalibrationFormat},
            {"format_version", kCalibrationFormatVersion},
            {"comparator", c.comparator},
            {"level", c.level},
            {"method", c.method},
            {"transform", c.transform},
            {"parameters", c.parameters},
            {"min_log10_lr", c.min_log10_lr},
            {"max_log10_lr", c.max_log10_lr},
            {"provenance",
             {{"set", p.set},
              {"command", p.command},
              {"fitted_at", p.fitted_at},
              {"toolmark_version", p.toolmark_version},
              {"km", p.km},
              {"knm", p.knm}}}};
  if (!c.features.empty()) j["features"] = c.features;
  if (!c.replicates.empty()) j["replicates"] = c.replicates;
  return j;
}

}  // namespace

std::string CalibrationHash(const Calibration& c) { return base::Sha256Hex(UnhashedJson(c).dump()); }

json CalibrationToJson(const Calibration& c) {
  json j = UnhashedJson(c);
  j["sha256"] = CalibrationHash(c);
  return j;
}

Calibration CalibrationFromJson(const json& j, const std::string& what) {
  Check(j.is_object(), what + ": not a toolmark calibration (not a JSON object)");
  const auto format = j.find("format");
  Check(format != j.end() && format->is_string() && *format == kCalibrationFormat,
        what + ": not a toolmark calibration (format is not '" + kCalibrationFormat + "')");
  const auto version = j.find("format_version");
  Check(version != j.end() && version->is_number_integer(), what + ": calibration has no format_version");
  Check(*version == kCalibrationFormatVersion, what + ": calibration format version " + version->dump() +
                                                   " is not supported (this toolmark reads version " +
                                                   std::to_string(kCalibrationFormatVersion) + ")");
  Calibration c;
  c.comparator = Field<std::string>(j, "comparator", what);
  c.level = Field<std::string>(j, "level", what);
  c.method = Field<std::string>(j, "method", what);
  c.transform = Field<std::string>(j, "transform", what);
  c.parameters = Field<std::vector<double>>(j, "parameters", what);
  c.min_log10_lr = Field<double>(j, "min_log10_lr", what);
  c.max_log10_lr = Field<double>(j, "max_log10_lr", what);
  const json p = Field<json>(j, "provenance", what);
  Check(p.is_object(), what + ": calibration provenance is not an object");
  c.provenance.set = Field<std::string>(p, "set", what);
  c.provenance.command = Field<std::string>(p, "command", what);
  c.provenance.fitted_at = Field<std::string>(p, "fitted_at", what);
  c.provenance.toolmark_version = Field<std::string>(p, "toolmark_version", what);
  for (const char* key : {"km", "knm"})
    Check(Field<json>(p, key, what).is_number_unsigned(),
          what + ": calibration field '" + key + "' is not a count");
  c.provenance.km = p["km"].get<std::size_t>();
  c.provenance.knm = p["knm"].get<std::size_t>();
  if (j.contains("features")) c.features = Field<std::vector<std::string>>(j, "features", what);
  if (j.contains("replicates")) c.replicates = Field<std::vector<std::vector<double>>>(j, "replicates", what);
  try {
    c.Check();
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  // Files written since the hash was added carry it; a mismatch is an edited or damaged file.
  if (j.contains("sha256"))
    Check(j["sha256"].is_string() && j["sha256"].get<std::string>() == CalibrationHash(c),
          what + ": calibration content does not match its sha256 (edited or damaged): refused");
  return c;
}

Calibration ReadCalibrationFile(const std::string& path) {
  std::string bytes;
  try {
    bytes = base::ReadFileBounded(path, kMaxCalibrationBytes);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  json j;
  try {
    j = json::parse(bytes);
  } catch (const json::exception&) {
    throw Error(path + ": not a toolmark calibration (not valid JSON)");
  }
  return CalibrationFromJson(j, path);
}

void WriteCalibrationFile(const Calibration& c, const std::string& path) {
  try {
    base::WriteFileAtomic(path, CalibrationToJson(c).dump(2) + "\n");
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

std::optional<ChosenCalibration> ChooseCalibration(const std::optional<Calibration>& file,
                                                   const std::string& file_path,
                                                   const std::string& comparator, const std::string& level) {
  if (file) {
    Check(file->comparator == comparator && file->level == level,
          file_path + ": calibration is for comparator " + file->comparator + " (" + file->level +
              " level), not " + comparator + " (" + level + " level)");
    return ChosenCalibration{*file, file_path};
  }
  if (std::optional<Calibration> c = DefaultCalibration(comparator, level))
    return ChosenCalibration{*c, "default"};
  return std::nullopt;
}

json CalibrationSummaryJson(const ChosenCalibration& c) {
  return {{"set", c.calibration.provenance.set},
          {"comparator", c.calibration.comparator},
          {"level", c.calibration.level},
          {"source", c.source},
          {"command", c.calibration.provenance.command},
          {"min_log10_lr", c.calibration.min_log10_lr},
          {"max_log10_lr", c.calibration.max_log10_lr},
          {"method", c.calibration.method},
          {"format_version", kCalibrationFormatVersion},
          {"sha256", CalibrationHash(c.calibration)}};
}

std::string FormatLr(double log10_lr) {
  char buf[64];
  if (log10_lr >= 0)
    std::snprintf(buf, sizeof buf, "10^%.2f = %.3g", log10_lr, std::pow(10.0, log10_lr));
  else
    std::snprintf(buf, sizeof buf, "10^%.2f = 1/%.3g", log10_lr, std::pow(10.0, -log10_lr));
  return buf;
}

}  // namespace toolmark::eval
