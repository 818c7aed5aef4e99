#include "cli_common.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "toolmark/engine/check.h"
#include "toolmark/ingest/scan.h"
#include "toolmark/review/json.h"

namespace toolmark::cli {

void ReadFlags::Add(CLI::App* app) {
  app->add_flag("--ignore-checksum", ignore_checksum,
                "Read X3P files whose MD5 checksums do not match (reported, not hidden)");
  app->add_option("--spacing-um", spacing_um,
                  "Lateral spacing in micrometres: required for 2D images without a sidecar; "
                  "grid spacing for point clouds; overrides an X3P header")
      ->check(CLI::PositiveNumber);
  app->add_option("--xy-unit", xy_unit, "Unit of lateral numbers in the file (m, mm, um)")
      ->check(CLI::IsMember({"m", "mm", "um"}));
  app->add_option("--z-unit", z_unit, "Unit of heights in the file (m, mm, um)")
      ->check(CLI::IsMember({"m", "mm", "um"}));
  app->add_option("--orientation", orientation,
                  "How bullet land scans are stored: upright (striae along y), transposed, rot90, rot270, "
                  "rot180, flip-x, flip-y, antitransposed (default: measured from the striae)")
      ->check(CLI::IsMember(toolmark::OrientationNames()));
}

std::optional<toolmark::Orientation> ReadFlags::StatedOrientation() const {
  if (orientation.empty()) return std::nullopt;
  return toolmark::ParseOrientation(orientation);
}

ingest::ReadOptions ReadFlags::Options() const {
  ingest::ReadOptions o;
  o.ignore_checksum = ignore_checksum;
  if (spacing_um > 0) o.spacing_um = spacing_um;
  if (!xy_unit.empty()) o.xy_unit = ingest::ParseLengthUnit(xy_unit);
  if (!z_unit.empty())
    o.z_unit = ingest::ParseLengthUnit(z_unit);
  else if (o.xy_unit)
    o.z_unit = o.xy_unit;
  return o;
}

void AddDbFlag(CLI::App* app, std::string* db) {
  *db = index::DefaultDatabaseFolder();
  app->add_option("--db", *db, "Database folder (default: $TOOLMARK_DB or ./toolmark-db)");
}

void AddConfigFlag(CLI::App* app, std::string* path) {
  app->add_option("--config", *path,
                  "Read options from a file (TOML or INI, long names: port = 8443, tls-cert = \"…\"); the "
                  "command line wins")
      ->check(CLI::ExistingFile);
}

void ApplyConfigFile(CLI::App* app, const std::string& path) {
  if (path.empty()) return;
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    Fail("--config " + path + ": " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    Check(item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == app->get_name()),
          "--config " + path + ": section [" + (item.parents.empty() ? "" : item.parents[0]) +
              "] is not this command's ([" + app->get_name() + "] or none)");
    CLI::Option* opt = app->get_option_no_throw("--" + item.name);
    Check(opt != nullptr && item.name != "config" && item.name != "help",
          "--config " + path + ": unknown setting '" + item.name + "'");
    if (opt->count() > 0) continue;  // given on the command line
    try {
      opt->add_result(item.inputs.empty() ? std::vector<std::string>{"true"} : item.inputs);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      Fail("--config " + path + ": " + item.name + ": " + e.what());
    }
  }
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "toolmark: %s\n", message.c_str());
  std::fflush(stderr);
}

CLI::Option* AddKindFlag(CLI::App* cmd, std::optional<Kind>* kind, const std::string& help, KindWords words) {
  std::vector<std::string> choices;
  if (words.unset) choices.emplace_back(words.unset);
  for (std::string& k : KindNames()) choices.push_back(std::move(k));
  if (words.land) choices.emplace_back("land");
  return cmd
      ->add_option_function<std::string>(
          "--kind",
          [kind, words](const std::string& v) {
            if (words.unset && v == words.unset)
              kind->reset();
            else
              *kind = v == "land" ? Kind::kBullet : KindOf(v);
          },
          help)
      ->check(CLI::IsMember(choices));
}

ingest::Intake TakeInFile(const std::string& file, std::optional<Kind> kind, const ReadFlags& read,
                          const std::string& orientation) {
  QuietStderr quiet;
  const ingest::Scan scan = ingest::ReadScan(file, read.Options());
  ingest::IntakeOptions intake;
  intake.kind = kind;
  intake.orientation = orientation.empty() ? read.StatedOrientation() : ParseOrientation(orientation);
  try {
    return ingest::TakeIn(scan.surface, intake);
  } catch (const Error& e) {
    throw Error(file + ": " + e.what());
  }
}

bool LooksLikeLand(const Surface& s) { return LooksLikeLandScan(s, MeasureStriaeDirection(s)); }

std::vector<int> LandPositionsFromNames(const std::vector<std::string>& files) {
  std::vector<int> out;
  for (const std::string& file : files) {
    const std::string stem = std::filesystem::path(file).stem().string();
    const std::size_t end = stem.find_last_of("0123456789");
    if (end == std::string::npos) return {};
    std::size_t begin = end;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1]))) --begin;
    const std::string digits = stem.substr(begin, end + 1 - begin);
    if (digits.size() > 2) return {};
    const int n = std::stoi(digits);
    if (n < 1 || n > 64 || std::find(out.begin(), out.end(), n - 1) != out.end()) return {};
    out.push_back(n - 1);
  }
  return out;
}

nlohmann::json ItemJson(const index::ItemRecord& it) {
  nlohmann::json j = {{"id", it.id},
                      {"file", it.file},
                      {"sha256", it.sha256},
                      {"case", it.case_id},
                      {"item", it.item_label},
                      {"jurisdiction", it.jurisdiction},
                      {"kind", KindName(it.kind)},
                      {"role", it.role},
                      {"marks", MarkNames(it.marks)},
                      {"format", it.format},
                      {"surface", it.surface_kind},
                      {"size_x", it.size_x},
                      {"size_y", it.size_y},
                      {"spacing_x_um", it.spacing_x_um},
                      {"spacing_y_um", it.spacing_y_um},
                      {"valid_fraction", it.valid_fraction},
                      {"instrument", it.instrument},
                      {"ingested_at", it.ingested_at},
                      {"toolmark_version", it.toolmark_version},
                      {"values_sha256", it.values_sha256}};
  j["checksum_ok"] = it.checksum_ok ? nlohmann::json(*it.checksum_ok) : nlohmann::json();
  j["class"] = {{"caliber", it.class_marks.caliber},
                {"firing_pin_shape", it.class_marks.firing_pin_shape},
                {"lands", it.class_marks.lands},
                {"twist", it.class_marks.twist}};
  j["firearm"] = {{"make", it.firearm.make},
                  {"model", it.firearm.model},
                  {"serial", it.firearm.serial},
                  {"truth", it.firearm.truth_label}};
  j["quality"] = ItemQuality(it);
  j["orientation"] = j["quality"].is_object() && j["quality"].contains("orientation")
                         ? j["quality"]["orientation"]
                         : nlohmann::json();
  return j;
}

std::string Num(double v) { return review::Num(v); }

}  // namespace toolmark::cli
