// Building blocks of the synthetic generator. Private to engine.
#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>

#include "toolmark/engine/synth.h"

namespace toolmark::synth {

/// Deterministic random numbers from an explicit 64-bit state (splitmix64),
/// identical on every platform and standard library.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next();
  double Uniform();                      ///< [0, 1)
  double Uniform(double lo, double hi);  ///< [lo, hi)
  double Normal();                       ///< standard normal (Box–Muller)
  int Index(int n);                      ///< 0 … n-1

 private:
  std::uint64_t state_;
};

/// A seed derived from the set's seed and a path of labels and numbers.
std::uint64_t SeedOf(std::uint64_t base, const std::string& label, std::uint64_t a = 0, std::uint64_t b = 0);

/// White Gaussian noise low-passed with a Gaussian of `scale_cells`, rescaled
/// to unit standard deviation (CV_64F, rows × cols).
cv::Mat SmoothNoise(int rows, int cols, double scale_cells, Random& rng);
/// Anisotropic: scales along x (columns) and y (rows) in cells.
cv::Mat SmoothNoise(int rows, int cols, double scale_x_cells, double scale_y_cells, Random& rng);
/// Same in 1D (1 × n).
cv::Mat SmoothNoise1d(int n, double scale_cells, Random& rng);

/// Sum of SmoothNoise at several scales (µm) with amplitudes (µm), on a grid
/// of `spacing_um`.
cv::Mat MultiScale(int rows, int cols, double spacing_um, const double* scales_um, const double* amps_um,
                   int count, Random& rng);

/// Parameters that the difficulty presets scale (documented in datasets/synthetic.md).
struct Preset {
  double class_amp_um;       ///< class marks (model-wide machining pattern)
  double subclass_amp_um;    ///< subclass marks (shared by consecutive firearms)
  double individual_amp_um;  ///< individual marks
  double noise_um;           ///< measurement noise, per point
  double contact_min;        ///< lowest contact / transfer fraction of a shot
  double dropout_fraction;   ///< area lost to dropouts
  double max_shift_um;       ///< per-shot translation (cartridge) / lateral shift (bullet)
  double max_tilt_deg;
  double blur_um;  ///< largest primer / jacket smoothing of fine detail
  double form_um;  ///< bullets: form error / deformation of the land (smooth, 100–500 µm scales)
};
Preset PresetFor(SynthDifficulty difficulty);

/// The start of a scan's record: firearm label ("f0042"), kind, mark, and the
/// surface (µm heights, square spacing) with generator metadata.
SynthScan NewScan(int firearm, Kind kind, std::vector<Mark> marks, cv::Mat heights_um, double spacing_um,
                  std::uint64_t seed);

SynthScan GenerateCartridgeCase(const SynthOptions& options, int firearm, int shot);
SynthScan GenerateBulletLand(const SynthOptions& options, int firearm, int bullet, int land);

}  // namespace toolmark::synth
