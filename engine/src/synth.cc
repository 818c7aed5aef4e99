#include "toolmark/engine/synth.h"

#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "synth_internal.h"
#include "toolmark/engine/check.h"

namespace toolmark {
namespace synth {

std::uint64_t Random::Next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Random::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
double Random::Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
int Random::Index(int n) { return static_cast<int>(Next() % static_cast<std::uint64_t>(n)); }

double Random::Normal() {
  const double u1 = 1.0 - Uniform(), u2 = Uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::uint64_t SeedOf(std::uint64_t base, const std::string& label, std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = base ^ 0xcbf29ce484222325ULL;
  for (char c : label) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  Random mix(h ^ (a * 0x9E3779B97F4A7C15ULL) ^ (b * 0xC2B2AE3D27D4EB4FULL));
  return mix.Next();
}

namespace {

void Normalise(cv::Mat& m) {
  cv::Scalar mean, sd;
  cv::meanStdDev(m, mean, sd);
  m = (m - mean[0]) / std::max(sd[0], 1e-12);
}

void Blur(cv::Mat& m, double sx, double sy) {
  if (sx <= 0.3 && sy <= 0.3) return;
  cv::GaussianBlur(m, m, cv::Size(0, 0), std::max(sx, 0.3), std::max(sy, 0.3), cv::BORDER_REFLECT);
}

}  // namespace

cv::Mat SmoothNoise(int rows, int cols, double scale_x_cells, double scale_y_cells, Random& rng) {
  // Wide filters run on a coarser grid (about 3 cells per sigma) and are
  // interpolated back: the same kind of field at a fraction of the cost.
  const int fx = std::max(1, static_cast<int>(scale_x_cells / 3)),
            fy = std::max(1, static_cast<int>(scale_y_cells / 3));
  const int r = rows / fy + 2, c = cols / fx + 2;
  cv::Mat m(r, c, CV_64FC1);
  for (int i = 0; i < r * c; ++i) m.ptr<double>(0)[i] = rng.Normal();
  Blur(m, scale_x_cells / fx, scale_y_cells / fy);
  if (fx > 1 || fy > 1) cv::resize(m, m, cv::Size(c * fx, r * fy), 0, 0, cv::INTER_LINEAR);
  m = m(cv::Rect(0, 0, cols, rows)).clone();
  Normalise(m);
  return m;
}

cv::Mat SmoothNoise(int rows, int cols, double scale_cells, Random& rng) {
  return SmoothNoise(rows, cols, scale_cells, scale_cells, rng);
}

cv::Mat SmoothNoise1d(int n, double scale_cells, Random& rng) {
  cv::Mat m(1, n, CV_64FC1);
  for (int i = 0; i < n; ++i) m.ptr<double>(0)[i] = rng.Normal();
  Blur(m, scale_cells, 0.0);
  Normalise(m);
  return m;
}

cv::Mat MultiScale(int rows, int cols, double spacing_um, const double* scales_um, const double* amps_um,
                   int count, Random& rng) {
  cv::Mat sum = cv::Mat::zeros(rows, cols, CV_64FC1);
  for (int i = 0; i < count; ++i) sum += amps_um[i] * SmoothNoise(rows, cols, scales_um[i] / spacing_um, rng);
  return sum;
}

SynthScan NewScan(int firearm, Kind kind, std::vector<Mark> marks, cv::Mat heights_um, double spacing_um,
                  std::uint64_t seed) {
  char label[32];
  std::snprintf(label, sizeof label, "f%04d", firearm);
  SynthScan scan;
  scan.firearm = label;
  scan.kind = kind;
  scan.marks = std::move(marks);
  scan.surface.values = std::move(heights_um);
  scan.surface.spacing_x_um = scan.surface.spacing_y_um = spacing_um;
  scan.surface.meta.creator = "toolmark synth";
  scan.surface.meta.comment = std::string("synthetic ") + KindName(kind) + ", seed " + std::to_string(seed);
  return scan;
}

Preset PresetFor(SynthDifficulty d) {
  switch (d) {
    case SynthDifficulty::kEasy:
      return {0.3, 0.1, 1.0, 0.03, 0.9, 0.01, 100, 0.05, 2, 0.3};
    case SynthDifficulty::kRealistic:
      return {0.6, 0.35, 0.6, 0.08, 0.55, 0.05, 250, 0.2, 6, 1.5};
    case SynthDifficulty::kHard:
      return {0.8, 0.5, 0.4, 0.15, 0.35, 0.12, 400, 0.4, 10, 3.0};
  }
  return PresetFor(SynthDifficulty::kRealistic);
}

}  // namespace synth

SynthDifficulty ParseSynthDifficulty(const std::string& text) {
  if (text == "easy") return SynthDifficulty::kEasy;
  if (text == "realistic") return SynthDifficulty::kRealistic;
  if (text == "hard") return SynthDifficulty::kHard;
  Fail("unknown difficulty '" + text + "' (easy, realistic or hard)");
}

void SynthOptions::Check() const {
  toolmark::Check(kind == Kind::kCartridgeCase || kind == Kind::kBullet,
                  "synth kind must be cartridge_case or bullet");
  toolmark::Check(firearms >= 1 && firearms <= 100000, "firearms must be 1..100000");
  toolmark::Check(per_firearm >= 1 && per_firearm <= 1000, "per-firearm must be 1..1000");
  toolmark::Check(size == 0 || (size >= 32 && size <= 4096), "size must be 32..4096 points");
  toolmark::Check(lands >= 3 && lands <= 16, "lands must be 3..16");
  CheckedMul(CheckedMul(static_cast<std::size_t>(firearms), static_cast<std::size_t>(per_firearm), "scans"),
             static_cast<std::size_t>(kind == Kind::kBullet ? lands : 1), "scans");
}

int SynthScanCount(const SynthOptions& o) {
  o.Check();
  return o.firearms * o.per_firearm * (o.kind == Kind::kBullet ? o.lands : 1);
}

SynthScan GenerateSynthScan(const SynthOptions& o, int index) {
  Check(index >= 0 && index < SynthScanCount(o), "synth scan index out of range");
  if (o.kind == Kind::kCartridgeCase)
    return synth::GenerateCartridgeCase(o, index / o.per_firearm, index % o.per_firearm);
  const int per_bullet = o.lands;
  const int bullet_index = index / per_bullet;
  return synth::GenerateBulletLand(o, bullet_index / o.per_firearm, bullet_index % o.per_firearm,
                                   index % per_bullet);
}

}  // namespace toolmark
