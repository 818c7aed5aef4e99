// toolmark compare A B: two scans, or two bullets (folders of land scans, or
// --bullet-a/--bullet-b lists of files).
//
// Bullets: every land of A against every land of B with the land comparator
// (ExtractLandSignature → CompareLandSignatures → LandScore), then
// CompareBullets over the lands' positions (their order: files sorted by name
// with numbers compared as numbers, or the order given). Two single scans:
// the comparator chosen by --comparator, or by kind (bullet lands: "land",
// anything else: "cmc"); --kind auto takes a scan at least twice as long
// across (x) as along (y) for a land.
//
// Likelihood ratio: the score's log10 LR under the calibration for the
// comparator and level (--calibration FILE, else the shipped
// DefaultCalibration; docs/calibration.md): cmc → the item score at "pair"
// level, two single lands → the land score at "pair" level, bullets → the
// bullet score at "bullet" level, only when both bullets have every land
// (the bullet calibration is fitted on complete bullets). Otherwise null /
// "not calibrated" with the reason.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli_common.h"
#include "likelihood.h"
#include "toolmark/engine/breech_face.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/version.h"
#include "toolmark/eval/calibration_file.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"
#include "toolmark/review/comparison_json.h"
#include "toolmark/review/plots.h"

namespace toolmark::cli {
using eval::CalibrationSummaryJson;
using eval::ChooseCalibration;
using eval::ChosenCalibration;
using eval::FormatLr;
using eval::ReadCalibrationFile;
using review::MatchedLandPlot;
using review::WriteBulletPng;
using review::WriteCmcPng;
namespace fs = std::filesystem;
namespace {

struct CompareArgs {
  std::string a, b;
  std::vector<std::string> bullet_a, bullet_b;
  std::optional<Kind> kind;  ///< none: auto
  std::string comparator;
  std::string png;
  std::string calibration;  ///< a calibration file; empty: the comparator's default
  int lands = 0;
  bool json = false;
  bool signatures = false;
  ReadFlags read;
  std::string orientation_a, orientation_b;  ///< per side, over --orientation
};

/// "land10" after "land9": digit runs compare as numbers.
bool NaturalLess(const std::string& x, const std::string& y) {
  std::size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (std::isdigit(static_cast<unsigned char>(x[i])) && std::isdigit(static_cast<unsigned char>(y[j]))) {
      std::size_t ie = i, je = j;
      while (ie < x.size() && std::isdigit(static_cast<unsigned char>(x[ie]))) ++ie;
      while (je < y.size() && std::isdigit(static_cast<unsigned char>(y[je]))) ++je;
      const std::string nx = x.substr(i, ie - i), ny = y.substr(j, je - j);
      const std::string tx = nx.substr(std::min(nx.find_first_not_of('0'), nx.size()));
      const std::string ty = ny.substr(std::min(ny.find_first_not_of('0'), ny.size()));
      if (tx.size() != ty.size()) return tx.size() < ty.size();
      if (tx != ty) return tx < ty;
      i = ie, j = je;
      continue;
    }
    if (x[i] != y[j]) return x[i] < y[j];
    ++i, ++j;
  }
  return x.size() - i < y.size() - j;
}

std::vector<std::string> LandFiles(const std::string& folder) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.is_regular_file() && ingest::IsScanFileName(entry.path().string()))
      files.push_back(entry.path().string());
  }
  if (ec) throw Error(folder + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end(), NaturalLess);
  if (files.empty()) throw Error(folder + ": no scan files (x3p, png, tif, jpg, ply, pcd) in this folder");
  return files;
}

/// A land: its file, signature and intake quality.
struct Land {
  std::string file;
  LandSignature signature;
  ingest::ScanQuality quality;
};

std::vector<Land> ReadLands(const std::vector<std::string>& files, const ReadFlags& read,
                            const std::string& orientation) {
  std::vector<Land> lands;
  for (const std::string& f : files) {
    ingest::Intake in = TakeInFile(f, Kind::kBullet, read, orientation);
    try {
      lands.push_back({f, ExtractLandSignature(in.surface), std::move(in.quality)});
    } catch (const Error& e) {
      throw Error(f + ": " + e.what());
    }
  }
  return lands;
}

/// What makes a comparison weaker, one sentence each ("A: …", "B land 3: …").
std::vector<std::string> QualityWarnings(const std::string& who, const ingest::ScanQuality& q) {
  std::vector<std::string> out;
  for (const auto& f : q.findings)
    if (f.severity == ingest::Severity::kWarning) out.push_back(who + ": " + f.message);
  return out;
}

/// The lands' orientations agree when every one is settled, or every one
/// is the same assumption (one lab's instrument): then a mirror the data
/// cannot see mirrors both sides alike. Otherwise one warning saying so.
std::vector<std::string> OrientationWarnings(const std::vector<const ingest::ScanQuality*>& all) {
  std::set<std::string> assumed;
  bool settled = false;
  for (const auto* q : all) {
    if (q->orientation.empty()) continue;
    if (q->orientation_settled)
      settled = true;
    else
      assumed.insert(q->orientation);
  }
  if (assumed.empty() || (!settled && assumed.size() == 1)) return {};
  return {
      "orientations differ in how sure they are: a scan whose orientation was assumed may be mirrored "
      "across the land relative to the others, and a mirrored land does not match (state --orientation)"};
}

nlohmann::json SignatureJson(const Land& land, bool with_values) {
  nlohmann::json j = review::LandSignatureJson(land.signature, with_values);
  j["file"] = land.file;
  j["quality"] = ingest::QualityJson(land.quality);
  j["orientation"] = j["quality"].contains("orientation") ? j["quality"]["orientation"] : nlohmann::json();
  return j;
}

std::string BaseName(const std::string& path) { return fs::path(path).filename().string(); }

void PrintWarnings(const std::vector<std::string>& warnings) {
  if (warnings.empty()) {
    std::printf("quality: good (no warnings on either scan)\n");
    return;
  }
  std::printf("quality: WEAK comparison (%zu warning%s):\n", warnings.size(),
              warnings.size() == 1 ? "" : "s");
  for (const std::string& w : warnings) std::printf("  warning: %s\n", w.c_str());
}

/// Land positions around the bullet (0-based): the last number in each file
/// name minus one when every name has one, all distinct and in 1…64 (e.g.
/// "…-land3.x3p"), so that missing lands leave their gap; otherwise the order
/// given. *from_names says which.
std::vector<int> Positions(const std::vector<Land>& lands, bool* from_names) {
  std::vector<std::string> files;
  for (const Land& land : lands) files.push_back(land.file);
  std::vector<int> out = LandPositionsFromNames(files);
  *from_names = out.size() == lands.size();
  if (*from_names) return out;
  out.clear();
  for (std::size_t i = 0; i < lands.size(); ++i) out.push_back(static_cast<int>(i));
  return out;
}

/// Every land's quality warnings ("A", or "A land3.x3p" among several), then the orientations'.
std::vector<std::string> BulletWarnings(const std::vector<Land>& a, const std::vector<Land>& b) {
  std::vector<std::string> warnings;
  std::vector<const ingest::ScanQuality*> qualities;
  for (const auto& [side, lands] : {std::pair{"A", &a}, std::pair{"B", &b}})
    for (const Land& l : *lands) {
      const std::string who =
          lands->size() == 1 ? std::string(side) : std::string(side) + " " + BaseName(l.file);
      for (std::string& w : QualityWarnings(who, l.quality)) warnings.push_back(std::move(w));
      qualities.push_back(&l.quality);
    }
  for (std::string& w : OrientationWarnings(qualities)) warnings.push_back(std::move(w));
  return warnings;
}

/// Two bullets' lands compared: every land of A against every land of B, then over their positions.
struct BulletLands {
  std::vector<std::vector<LandFeatures>> features;  ///< [land of A][land of B]
  std::vector<std::vector<double>> scores;          ///< [land of A][land of B]
  bool named_a = false, named_b = false;            ///< positions from the file names, else the order
  std::vector<int> pos_a, pos_b;
  int lands = 0;  ///< around the bullet
  BulletComparison bc;
};

/// The land scores of every pair of lands and the bullets compared over `lands` positions (0: the largest).
BulletLands CompareBulletLands(const std::vector<Land>& a, const std::vector<Land>& b, int lands) {
  BulletLands r;
  std::vector<LandSignature> sa, sb;
  for (const Land& l : a) sa.push_back(l.signature);
  for (const Land& l : b) sb.push_back(l.signature);
  r.features = CompareLandSignatureSets(sa, sb);
  r.scores.assign(a.size(), std::vector<double>(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j) r.scores[i][j] = LandScore(r.features[i][j]);
  r.pos_a = Positions(a, &r.named_a);
  r.pos_b = Positions(b, &r.named_b);
  const int largest = std::max(*std::max_element(r.pos_a.begin(), r.pos_a.end()),
                               *std::max_element(r.pos_b.begin(), r.pos_b.end()));
  r.lands = lands > 0 ? lands : largest + 1;
  Check(r.lands > largest, "--lands " + std::to_string(r.lands) +
                               " is fewer than the land positions given (" + std::to_string(largest + 1) +
                               ")");
  r.bc = CompareBullets(r.scores, r.pos_a, r.pos_b, r.lands);
  return r;
}

/// The bullet score's LR: two single lands at "pair" level, else at "bullet" level for complete bullets only.
Likelihood BulletLikelihood(const CompareArgs& args, std::size_t lands_a, std::size_t lands_b,
                            const BulletLands& r) {
  const bool single = lands_a == 1 && lands_b == 1;
  const bool complete =
      lands_a == static_cast<std::size_t>(r.lands) && lands_b == static_cast<std::size_t>(r.lands);
  return LikelihoodOf(args.calibration, "land", single ? "pair" : "bullet", r.bc.bullet_score,
                      single || complete ? ""
                                         : "the bullet calibration is for complete bullets; A has " +
                                               std::to_string(lands_a) + " and B " + std::to_string(lands_b) +
                                               " of " + std::to_string(r.lands) + " lands");
}

/// The --png plot: the matched lands' aligned signatures and the score matrix.
void WriteBulletPlot(const std::string& png, const std::vector<Land>& a, const std::vector<Land>& b,
                     const BulletLands& r) {
  std::vector<MatchedLandPlot> plots;
  for (const auto& [i, j] : r.bc.matched) {
    plots.push_back({BaseName(a[static_cast<std::size_t>(i)].file),
                     BaseName(b[static_cast<std::size_t>(j)].file), &a[static_cast<std::size_t>(i)].signature,
                     &b[static_cast<std::size_t>(j)].signature,
                     r.features[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)],
                     r.scores[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)]});
  }
  std::vector<std::string> labels_a, labels_b;
  for (int p : r.pos_a) labels_a.push_back("A" + std::to_string(p + 1));
  for (int p : r.pos_b) labels_b.push_back("B" + std::to_string(p + 1));
  WriteBulletPng(png, plots, r.bc, labels_a, labels_b);
}

/// The bullet comparison as JSON (ARCHITECTURE.md fields).
void PrintBulletJson(const CompareArgs& args, const std::vector<Land>& a, const std::vector<Land>& b,
                     const BulletLands& r, const Likelihood& lr, const std::vector<std::string>& warnings) {
  const BulletComparison& bc = r.bc;
  // ARCHITECTURE.md: phase = the land of B matched to land 1 of A (land
  // numbers = positions + 1); null when B has no scan at that position.
  const int b_for_a1 = bc.phase % r.lands;
  const bool b_for_a1_given = std::find(r.pos_b.begin(), r.pos_b.end(), b_for_a1) != r.pos_b.end();
  const bool single = a.size() == 1 && b.size() == 1;
  nlohmann::json j = {{"comparator", "land"},
                      {"kind", single ? "land" : "bullet"},
                      {"score", bc.bullet_score},
                      {"bullet_score", bc.bullet_score},
                      {"phase", b_for_a1_given ? nlohmann::json(b_for_a1 + 1) : nlohmann::json()},
                      {"phase_offset", bc.phase},
                      {"lands", r.lands},
                      {"phase_means", nlohmann::json::array()},
                      {"phase_gap", bc.phase_gap},
                      {"phase_t", bc.phase_t},
                      {"land_scores", r.scores},
                      {"quality", warnings.empty() ? "good" : "weak"},
                      {"warnings", warnings},
                      {"version", Version()}};
  lr.AddTo(&j);
  for (double m : bc.phase_means)
    j["phase_means"].push_back(std::isfinite(m) ? nlohmann::json(m) : nlohmann::json());
  for (std::size_t i = 0; i < a.size(); ++i) {
    j["lands_a"].push_back(SignatureJson(a[i], args.signatures));
    j["lands_a"].back()["land"] = r.pos_a[i] + 1;
  }
  for (std::size_t k = 0; k < b.size(); ++k) {
    j["lands_b"].push_back(SignatureJson(b[k], args.signatures));
    j["lands_b"].back()["land"] = r.pos_b[k] + 1;
  }

  j["land_numbers_from"] = {r.named_a ? "file names" : "order", r.named_b ? "file names" : "order"};
  j["matched"] = nlohmann::json::array();
  for (const auto& [i, k] : bc.matched) {
    nlohmann::json m = {{"a", i + 1},
                        {"b", k + 1},
                        {"score", r.scores[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)]}};
    m["features"] =
        review::LandFeaturesJson(r.features[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)]);
    j["matched"].push_back(m);
  }
  if (!args.png.empty()) j["png"] = args.png;
  std::cout << j.dump(2) << "\n";
}

/// "  (turned upright from …)" after a land not stored upright, "" otherwise.
std::string OrientationRemark(const Land& l) {
  if (l.quality.orientation.empty() || l.quality.orientation == "upright") return std::string();
  return "  (turned upright from " + l.quality.orientation +
         (l.quality.orientation_settled ? ")" : ", assumed)");
}

/// The land scores as a matrix, rows the lands of A, with the chosen phase's pairs starred.
void PrintLandScoreMatrix(const BulletLands& r) {
  std::printf("land scores (rows: lands of A, columns: lands of B; * = chosen phase):\n      ");
  for (std::size_t j = 0; j < r.pos_b.size(); ++j) std::printf("   B%-4d", r.pos_b[j] + 1);
  std::printf("\n");
  for (std::size_t i = 0; i < r.pos_a.size(); ++i) {
    std::printf("  A%-3d", r.pos_a[i] + 1);
    for (std::size_t j = 0; j < r.pos_b.size(); ++j) {
      const bool on = r.pos_b[j] == (r.pos_a[i] + r.bc.phase) % r.lands;
      std::printf("  %5.3f%s", r.scores[i][j], on ? "*" : " ");
    }
    std::printf("\n");
  }
}

/// The bullet comparison as text: the lands, their scores, the phase, the LR and the matched lands.
void PrintBulletText(const CompareArgs& args, const std::vector<Land>& a, const std::vector<Land>& b,
                     const BulletLands& r, const Likelihood& lr, const std::vector<std::string>& warnings) {
  const BulletComparison& bc = r.bc;
  std::printf("bullet A: %zu lands, bullet B: %zu lands, %d lands around the bullet\n", a.size(), b.size(),
              r.lands);
  std::printf("land numbers from %s (A), %s (B)\n", r.named_a ? "the file names" : "the order given",
              r.named_b ? "the file names" : "the order given");
  for (std::size_t i = 0; i < a.size(); ++i)
    std::printf("  A%d  %s%s\n", r.pos_a[i] + 1, a[i].file.c_str(), OrientationRemark(a[i]).c_str());
  for (std::size_t j = 0; j < b.size(); ++j)
    std::printf("  B%d  %s%s\n", r.pos_b[j] + 1, b[j].file.c_str(), OrientationRemark(b[j]).c_str());
  PrintLandScoreMatrix(r);
  std::printf(
      "phase: A land k <-> B land k%+d (mod %d), B land %d matches A land 1; sequence averages by phase:",
      bc.phase, r.lands, bc.phase + 1);
  for (double m : bc.phase_means) std::printf(" %s", std::isfinite(m) ? Num(m).c_str() : "-");
  std::printf("\nbullet score %.4f  (best phase - mean of other phases: %.4f, Welch t %.2f)\n",
              bc.bullet_score, bc.phase_gap, bc.phase_t);
  lr.Print();
  for (const auto& [i, k] : bc.matched) {
    const LandFeatures& f = r.features[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)];
    std::printf(
        "  A%d <-> B%d  score %.3f  ccf %.3f  cms %d  matches %.1f/mm  overlap %.0f um  lag %.1f um\n",
        r.pos_a[static_cast<std::size_t>(i)] + 1, r.pos_b[static_cast<std::size_t>(k)] + 1,
        r.scores[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)], f.ccf, static_cast<int>(f.cms),
        f.matches_per_mm, f.overlap_um, f.lag_um);
  }
  PrintWarnings(warnings);
  if (!args.png.empty()) std::printf("plot: %s\n", args.png.c_str());
}

int RunBullets(const CompareArgs& args, const std::vector<std::string>& files_a,
               const std::vector<std::string>& files_b) {
  const std::vector<Land> a = ReadLands(files_a, args.read, args.orientation_a);
  const std::vector<Land> b = ReadLands(files_b, args.read, args.orientation_b);
  const std::vector<std::string> warnings = BulletWarnings(a, b);
  const BulletLands r = CompareBulletLands(a, b, args.lands);
  const Likelihood lr = BulletLikelihood(args, a.size(), b.size(), r);
  if (!args.png.empty()) WriteBulletPlot(args.png, a, b, r);
  if (args.json) {
    PrintBulletJson(args, a, b, r, lr, warnings);
    return 0;
  }
  PrintBulletText(args, a, b, r, lr, warnings);
  return 0;
}

/// Breech faces with the CMC comparator: the full result (cells, both directions).
int RunCmc(const CompareArgs& args, const Surface& sa, const Surface& sb, const std::string& kind,
           const std::vector<std::string>& warnings, const nlohmann::json& quality) {
  const CmcOptions options;
  const CartridgeCase ca = PrepareCartridgeCase(sa, options), cb = PrepareCartridgeCase(sb, options);
  const BreechFace &a = ca.face, &b = cb.face;
  const CmcResult r = CompareCartridgeCases(ca, cb, options);
  const FiringPinComparison& fp = r.firing_pin;
  const bool two_d = sa.kind == SurfaceKind::kIntensity;
  // A k-of-n calibration reads the CMC count of the cells both directions
  // could compare, a combined one the features, by name.
  const std::vector<std::pair<const char*, double>> details = CmcDetails(r);
  const Likelihood lr = LikelihoodOf(args.calibration, "cmc", "pair", r.score, "", details);
  if (!args.png.empty()) WriteCmcPng(args.png, a, b, r);
  if (args.json) {
    nlohmann::json j = {{"comparator", "cmc"},
                        {"kind", kind},
                        {"score", r.score},
                        {"cmc_count", r.count},
                        {"identification", r.identification},
                        {"decision_threshold", options.decision_threshold},
                        {"rotation_deg", r.forward.rotation_deg},
                        {"translation_um", {r.forward.shift_x_um, r.forward.shift_y_um}},
                        {"surfaces", two_d ? "2D intensity (compared with 2D only)" : "3D height"},
                        {"forward", review::CmcDirectionJson(r.forward)},
                        {"backward", review::CmcDirectionJson(r.backward)},
                        {"quality", warnings.empty() ? "good" : "weak"},
                        {"warnings", warnings},
                        {"scan_quality", quality},
                        {"version", Version()}};
    nlohmann::json pin = review::FiringPinComparisonJson(fp);
    j["firing_pin"] = pin;
    j["features"] = nlohmann::json::object();  // the numbers behind the score (docs/cmc.md)
    for (const auto& [name, value] : details)
      j["features"][name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
    lr.AddTo(&j);
    j["roi"] = {{"a", review::CartridgeRoiJson(ca)}, {"b", review::CartridgeRoiJson(cb)}};
    if (!args.png.empty()) j["png"] = args.png;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s vs %s (%s, comparator cmc)\n", args.a.c_str(), args.b.c_str(),
              two_d ? "2D intensity images, compared with 2D only" : "3D height maps");
  std::printf("breech face: CMC count %d (A in B: %d of %d cells, B in A: %d of %d)\n", r.count,
              r.forward.count, r.forward.cells_used, r.backward.count, r.backward.cells_used);
  if (fp.compared)
    std::printf(
        "firing pin: %d of %d sectors congruent with the breech face's rotation (ccf %.2f at %.1f deg)\n",
        fp.congruent_sectors, fp.sectors_used, fp.ccf, fp.rotation_deg);
  else
    std::printf("firing pin: not compared (%s)\n", fp.note.c_str());
  const CmcFeatures& f = r.features;
  std::printf(
      "behind the score: %d of %d cells congruent; surface correlation %.3f at their common registration "
      "(spread %.0f um, directions %.1f deg apart); cells' median ccf %.3f, congruent cells' mean %.3f\n",
      r.count, r.CellsCompared(), f.surface_ccf, f.fit_rms_um, f.rotation_disagreement_deg, f.cell_ccf_median,
      f.congruent_ccf_mean);
  std::printf("score %d: %s at C = %d\n", r.score, r.identification ? "identification" : "no identification",
              options.decision_threshold);
  std::printf("registration: B rotated %.1f deg, translated (%.0f, %.0f) um onto A\n", r.forward.rotation_deg,
              r.forward.shift_x_um, r.forward.shift_y_um);
  lr.Print();
  PrintWarnings(warnings);
  if (!args.png.empty()) std::printf("plot: %s\n", args.png.c_str());
  return 0;
}

int RunPair(const CompareArgs& args) {
  std::optional<ingest::Scan> a, b;
  {
    QuietStderr quiet;
    a = ingest::ReadScan(args.a, args.read.Options());
    b = ingest::ReadScan(args.b, args.read.Options());
  }
  Check(a->surface.kind == b->surface.kind,
        "a height map (3D) and an intensity image (2D) cannot be compared: compare 3D with 3D, 2D with 2D");
  const Kind item_kind = args.kind.value_or(
      LooksLikeLand(a->surface) && LooksLikeLand(b->surface) ? Kind::kBullet : Kind::kCartridgeCase);
  const std::string kind = item_kind == Kind::kBullet ? "land" : KindName(item_kind);  // as compared
  const std::string name = !args.comparator.empty() ? args.comparator : DefaultComparator(item_kind).name;
  // Shown the way the comparator presents its comparisons (engine/registry.h).
  const Presentation shown = ComparatorNamed(name).presentation;
  if (shown == Presentation::kLandSignatures) return RunBullets(args, {args.a}, {args.b});
  // Cartridge cases (and other comparators): taken in as they are.
  const ingest::Intake ia = TakeInFile(args.a, item_kind, args.read, args.orientation_a);
  const ingest::Intake ib = TakeInFile(args.b, item_kind, args.read, args.orientation_b);
  std::vector<std::string> warnings = QualityWarnings("A", ia.quality);
  for (std::string& w : QualityWarnings("B", ib.quality)) warnings.push_back(std::move(w));
  const nlohmann::json quality = {{"a", ingest::QualityJson(ia.quality)},
                                  {"b", ingest::QualityJson(ib.quality)}};
  a->surface = ia.surface;
  b->surface = ib.surface;
  if (shown == Presentation::kCongruentCells)
    return RunCmc(args, a->surface, b->surface, kind, warnings, quality);
  Check(args.png.empty(),
        "--png draws the land and cmc comparisons; the " + name + " comparator has no plot");
  const auto comparator = MakeComparator(name);
  const auto pa = comparator->Prepare(a->surface);
  const auto pb = comparator->Prepare(b->surface);
  const Comparison c = comparator->Compare(*pa, *pb);
  const bool two_d = a->surface.kind == SurfaceKind::kIntensity;
  const Likelihood lr = LikelihoodOf(args.calibration, name, "pair", c.score, "", c.details);
  if (args.json) {
    nlohmann::json j = {{"comparator", name},
                        {"kind", kind},
                        {"score", c.score},
                        {"rotation_deg", c.rotation_deg},
                        {"translation_um", {c.shift_x_um, c.shift_y_um}},
                        {"overlap_fraction", c.overlap_fraction},
                        {"surfaces", two_d ? "2D intensity" : "3D height"},
                        {"quality", warnings.empty() ? "good" : "weak"},
                        {"warnings", warnings},
                        {"scan_quality", quality},
                        {"version", Version()}};
    for (const auto& [key, value] : c.details) j["details"][key] = value;
    lr.AddTo(&j);
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s vs %s (%s, comparator %s)\n", args.a.c_str(), args.b.c_str(),
              two_d ? "2D intensity images" : "3D height maps", name.c_str());
  std::printf("score %.4f  rotation %.2f deg  translation (%.1f, %.1f) um  overlap %.2f\n", c.score,
              c.rotation_deg, c.shift_x_um, c.shift_y_um, c.overlap_fraction);
  for (const auto& [key, value] : c.details) std::printf("  %s %s\n", key, Num(value).c_str());
  lr.Print();
  PrintWarnings(warnings);
  return 0;
}

int RunCompare(const CompareArgs& args) {
  if (!args.calibration.empty()) ReadCalibrationFile(args.calibration);  // a bad file fails before any work
  if (!args.bullet_a.empty() || !args.bullet_b.empty()) {
    Check(!args.bullet_a.empty() && !args.bullet_b.empty(), "give both --bullet-a and --bullet-b");
    Check(args.a.empty() && args.b.empty(),
          "give either two scans/folders or --bullet-a/--bullet-b, not both");
    return RunBullets(args, args.bullet_a, args.bullet_b);
  }
  Check(!args.a.empty() && !args.b.empty(),
        "give two scans, two folders of land scans, or --bullet-a/--bullet-b");
  std::error_code ec;
  const bool dir_a = fs::is_directory(args.a, ec), dir_b = fs::is_directory(args.b, ec);
  Check(dir_a == dir_b, "compare two scans or two folders (bullets), not one of each");
  if (dir_a) return RunBullets(args, LandFiles(args.a), LandFiles(args.b));
  return RunPair(args);
}

}  // namespace

void RegisterCompare(CLI::App& app, Action* action) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare two scans, or two bullets (folders of land scans): scores, alignment, plot");
  cmd->add_option("a", args->a, "Scan file, or folder of one bullet's land scans");
  cmd->add_option("b", args->b, "Scan file, or folder of the other bullet's land scans");
  cmd->add_option("--bullet-a", args->bullet_a, "Land scans of bullet A, in order around the bullet")
      ->delimiter(',');
  cmd->add_option("--bullet-b", args->bullet_b, "Land scans of bullet B, in order around the bullet")
      ->delimiter(',');
  AddKindFlag(cmd, &args->kind, "auto, land (bullet), or cartridge_case", {"auto", true});
  cmd->add_option("--comparator", args->comparator, "Comparator for two single scans (see eval --help)");
  cmd->add_option("--lands", args->lands, "Lands around the bullet (default: the larger land count given)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--png", args->png,
                  "Write a plot: aligned signatures of the matched lands and the score matrix");
  cmd->add_flag("--json", args->json, "Print JSON (ARCHITECTURE.md fields)");
  cmd->add_option("--calibration", args->calibration,
                  "Calibration file from `toolmark calibrate` for the likelihood ratio "
                  "(default: the comparator's shipped one)");
  cmd->add_flag("--signatures", args->signatures,
                "With --json: include each land's signature and form-removed profile (µm, null = missing)");
  args->read.Add(cmd);
  cmd->add_option("--orientation-a", args->orientation_a,
                  "How A's land scans are stored (over --orientation)")
      ->check(CLI::IsMember(OrientationNames()));
  cmd->add_option("--orientation-b", args->orientation_b,
                  "How B's land scans are stored (over --orientation)")
      ->check(CLI::IsMember(OrientationNames()));
  cmd->callback([args, action] { *action = [args] { return RunCompare(*args); }; });
}

}  // namespace toolmark::cli
