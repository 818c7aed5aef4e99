// toolmark list, toolmark verify, toolmark export-scan: look at the database.
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::cli {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

}  // namespace

int RunList(const std::string& folder, bool json) {
  auto db = index::Database::Open(folder, false);
  const auto items = db->List();
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& it : items) list.push_back(ItemJson(it));
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  std::printf("%-5s %-14s %-12s %-10s %-14s %-10s %-12s %-11s %s\n", "id", "case", "item", "jurisdict.",
              "kind", "role", "marks", "size", "file");
  for (const auto& it : items) {
    const std::string size = std::to_string(it.size_x) + "x" + std::to_string(it.size_y);
    std::printf("%-5lld %-14s %-12s %-10s %-14s %-10s %-12s %-11s %s\n", static_cast<long long>(it.id),
                it.case_id.c_str(), it.item_label.c_str(), it.jurisdiction.c_str(), it.kind.c_str(),
                it.role.c_str(), Join(it.marks).c_str(), size.c_str(), it.file.c_str());
  }
  std::printf("%zu items\n", items.size());
  return 0;
}

namespace {

int RunVerify(const std::string& folder, bool repair, bool json) {
  auto db = index::Database::Open(folder, false);
  const index::VerifyReport r = db->Verify(repair);
  if (json) {
    std::cout << nlohmann::json{{"ok", r.ok()}, {"items", r.items}, {"problems", r.problems},
                                {"leftovers", r.leftovers}, {"repaired", repair}}.dump(2) << "\n";
  } else {
    for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
    for (const auto& l : r.leftovers) {
      std::printf("%s: %s\n", repair ? "removed leftover" : "leftover (from an unacknowledged write; --repair removes it)", l.c_str());
    }
    std::printf("%s: %zu items, %zu problems, %zu leftovers: %s\n", folder.c_str(), r.items, r.problems.size(),
                r.leftovers.size(), r.ok() ? "OK" : "DAMAGED");
  }
  if (!r.ok()) PrintError(folder + ": verification failed: " + r.problems.front());
  return r.ok() ? 0 : 1;
}

int RunExportScan(const std::string& folder, long long id, const std::string& out) {
  auto db = index::Database::Open(folder, false);
  const auto item = db->Get(id);
  if (!item) Fail("item " + std::to_string(id) + ": no such item in " + folder);
  Surface s = db->LoadSurface(id);
  if (s.kind != SurfaceKind::kHeight) {
    Fail("item " + std::to_string(id) + ": a 2D image (intensity), not a height map; X3P export is for 3D scans");
  }
  s.meta.comment = "Exported by Toolmark from item " + std::to_string(id) + " (" + item->file + ")";
  s.meta.instrument_manufacturer = item->instrument;
  ingest::WriteX3pFile(s, out);
  std::printf("wrote %s (%dx%d, item %lld)\n", out.c_str(), s.SizeX(), s.SizeY(), id);
  return 0;
}

}  // namespace

void RegisterList(CLI::App& app, Action* action) {
  auto db = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("list", "List the items in the database");
  AddDbFlag(cmd, db.get());
  cmd->add_flag("--json", *json, "Print a JSON list");
  cmd->callback([=] { *action = [=] { return RunList(*db, *json); }; });
}

void RegisterVerify(CLI::App& app, Action* action) {
  auto db = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto repair = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("verify", "Check the catalog and every stored array");
  AddDbFlag(cmd, db.get());
  cmd->add_flag("--json", *json, "Print the report as JSON");
  cmd->add_flag("--repair", *repair, "Remove leftovers of unacknowledged writes (never items)");
  cmd->callback([=] { *action = [=] { return RunVerify(*db, *repair, *json); }; });
}

void RegisterExportScan(CLI::App& app, Action* action) {
  auto db = std::make_shared<std::string>();
  auto id = std::make_shared<long long>(0);
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("export-scan", "Write a stored 3D scan as an X3P file");
  cmd->add_option("id", *id, "Item id")->required();
  cmd->add_option("out", *out, "Output .x3p file")->required();
  AddDbFlag(cmd, db.get());
  cmd->callback([=] { *action = [=] { return RunExportScan(*db, *id, *out); }; });
}

}  // namespace toolmark::cli
