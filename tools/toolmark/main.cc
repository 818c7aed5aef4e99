// toolmark: the command-line interface (see ARCHITECTURE.md, command-line contract).
#include <cstdio>
#include <new>

#include "cli_common.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"

int main(int argc, char** argv) {
  using namespace toolmark::cli;
  CLI::App app{"Toolmark: forensic toolmark comparison engine", "toolmark"};
  app.set_version_flag("--version", toolmark::Version());
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "toolmark: " + toolmark::OneLine(e.what()) + " (see --help)\n";
  });
  Action action;
  RegisterInfo(app, &action);
  RegisterIngest(app, &action);
  RegisterList(app, &action);
  RegisterVerify(app, &action);
  RegisterCatalog(app, &action);
  RegisterExportScan(app, &action);
  RegisterCompare(app, &action);
  RegisterSearch(app, &action);
  RegisterCorrelate(app, &action);
  RegisterExtract(app, &action);
  RegisterBench(app, &action);
  RegisterDemo(app, &action);
  RegisterSynth(app, &action);
  RegisterEval(app, &action);
  RegisterCalibrate(app, &action);
  RegisterTrainLand(app, &action);
  RegisterReview(app, &action);
  RegisterServe(app, &action);
  RegisterReport(app, &action);
  RegisterExchange(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const toolmark::Error& e) {  // a flag's value parsed into a typed value (KindOf, MarksOf)
    PrintError(e.what());
    return 1;
  }
  try {
    return action ? action() : 2;
  } catch (const toolmark::Error& e) {
    PrintError(e.what());
  } catch (const std::bad_alloc&) {
    PrintError("out of memory");
  } catch (const std::exception& e) {
    PrintError(toolmark::OneLine(std::string("unexpected error: ") + e.what()));
  }
  return 1;
}
