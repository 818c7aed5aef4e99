// toolmark list, toolmark verify, toolmark export-scan: look at the database.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::cli {
namespace {

/// Prints rows as left-aligned columns, each as wide as its widest cell.
void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
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
  std::vector<std::vector<std::string>> rows = {
      {"id", "case", "item", "jurisdiction", "kind", "role", "marks", "size", "file", "quality"}};
  for (const auto& it : items) {
    rows.push_back({std::to_string(it.id), it.case_id, it.item_label, it.jurisdiction, KindName(it.kind),
                    it.role, Join(MarkNames(it.marks)),
                    std::to_string(it.size_x) + "x" + std::to_string(it.size_y), it.file,
                    QualityRemark(ItemQuality(it))});
  }
  PrintTable(rows);
  std::printf("%zu items\n", items.size());
  return 0;
}

namespace {

int RunVerify(const std::string& folder, bool repair, bool json) {
  auto db = index::Database::Open(folder, false);
  const index::VerifyReport r = db->Verify(repair);
  if (json) {
    std::cout << nlohmann::json{{"ok", r.ok()},
                                {"items", r.items},
                                {"problems", r.problems},
                                {"leftovers", r.leftovers},
                                {"repaired", repair}}
                     .dump(2)
              << "\n";
  } else {
    for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
    for (const auto& l : r.leftovers) {
      std::printf(
          "%s: %s\n",
          repair ? "removed leftover" : "leftover (from an unacknowledged write; --repair removes it)",
          l.c_str());
    }
    std::printf("%s: %zu items, %zu problems, %zu leftovers: %s\n", folder.c_str(), r.items,
                r.problems.size(), r.leftovers.size(), r.ok() ? "OK" : "DAMAGED");
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
    Fail("item " + std::to_string(id) +
         ": a 2D image (intensity), not a height map; X3P export is for 3D scans");
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
