// toolmark report HIT|CASE --out FILE: a self-contained HTML (or PDF)
// report of one hit or one case (the review library, toolmark/review/report.h).
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/review/report.h"

namespace toolmark::cli {
namespace {

struct ReportArgs {
  std::string db, what, out;
  bool as_case = false, as_hit = false;
};

int RunReport(const ReportArgs& args) {
  Check(!(args.as_case && args.as_hit), "report: give --case or --hit, not both");
  auto db = index::Database::Open(args.db, false);
  const bool numeric = !args.what.empty() && args.what.find_first_not_of("0123456789") == std::string::npos &&
                       args.what.size() < 19;
  bool hit = args.as_hit || (!args.as_case && numeric && db->Hit(std::stoll(args.what)).has_value());
  if (args.as_hit) Check(numeric, "report: hit '" + args.what + "' is not a number");
  const std::string html = hit ? review::HitReport(*db, std::stoll(args.what), args.db)
                               : review::CaseReport(*db, args.what, args.db);
  review::WriteReport(html, args.out);
  std::printf("report: %s\n", args.out.c_str());
  return 0;
}

}  // namespace

void RegisterReport(CLI::App& app, Action* action) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "A self-contained HTML (or PDF) report of a hit or a case: images, plots, scores, decisions");
  AddDbFlag(cmd, &args->db);
  cmd->add_option("what", args->what, "Hit id or case id")->required();
  cmd->add_option("--out", args->out, "Output file (.html, or .pdf via headless Chromium)")->required();
  cmd->add_flag("--case", args->as_case, "WHAT is a case id (even if it is a number)");
  cmd->add_flag("--hit", args->as_hit, "WHAT is a hit id");
  cmd->callback([args, action] { *action = [args] { return RunReport(*args); }; });
}

}  // namespace toolmark::cli
