// toolmark ingest FILE/DIR…: add evidence to the database. Argument parsing
// and output; the work is the ingest pipeline (toolmark/ingest/pipeline.h).
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli_common.h"
#include "ingest_job.h"
#include "toolmark/engine/check.h"

namespace toolmark::cli {
namespace {

nlohmann::json QualityOrientation(const ingest::ScanQuality& q) {
  return {{"stored_as", q.orientation}, {"settled", q.orientation_settled}, {"source", q.orientation_source}};
}

/// " (turned upright from transposed; not settled)" for a land not stored upright.
std::string OrientationRemark(const ingest::ScanQuality& q) {
  if (q.orientation.empty() || q.orientation == "upright") return "";
  return " (turned upright from " + q.orientation + (q.orientation_settled ? ")" : "; not settled)");
}

struct Reporter {
  bool json;
  IngestSummary summary;
  nlohmann::json accepted = nlohmann::json::array(), duplicates = nlohmann::json::array(),
                 rejected = nlohmann::json::array();

  void Rejected(const std::string& file, const std::string& error) {
    ++summary.rejected;
    PrintError(error);
    rejected.push_back({{"file", file}, {"reason", error}});
  }
  void Stored(const std::string& file, const index::ItemRecord& item, const index::AddResult& r,
              const ingest::ScanQuality* quality = nullptr) {
    if (r.duplicate) {
      ++summary.duplicates;
      duplicates.push_back({{"file", file}, {"sha256", item.sha256}, {"existing_id", r.id}});
      if (!json)
        std::printf("duplicate %s: same file as item %lld\n", file.c_str(), static_cast<long long>(r.id));
    } else {
      ++summary.accepted;
      nlohmann::json a = {{"id", r.id}, {"file", file}, {"sha256", item.sha256}};
      if (quality) {
        a["quality"] = quality->Grade();
        a["warnings"] = quality->Warnings();
        if (!quality->orientation.empty()) a["orientation"] = QualityOrientation(*quality);
      }
      accepted.push_back(a);
      if (!json) {
        std::printf("accepted %lld %s%s\n", static_cast<long long>(r.id), file.c_str(),
                    quality ? OrientationRemark(*quality).c_str() : "");
        if (quality)
          for (const auto& f : quality->findings)
            if (f.severity == ingest::Severity::kWarning)
              std::printf("  warning: %s: %s\n", f.code.c_str(), f.message.c_str());
      }
    }
    std::fflush(stdout);  // an "accepted" line is printed only after the commit
  }
  void Hear(const ingest::IngestEvent& ev) {
    switch (ev.outcome) {
      case ingest::IngestEvent::Outcome::kRejected:
        return Rejected(ev.file, ev.error);
      case ingest::IngestEvent::Outcome::kDuplicate:
        return Stored(ev.file, ev.item, {ev.id, true});
      case ingest::IngestEvent::Outcome::kAccepted:
        return Stored(ev.file, ev.item, {ev.id, false}, ev.quality);
    }
  }
};

}  // namespace

IngestSummary RunIngestJob(const IngestRequest& req) {
  ingest::IngestRequest r;
  r.paths = req.paths;
  r.manifest = req.manifest;
  r.recursive = req.recursive;
  r.db = req.db;
  r.defaults = req.flags;
  r.read = req.read.Options();
  r.orientation = req.read.StatedOrientation();
  r.threads = req.threads;
  Reporter rep{req.json, {}};
  ingest::RunIngest(r, [&](const ingest::IngestEvent& ev) { rep.Hear(ev); });
  if (req.json) {
    std::cout << nlohmann::json{{"db", req.db},
                                {"accepted", rep.accepted},
                                {"duplicates", rep.duplicates},
                                {"rejected", rep.rejected}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("%s: %d accepted, %d duplicate, %d rejected\n", req.db.c_str(), rep.summary.accepted,
                rep.summary.duplicates, rep.summary.rejected);
  }
  return rep.summary;
}

void AddItemFlags(CLI::App* cmd, ItemFlags* f) {
  cmd->add_option("--case", f->case_id, "Case identifier");
  cmd->add_option("--item", f->item_label, "Item label (default: the file name without extension)");
  cmd->add_option("--jurisdiction", f->jurisdiction, "Owning jurisdiction (default: local)");
  AddKindFlag(cmd, &f->kind, "cartridge_case or bullet");
  cmd->add_option("--role", f->role, "questioned (default) or reference (a test fire)")
      ->check(CLI::IsMember({"questioned", "reference"}));
  cmd->add_option_function<std::vector<std::string>>(
         "--mark", [f](const std::vector<std::string>& names) { f->marks = MarksOf(names); },
         "Marks on the scan: breech_face, firing_pin, land1, … (repeatable)")
      ->check(CLI::Validator(
          [](const std::string& v) { return ParseMark(v) ? std::string() : "not a mark: " + v; }, "MARK"));
  cmd->add_option("--caliber", f->caliber, "Class characteristic: caliber");
  cmd->add_option("--firing-pin-shape", f->firing_pin_shape, "Class characteristic: firing-pin shape");
  cmd->add_option("--lands", f->lands, "Class characteristic: number of lands")->check(CLI::Range(0, 64));
  cmd->add_option("--twist", f->twist, "Class characteristic: twist (left, right)")
      ->check(CLI::IsMember({"left", "right"}));
  cmd->add_option("--make", f->make, "Firearm make, where known");
  cmd->add_option("--model", f->model, "Firearm model, where known");
  cmd->add_option("--serial", f->serial, "Firearm serial number, where known");
}

void RegisterIngest(CLI::App& app, Action* action) {
  auto req = std::make_shared<IngestRequest>();
  CLI::App* cmd = app.add_subcommand("ingest", "Add scans with their metadata to the database");
  cmd->add_option("paths", req->paths, "Scan files or folders of scans");
  cmd->add_option("--manifest", req->manifest,
                  "CSV with a 'file' column and metadata columns (a dataset's truth.csv works); "
                  "its values win over flags")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", req->json, "Print the result as JSON");
  cmd->add_flag("--recursive,-r", req->recursive,
                "Also take scan files from sub-folders of the folders given");
  cmd->add_option("--threads", req->threads, "Reader threads (default: all cores)")
      ->check(CLI::Range(1, 256));
  AddDbFlag(cmd, &req->db);
  AddItemFlags(cmd, &req->flags);
  req->read.Add(cmd);
  cmd->callback([req, action] {
    *action = [req] {
      const IngestSummary s = RunIngestJob(*req);
      return s.rejected ? 1 : 0;
    };
  });
}

}  // namespace toolmark::cli
