// Bullet land benchmarks (issue 5 speed targets), on the real Hamby 44 scans
// of ../shared/datasets (skipped with a message when absent):
//   BM_LandSignature   — one 1515×422 land scan → its signature (one core)
//   BM_LandPrepare     — the "land" comparator's Prepare: signature, spectra,
//                        striae and embedding
//   BM_LandCompare     — one land-to-land comparison of prepared lands (one core)
//   BM_LandEmbedding   — the embedding of a signature
//   BM_LandScreenScore — the screening score of two lands' codes (one query
//                        against many candidates, as a search screens)
//   BM_StriaeDirection — the orientation measurement of one land scan (intake)
//   BM_LandIntake/preprocess — TakeIn of one land scan: orientation, findings
//                        (0: without, 1: with the signature's groove check)
//   BM_HambySizeComparison/threads — 10,800 land pairs (the 15 × 20-bullet
//                        Hamby comparison size: 15 questioned × 20 known bullets
//                        × 36 land pairs) with 1 and 2 TBB threads
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/orientation.h"
#include "toolmark/ingest/quality.h"
#include "toolmark/ingest/scan.h"

namespace {
namespace fs = std::filesystem;

std::string HambyLand(int bullet, int land) {
  const char* env = std::getenv("TOOLMARK_DATASETS");
  const std::string root = env ? env : TOOLMARK_DATASETS_DIR;
  return root + "/hamby44/hamby44-barrel1-bullet" + std::to_string(bullet) + "-land" + std::to_string(land) +
         ".x3p";
}

/// The 12 barrel-1 lands, read once; empty when the dataset is absent.
const std::vector<toolmark::Surface>& Lands() {
  static const std::vector<toolmark::Surface> lands = [] {
    std::vector<toolmark::Surface> out;
    for (int b = 1; b <= 2; ++b) {
      for (int l = 1; l <= 6; ++l) {
        const std::string path = HambyLand(b, l);
        if (!fs::exists(path)) return std::vector<toolmark::Surface>{};
        out.push_back(toolmark::ingest::ReadScan(path, {}).surface);
      }
    }
    return out;
  }();
  return lands;
}

bool Skip(benchmark::State& state) {
  if (!Lands().empty()) return false;
  state.SkipWithError(("missing " + HambyLand(1, 1)).c_str());
  return true;
}

void BM_LandSignature(benchmark::State& state) {
  if (Skip(state)) return;
  const toolmark::Surface& s = Lands()[0];
  for (auto _ : state) benchmark::DoNotOptimize(toolmark::ExtractLandSignature(s).values.data());
  state.SetLabel(std::to_string(s.values.cols) + "x" + std::to_string(s.values.rows));
}

void BM_LandPrepare(benchmark::State& state) {
  if (Skip(state)) return;
  const auto land = toolmark::MakeComparator("land");
  for (auto _ : state) benchmark::DoNotOptimize(land->Prepare(Lands()[0]));
}

std::vector<std::shared_ptr<const toolmark::PreparedMark>> PreparedLands(const toolmark::Comparator& land) {
  std::vector<std::shared_ptr<const toolmark::PreparedMark>> out;
  for (const toolmark::Surface& s : Lands()) out.push_back(land.Prepare(s));
  return out;
}

void BM_LandCompare(benchmark::State& state) {
  if (Skip(state)) return;
  const auto land = toolmark::MakeComparator("land");
  const auto marks = PreparedLands(*land);
  std::size_t k = 0;
  for (auto _ : state) {
    const std::size_t a = k % marks.size(), b = (k / marks.size() + a + 1) % marks.size();
    benchmark::DoNotOptimize(land->Compare(*marks[a], *marks[b]).score);
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_LandScreenScore(benchmark::State& state) {
  if (Skip(state)) return;
  const auto land = toolmark::MakeComparator("land");
  std::vector<std::vector<float>> codes;
  for (const auto& m : PreparedLands(*land)) codes.push_back(land->ScreenFeaturesOf(*m));
  std::size_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(land->ScreenScore(codes[0], codes[1 + k % (codes.size() - 1)]));
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["code_bytes"] = static_cast<double>(codes[0].size() * sizeof(float));
}

void BM_LandEmbedding(benchmark::State& state) {
  if (Skip(state)) return;
  const toolmark::LandSignature s = toolmark::ExtractLandSignature(Lands()[0]);
  for (auto _ : state) benchmark::DoNotOptimize(toolmark::LandEmbedding(s).data());
}

void BM_StriaeDirection(benchmark::State& state) {
  if (Skip(state)) return;
  for (auto _ : state) benchmark::DoNotOptimize(toolmark::MeasureStriaeDirection(Lands()[0]).support);
}

void BM_LandIntake(benchmark::State& state) {
  if (Skip(state)) return;
  toolmark::ingest::IntakeOptions o;
  o.kind = toolmark::Kind::kBullet;
  o.preprocess = state.range(0) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(toolmark::ingest::TakeIn(Lands()[0], o).quality.Warnings());
}

void BM_HambySizeComparison(benchmark::State& state) {
  if (Skip(state)) return;
  constexpr std::size_t kPairs = 15 * 20 * 36;  // 10,800
  const auto land = toolmark::MakeComparator("land");
  const auto marks = PreparedLands(*land);
  std::vector<double> scores(kPairs);
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    tbb::parallel_for(std::size_t{0}, kPairs, [&](std::size_t k) {
      const std::size_t a = k % 6, b = 6 + (k / 6) % 6;
      scores[k] = land->Compare(*marks[a], *marks[b]).score;
    });
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kPairs));
}

}  // namespace

BENCHMARK(BM_LandSignature)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LandPrepare)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LandCompare)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LandScreenScore)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LandEmbedding)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StriaeDirection)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LandIntake)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HambySizeComparison)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
