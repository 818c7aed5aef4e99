// toolmark info FILE…: what a scan is.
#include <tbb/parallel_for.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::cli {
namespace {

struct InfoArgs {
  std::vector<std::string> files;
  bool json = false;
  bool quick = false;
  std::optional<Kind> kind;  ///< none: auto
  ReadFlags read;
};

nlohmann::json ScanJson(const std::string& file, const ingest::Scan& scan, const ingest::Intake& intake) {
  const Surface& s = scan.surface;
  double lo = 0, hi = 0;
  s.Range(&lo, &hi);
  nlohmann::json j = {{"file", file},
                      {"format", scan.format},
                      {"size_x", s.SizeX()},
                      {"size_y", s.SizeY()},
                      {"spacing_x_um", s.spacing_x_um},
                      {"spacing_y_um", s.spacing_y_um},
                      {"valid_fraction", s.ValidFraction()},
                      {"surface", SurfaceKindName(s.kind)},
                      {"sha256", scan.sha256},
                      {"instrument", s.meta.Instrument()},
                      {"notes", scan.notes}};
  j["checksum_ok"] = scan.checksum_ok ? nlohmann::json(*scan.checksum_ok) : nlohmann::json();
  j["value_min"] = std::isfinite(lo) ? nlohmann::json(lo) : nlohmann::json();
  j["value_max"] = std::isfinite(hi) ? nlohmann::json(hi) : nlohmann::json();
  j["value_unit"] = s.kind == SurfaceKind::kHeight ? "um" : "grey level";
  const ingest::ScanQuality& q = intake.quality;
  j["kind"] = KindName(q.kind);
  j["quality"] = ingest::QualityJson(q);
  j["orientation"] = j["quality"].contains("orientation") ? j["quality"]["orientation"] : nlohmann::json();
  if (q.Refused()) j["refused"] = q.RefusalReason();
  return j;
}

void PrintText(const nlohmann::json& j) {
  const std::string checksum =
      j["checksum_ok"].is_null() ? "n/a" : (j["checksum_ok"].get<bool>() ? "ok" : "NOT VERIFIED");
  std::string range = "no valid points";
  if (!j["value_min"].is_null()) {
    range = Num(j["value_min"].get<double>()) + " .. " + Num(j["value_max"].get<double>()) + " " +
            j["value_unit"].get<std::string>();
  }
  std::printf("%s: %s %s, %dx%d points at %s x %s um, %s, valid %.1f%%, checksum %s%s%s\n",
              j["file"].get<std::string>().c_str(), j["format"].get<std::string>().c_str(),
              j["surface"].get<std::string>().c_str(), j["size_x"].get<int>(), j["size_y"].get<int>(),
              Num(j["spacing_x_um"].get<double>()).c_str(), Num(j["spacing_y_um"].get<double>()).c_str(),
              range.c_str(), 100.0 * j["valid_fraction"].get<double>(), checksum.c_str(),
              j["instrument"].get<std::string>().empty() ? "" : ", ",
              j["instrument"].get<std::string>().c_str());
  for (const auto& note : j["notes"]) std::printf("  note: %s\n", note.get<std::string>().c_str());
  const nlohmann::json& q = j["quality"];
  std::string as = j["kind"].get<std::string>() == "bullet" ? "a bullet land" : "a cartridge case";
  as += q["kind_source"] == "stated" ? " (stated)" : " (detected)";
  std::printf("  quality: %s, as %s\n", q["grade"].get<std::string>().c_str(), as.c_str());
  for (const auto& f : q["findings"])
    std::printf("    %-8s %s: %s\n", f["severity"].get<std::string>().c_str(),
                f["code"].get<std::string>().c_str(), f["message"].get<std::string>().c_str());
}

int RunInfo(const InfoArgs& args) {
  const ingest::ReadOptions options = args.read.Options();
  std::vector<nlohmann::json> results(args.files.size());
  std::vector<std::string> errors(args.files.size());
  {
    QuietStderr quiet;
    tbb::parallel_for(std::size_t{0}, args.files.size(), [&](std::size_t i) {
      try {
        const ingest::Scan scan = ingest::ReadScan(args.files[i], options);
        ingest::IntakeOptions intake;
        intake.kind = args.kind;
        intake.orientation = args.read.StatedOrientation();
        intake.preprocess = !args.quick;
        results[i] = ScanJson(args.files[i], scan, ingest::AssessScan(scan.surface, intake));
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    });
  }
  nlohmann::json list = nlohmann::json::array();
  int failed = 0;
  for (std::size_t i = 0; i < args.files.size(); ++i) {
    if (!errors[i].empty()) {
      PrintError(errors[i]);
      ++failed;
      if (args.json) list.push_back({{"file", args.files[i]}, {"error", errors[i]}});
      continue;
    }
    if (args.json)
      list.push_back(results[i]);
    else
      PrintText(results[i]);
    if (results[i].contains("refused")) {
      PrintError(args.files[i] + ": refused: " + results[i]["refused"].get<std::string>());
      ++failed;
    }
  }
  if (args.json) std::cout << list.dump(2) << "\n";
  return failed ? 1 : 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, Action* action) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "info", "Describe scan files: format, size, spacing, heights, checksum, orientation and quality");
  cmd->add_option("files", args->files, "Scan files (X3P, PNG, TIFF, JPEG, PLY, PCD)")->required();
  cmd->add_flag("--json", args->json, "Print a JSON list");
  AddKindFlag(cmd, &args->kind, "What the scans are: auto (from shape and striae), bullet, cartridge_case",
              {"auto", true});
  cmd->add_flag(
      "--quick", args->quick,
      "Skip the comparators' preprocessing (groove shoulders, breech-face region) in the quality check");
  args->read.Add(cmd);
  cmd->callback([args, action] { *action = [args] { return RunInfo(*args); }; });
}

}  // namespace toolmark::cli
