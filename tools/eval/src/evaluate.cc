// Evaluation (toolmark eval): accuracy of a comparator on a dataset with
// ground truth (truth.csv, see datasets/README.md) or on a synthetic set.
//
// Levels: cartridge cases (and anything that is not a bullet land) are scored
// pair by pair ("pair" level, KM = same firearm; only scans of the same `mark`
// are compared). Bullet lands are scored land by land ("land" level, KM = same
// non-empty `land_id`; skipped with a note when truth.csv has no land_id column) and
// bullet by bullet ("bullet" level, KM = same firearm): lands are grouped by
// the `bullet` column and ordered by `land`; the bullet score is the best
// cyclic sequence average (see BulletScore).
//
// Ground truth (firearm, land_id) only labels pairs; the comparator sees
// nothing but the surfaces.
//
// Sampling: when a level has more candidate pairs than --max-pairs, every KM
// pair is kept and the KNM pairs are a uniform sample without replacement of
// size max-pairs − KM (or max-pairs if KM alone exceed it), drawn by
// selection sampling (Knuth's Algorithm S) over the KNM pairs in enumeration
// order (i < j, row-major) with std::mt19937_64 seeded with kSampleSeed. The
// sample is the same on every run and thread count. Ranks are then computed
// over the sampled pairs only. Bullet level samples bullet pairs; the land
// scores it needs are computed in addition to the land level's pairs.
//
// Determinism: each pair's score is computed independently and stored by
// pair index; nothing is accumulated across threads.
//
// Calibration (docs/calibration.md): each level's scores are mapped to log10
// LRs by the calibration for its comparator and level (--calibration FILE
// where it fits, else the shipped DefaultCalibration) and Cllr is reported
// with that calibration's set; min Cllr (PAV on the level's own pairs) always.
// Without a calibration, Cllr is "not calibrated" (null). EvaluateSynthetic
// runs the same levels on synthetic scans made in memory (toolmark calibrate).
//
// Refused scans: a scan that cannot be read or is refused at intake is left
// out with every pair it was in; each level of its kind lists it and counts
// the candidate pairs (and known matches) that cost (docs/evaluation.md).
#include "toolmark/eval/evaluate.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "levels.h"
#include "pairs.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/registry.h"
#include "toolmark/engine/synth.h"
#include "toolmark/ingest/manifest.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace toolmark::eval {
namespace fs = std::filesystem;
using namespace detail;  // NOLINT(build/namespaces): the library's own private parts

namespace {

/// "1 scan", "3 scans".
std::string Count(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::string FirstError(const std::vector<std::string>& errors) {
  for (const std::string& e : errors)
    if (!e.empty()) return e;
  return "";
}

/// A dataset's scans as read and taken in: entries, prepared marks (null
/// where refused), each scan's quality and its refusal ("" when taken).
struct ReadSet {
  Context all;
  std::vector<ingest::ScanQuality> quality;
  std::vector<std::string> errors;
};

/// Reads every scan of a truth.csv with its row's overrides (xy_unit,
/// z_unit, spacing_um, orientation) and takes it in as its kind (lands
/// turned upright), then prepares it with its comparator.
ReadSet ReadDataset(const std::string& dataset, const ingest::Manifest& manifest, const EvalOptions& options,
                    const ingest::ReadOptions& read, const Comparator& areal, const Comparator& land) {
  ReadSet set;
  set.all.options = &options;
  set.all.dataset = dataset;
  set.all.entries = ReadEntries(manifest, (fs::path(dataset) / "truth.csv").string());
  const std::vector<Entry>& entries = set.all.entries;
  std::vector<const Comparator*> per_scan;
  for (const Entry& e : entries) per_scan.push_back(e.is_land ? &land : &areal);
  set.quality.resize(entries.size());
  const LoadScan load = [&](std::size_t i, std::string* name) {
    *name = (fs::path(dataset) / entries[i].file).string();
    const ingest::RowOverrides own = ingest::ApplyRowOverrides(&manifest.rows[i], read, options.orientation);
    const ingest::Scan scan = ingest::ReadScan(*name, own.read);
    ingest::IntakeOptions intake;
    intake.kind = entries[i].is_land ? Kind::kBullet : Kind::kCartridgeCase;
    intake.orientation = own.orientation;
    intake.orientation_source = own.orientation_source;
    ingest::Intake in = ingest::TakeIn(scan.surface, intake);
    set.quality[i] = std::move(in.quality);  // each i is written by one task only
    return std::move(in.surface);
  };
  set.all.prepared = PrepareAll(entries.size(), load, per_scan, "reading", &set.errors);
  return set;
}

/// What a level must say about the scans of its kind: refused ones and the
/// pairs they cost, weak ones, unsettled and turned orientations.
void Annotate(EvalLevel* lv, const ReadSet& set, const std::vector<std::size_t>& kept,
              const std::vector<SkippedScan>& skipped, std::pair<std::size_t, std::size_t> before,
              std::pair<std::size_t, std::size_t> after) {
  const bool land_level = lv->level != "pair";
  lv->skipped = skipped;
  lv->skipped_pairs = before.first - after.first;
  lv->skipped_km_pairs = before.second - after.second;
  if (!lv->skipped.empty())
    lv->notes.push_back(Count(lv->skipped.size(), "scan") + " refused and left out with " +
                        Count(lv->skipped_pairs, "candidate pair") + " (" +
                        std::to_string(lv->skipped_km_pairs) +
                        " known match): the metrics are over the rest only; see skipped_files");
  for (std::size_t i : kept) {
    const Entry& e = set.all.entries[i];
    if (e.is_land != land_level) continue;
    const ingest::ScanQuality& q = set.quality[i];
    if (q.Warnings() > 0) ++lv->weak_scans;
    if (!q.orientation_settled) lv->orientation_unsettled.push_back(e.file);
    if (!q.orientation.empty() && q.orientation != "upright") lv->turned.emplace_back(e.file, q.orientation);
  }
  if (!lv->orientation_unsettled.empty())
    lv->notes.push_back("orientation not settled for " + Count(lv->orientation_unsettled.size(), "scan") +
                        " (see orientation_unsettled): a profile mirrored across the land does not match; "
                        "state --orientation or a truth.csv 'orientation' column");
  if (!lv->turned.empty())
    lv->notes.push_back(Count(lv->turned.size(), "scan") +
                        " turned upright (striae along x as stored; see turned_upright)");
}

}  // namespace

std::vector<EvalLevel> EvaluateDataset(const std::string& dataset, const EvalOptions& options,
                                       const ingest::ReadOptions& read, std::vector<SkippedScan>* refused) {
  const fs::path truth = fs::path(dataset) / "truth.csv";
  std::error_code ec;
  if (!fs::is_regular_file(truth, ec)) throw Error(dataset + ": no truth.csv (see datasets/README.md)");
  const ingest::Manifest manifest = ingest::ReadManifest(truth.string());
  const auto has = [&](const char* c) {
    return std::find(manifest.columns.begin(), manifest.columns.end(), c) != manifest.columns.end();
  };
  const std::vector<Entry> entries = ReadEntries(manifest, truth.string());
  std::size_t lands = 0;
  for (const Entry& e : entries) lands += e.is_land ? 1 : 0;
  if (entries.size() < 2) throw Error(dataset + ": fewer than two scans in truth.csv");
  if (lands >= 2 && !has("land_id") && !has("bullet"))
    throw Error(dataset + ": truth.csv has bullet lands but neither land_id nor bullet columns");
  const auto areal_cmp = MakeComparator(
      options.comparator.empty() ? DefaultComparator(Kind::kCartridgeCase).name : options.comparator);
  const auto land_cmp =
      MakeComparator(options.comparator.empty() ? DefaultComparator(Kind::kBullet).name : options.comparator);
  const ReadSet set = ReadDataset(dataset, manifest, options, read, *areal_cmp, *land_cmp);
  // Refused scans are left out with every pair they were in.
  Context usable;
  usable.options = &options;
  usable.dataset = dataset;
  std::vector<std::size_t> kept;
  std::vector<SkippedScan> skipped_areal, skipped_lands, all_refused;
  for (std::size_t i = 0; i < set.all.entries.size(); ++i) {
    const Entry& e = set.all.entries[i];
    if (set.errors[i].empty()) {
      kept.push_back(i);
      usable.entries.push_back(e);
      usable.prepared.push_back(set.all.prepared[i]);
      continue;
    }
    const SkippedScan k{e.file, ingest::ColumnHint(set.errors[i])};
    (e.is_land ? skipped_lands : skipped_areal).push_back(k);
    all_refused.push_back(k);
  }
  if (refused) *refused = all_refused;
  if (usable.entries.size() < 2)
    throw Error(dataset + ": fewer than two usable scans" +
                (all_refused.empty() ? "" : " (first refused: " + FirstError(set.errors) + ")"));
  std::vector<EvalLevel> levels = RunLevels(usable, *areal_cmp, *land_cmp, has("land_id"), has("bullet"));
  const LevelCounts before = CountCandidates(set.all.entries, has("land_id"), has("bullet"));
  const LevelCounts after = CountCandidates(usable.entries, has("land_id"), has("bullet"));
  for (EvalLevel& lv : levels) {
    Annotate(&lv, set, kept, lv.level == "pair" ? skipped_areal : skipped_lands, before.Of(lv.level),
             after.Of(lv.level));
    if (lv.level == "bullet" && !skipped_lands.empty())
      lv.notes.push_back("bullets with a refused land are compared without it (and get no likelihood ratio)");
  }
  return levels;
}

std::vector<EvalLevel> EvaluateSynthetic(const SynthOptions& synth, const EvalOptions& options,
                                         const std::string& name) {
  synth.Check();
  const bool bullets = synth.kind == Kind::kBullet;
  const auto cmp = MakeComparator(
      !options.comparator.empty() ? options.comparator
                                  : DefaultComparator(bullets ? Kind::kBullet : Kind::kCartridgeCase).name);
  Context ctx;
  ctx.options = &options;
  ctx.dataset = name;
  const auto n = static_cast<std::size_t>(SynthScanCount(synth));
  ctx.entries.resize(n);
  const LoadScan load = [&](std::size_t i, std::string* file) {
    SynthScan scan = GenerateSynthScan(synth, static_cast<int>(i));
    Entry& e = ctx.entries[i];  // each i is written by one task only
    e.file = *file = scan.file;
    e.firearm = scan.firearm;
    e.mark = Join(MarkNames(scan.marks), ";");
    e.bullet = scan.bullet;
    e.land_id = scan.land_id;
    e.land = scan.land;
    e.is_land = bullets;
    return std::move(scan.surface);
  };
  ctx.prepared = PrepareEvery(n, load, std::vector<const Comparator*>(n, cmp.get()), "synthetic " + name);
  return RunLevels(ctx, *cmp, *cmp, bullets, bullets);
}

}  // namespace toolmark::eval
