// Pieces shared by the toolmark subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "toolmark/base/terminal.h"
#include "toolmark/engine/orientation.h"
#include "toolmark/index/database.h"
#include "toolmark/index/review.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/read_options.h"
#include "toolmark/review/json.h"

namespace toolmark::cli {

/// A registered subcommand's action; returns the exit status.
using Action = std::function<int()>;

/// Flags that control how scan files are read (all subcommands that read scans).
struct ReadFlags {
  bool ignore_checksum = false;
  double spacing_um = 0;
  std::string xy_unit, z_unit;
  std::string orientation;  ///< how bullet land scans are stored ("" : measured from the data)
  void Add(CLI::App* app);
  ingest::ReadOptions Options() const;
  /// --orientation, parsed; none when not given.
  std::optional<toolmark::Orientation> StatedOrientation() const;
};

/// Adds --db (default: $TOOLMARK_DB or ./toolmark-db).
void AddDbFlag(CLI::App* app, std::string* db);

/// Adds --config FILE: a TOML or INI file of the command's long options
/// (`port = 8443`, `tls-cert = "/etc/…"`, at the top or under [command]);
/// the command line wins over the file. Call ApplyConfigFile in the callback.
void AddConfigFlag(CLI::App* app, std::string* path);
/// Sets every option the file names and the command line did not; throws
/// toolmark::Error (one line) for an unreadable file, an unknown setting or
/// a bad value.
void ApplyConfigFile(CLI::App* app, const std::string& path);

/// Prints "toolmark: <message>" on stderr.
void PrintError(const std::string& message);

using base::Progress;
using base::QuietStderr;
using review::ItemQuality;
using review::QualityRemark;

/// Reads a scan file and takes it in as `kind` (none: detected; bullet
/// lands turned upright), with --orientation or, when given, `orientation`
/// (a name) for bullet lands; throws "<file>: <reason>" when it cannot be
/// read or is refused.
ingest::Intake TakeInFile(const std::string& file, std::optional<Kind> kind, const ReadFlags& read,
                          const std::string& orientation = "");

/// What a --kind flag accepts besides the kinds (KindNames()).
struct KindWords {
  const char* unset = nullptr;  ///< leaves the kind unset: "auto" (detect) or "all"
  bool land = false;            ///< "land" for bullet (a bullet's land scan)
};
/// --kind, parsed once into `kind` (KindOf); the choices are the kinds and `words`.
CLI::Option* AddKindFlag(CLI::App* cmd, std::optional<Kind>* kind, const std::string& help,
                         KindWords words = {});

/// The list/JSON view of an item (ARCHITECTURE.md field names), with its
/// intake quality and orientation.
nlohmann::json ItemJson(const index::ItemRecord& item);
/// A bullet land scan in any orientation (LooksLikeLandScan of its measured
/// striae direction); anything else looks like a cartridge case (--kind auto).
bool LooksLikeLand(const Surface& s);

/// Land positions (0-based) from file names: the last number of each file's
/// stem minus one, when every name has one, all distinct and in 1…64 (e.g.
/// "…-land3.x3p"); empty otherwise.
std::vector<int> LandPositionsFromNames(const std::vector<std::string>& files);

/// Short number formatting for tables ("%.6g").
std::string Num(double v);

/// Batch-correlates every item of the database not correlated yet, recording
/// and printing the hit lists (toolmark correlate --top top); exit status.
int CorrelateDatabase(const std::string& db, std::size_t top);

/// Prints the database's items (table or JSON); returns the exit status.
int RunList(const std::string& folder, bool json);

// Subcommand registration; each returns the action run when it is chosen.
void RegisterInfo(CLI::App& app, Action* action);
void RegisterIngest(CLI::App& app, Action* action);
void RegisterList(CLI::App& app, Action* action);
void RegisterVerify(CLI::App& app, Action* action);
void RegisterCatalog(CLI::App& app, Action* action);  // init, migrate
void RegisterExportScan(CLI::App& app, Action* action);
void RegisterDemo(CLI::App& app, Action* action);
void RegisterSynth(CLI::App& app, Action* action);
void RegisterEval(CLI::App& app, Action* action);
void RegisterCalibrate(CLI::App& app, Action* action);
void RegisterTrainLand(CLI::App& app, Action* action);
void RegisterCompare(CLI::App& app, Action* action);
void RegisterSearch(CLI::App& app, Action* action);
void RegisterCorrelate(CLI::App& app, Action* action);
void RegisterExtract(CLI::App& app, Action* action);
void RegisterBench(CLI::App& app, Action* action);
void RegisterReview(CLI::App& app, Action* action);  // hits, review, links
void RegisterServe(CLI::App& app, Action* action);
/// Runs the review server until SIGINT/SIGTERM (toolmark serve).
int RunServer(const std::string& db, const std::string& host, int port);
void RegisterReport(CLI::App& app, Action* action);
void RegisterExchange(CLI::App& app, Action* action);  // keys, users, share, export, import

/// The clusters of linked items as text (toolmark links, demo).
void PrintClusters(const std::vector<index::Cluster>& clusters,
                   const std::map<index::ItemId, index::ItemRecord>& items);

}  // namespace toolmark::cli
