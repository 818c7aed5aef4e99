// Cartridge-case (CMC) benchmarks on the real Fadul scans of
// ../shared/datasets (skipped with a message when absent):
//   BM_CmcPrepare        — one Fadul scan: breech-face preprocessing and the
//                          coarse-registration grid (one core)
//   BM_CmcCompare/<deg>  — one Fadul known-match pair, both directions, with
//                          rotations searched over ±deg (180: the full circle,
//                          the default; 30: cmcR's usual range), one core
//   BM_CmcCoarse         — the coarse full-circle registration alone
//   BM_CartridgeIntake/preprocess — TakeIn of one Fadul scan (intake: striae
//                          direction, findings; 1: with the breech-face and
//                          firing-pin checks), one core
// The comparator's stages on two shots of one synthetic firearm (seed 7,
// <points>² points; 128: the size `toolmark bench` uses), one core:
//   BM_SynthCmcCompare/<points>    — Compare of two prepared marks (the
//                          search's fine stage)
//   BM_SynthCmcQuickMark/<points>  — QuickMark from stored quick features
//   BM_SynthCmcQuickScore/<points> — QuickScore of two quick marks (the
//                          search's re-rank)
//   BM_SynthCmcScreenScore/<points> — ScreenScore of two screening codes (the
//                          search's screening, thousands a query; the first
//                          code is the same on every call, as a query's is)
//   BM_SynthCmcScreenFeatures/<points> — ScreenFeatures from stored quick
//                          features (once an item)
// Firing-pin impressions (toolmark/engine/firing_pin.h) on synthetic cartridge
// cases (toolmark::synth, seed 7, easy: the nominal spacing), one core:
//   BM_FiringPinExtract/<points> — ExtractFiringPin of one scan of <points>²
//                          (256: the synthetic default, 14.1 µm; 545: 6.6 µm,
//                          the size of a Fadul scan), breech face given
//   BM_FiringPinCompare/<points> — CompareFiringPins of two shots of one firearm
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "toolmark/engine/cmc.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/firing_pin.h"
#include "toolmark/engine/synth.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace {
namespace fs = std::filesystem;

std::string Fadul(const std::string& name) {
  const char* env = std::getenv("TOOLMARK_DATASETS");
  return std::string(env ? env : TOOLMARK_DATASETS_DIR) + "/fadul/" + name;
}

bool Missing(benchmark::State& state) {
  if (fs::exists(Fadul("fadul-1-1.x3p"))) return false;
  state.SkipWithError(("missing " + Fadul("fadul-1-1.x3p")).c_str());
  return true;
}

void BM_CmcPrepare(benchmark::State& state) {
  if (Missing(state)) return;
  const toolmark::Surface s = toolmark::ingest::ReadScan(Fadul("fadul-1-1.x3p"), {}).surface;
  const auto cmc = toolmark::MakeComparator("cmc");
  for (auto _ : state) benchmark::DoNotOptimize(cmc->Prepare(s));
}

void BM_CartridgeIntake(benchmark::State& state) {
  if (Missing(state)) return;
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const toolmark::Surface s = toolmark::ingest::ReadScan(Fadul("fadul-1-1.x3p"), {}).surface;
  toolmark::ingest::IntakeOptions o;
  o.kind = toolmark::Kind::kCartridgeCase;
  o.preprocess = state.range(0) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(toolmark::ingest::TakeIn(s, o).quality.Warnings());
}

void BM_CmcCompare(benchmark::State& state) {
  if (Missing(state)) return;
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  toolmark::CmcOptions o;
  o.max_rotation_deg = static_cast<double>(state.range(0));
  if (state.range(0) < 180) o.coarse_candidates = 3;
  toolmark::BreechFaceOptions bo;
  bo.spacing_um = o.spacing_um;
  const toolmark::BreechFace a =
      toolmark::PreprocessBreechFace(toolmark::ingest::ReadScan(Fadul("fadul-1-1.x3p"), {}).surface, bo);
  const toolmark::BreechFace b =
      toolmark::PreprocessBreechFace(toolmark::ingest::ReadScan(Fadul("fadul-1-2.x3p"), {}).surface, bo);
  int count = 0;
  for (auto _ : state) count = toolmark::CompareCmc(a, b, o).count;
  state.counters["cmc"] = count;
}

/// Shot `shot` of synthetic firearm 0 with <points>² points and its breech face.
struct PinScan {
  toolmark::Surface scan;
  toolmark::BreechFace face;
};

PinScan SynthPinScan(int points, int shot) {
  toolmark::SynthOptions o;
  o.seed = 7;
  o.firearms = 1;
  o.per_firearm = 2;
  o.size = points;
  o.difficulty = toolmark::SynthDifficulty::kEasy;
  PinScan p;
  p.scan = toolmark::GenerateSynthScan(o, shot).surface;
  p.face = toolmark::PreprocessBreechFace(p.scan);
  return p;
}

void BM_FiringPinExtract(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const PinScan p = SynthPinScan(static_cast<int>(state.range(0)), 0);
  bool present = false;
  for (auto _ : state) present = toolmark::ExtractFiringPin(p.scan, p.face).present;
  state.counters["present"] = present;
  state.counters["spacing_um"] = p.scan.spacing_x_um;
}

void BM_FiringPinCompare(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const PinScan a = SynthPinScan(static_cast<int>(state.range(0)), 0);
  const PinScan b = SynthPinScan(static_cast<int>(state.range(0)), 1);
  const toolmark::FiringPinImpression fa = toolmark::ExtractFiringPin(a.scan, a.face);
  const toolmark::FiringPinImpression fb = toolmark::ExtractFiringPin(b.scan, b.face);
  toolmark::FiringPinComparison c;
  for (auto _ : state) c = toolmark::CompareFiringPins(fa, fb, std::numeric_limits<double>::quiet_NaN());
  state.counters["ccf"] = c.ccf;
  state.counters["congruent"] = c.congruent_sectors;
}

/// Two prepared shots of synthetic firearm 0 (<points>²) and their quick marks.
struct SynthPair {
  std::unique_ptr<toolmark::Comparator> cmc = toolmark::MakeComparator("cmc");
  std::shared_ptr<const toolmark::PreparedMark> a, b, qa, qb;
  std::vector<float> features_b;
  explicit SynthPair(int points) {
    a = cmc->Prepare(SynthPinScan(points, 0).scan);
    b = cmc->Prepare(SynthPinScan(points, 1).scan);
    qa = cmc->QuickMark(cmc->QuickFeatures(*a));
    features_b = cmc->QuickFeatures(*b);
    qb = cmc->QuickMark(features_b);
  }
};

void BM_SynthCmcCompare(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const SynthPair p(static_cast<int>(state.range(0)));
  double score = 0;
  for (auto _ : state) score = p.cmc->Compare(*p.a, *p.b).score;
  state.counters["score"] = score;
}

void BM_SynthCmcQuickMark(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const SynthPair p(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(p.cmc->QuickMark(p.features_b));
}

void BM_SynthCmcQuickScore(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const SynthPair p(static_cast<int>(state.range(0)));
  double score = 0;
  for (auto _ : state) score = p.cmc->QuickScore(*p.qa, *p.qb);
  state.counters["quick"] = score;
}

void BM_SynthCmcScreenScore(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const SynthPair p(static_cast<int>(state.range(0)));
  const std::vector<float> a = p.cmc->ScreenFeatures(p.cmc->QuickFeatures(*p.a));
  const std::vector<float> b = p.cmc->ScreenFeatures(p.features_b);
  double score = 0;
  for (auto _ : state) score = p.cmc->ScreenScore(a, b);
  state.counters["screen"] = score;
  state.counters["code_bytes"] = static_cast<double>(b.size() * sizeof(float));
}

void BM_SynthCmcScreenFeatures(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const SynthPair p(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(p.cmc->ScreenFeatures(p.features_b));
}

}  // namespace

BENCHMARK(BM_SynthCmcCompare)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SynthCmcQuickMark)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SynthCmcQuickScore)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SynthCmcScreenScore)->Arg(128)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SynthCmcScreenFeatures)->Arg(128)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FiringPinExtract)->Arg(256)->Arg(545)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FiringPinCompare)->Arg(256)->Arg(545)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CmcPrepare)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CartridgeIntake)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CmcCompare)->Arg(180)->Arg(30)->Unit(benchmark::kMillisecond);
