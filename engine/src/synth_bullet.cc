// Synthetic bullets: one scan per land engraved area.
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "synth_internal.h"

namespace toolmark::synth {
namespace {

constexpr int kBarrelsPerModel = 10;         ///< consecutively rifled barrels of one model
constexpr int kBarrelsPerSubclassBlock = 3;  ///< consecutive barrels sharing broach wear
constexpr double kGrooveUm = 180;            ///< groove engraved area scanned beside the land, each side
constexpr double kShoulderUm = 80;           ///< height of the groove shoulders
constexpr double kBulletRadiusUm = 4500;     ///< 9 mm bullet
constexpr double kLengthUm = 600;            ///< scanned length along the bullet axis
constexpr double kProfileCellUm = 0.5;       ///< resolution of the barrel's land profiles

/// Class characteristics of a barrel model: land width and striae angle (twist).
struct ModelClass {
  double land_width_um, striae_slope;
};

ModelClass ClassOf(std::uint64_t seed, int model) {
  Random rng(SeedOf(seed, "rifling", static_cast<std::uint64_t>(model)));
  const double twist = model % 2 ? 1.0 : -1.0;  // right / left
  return {rng.Uniform(1800, 2200), twist * std::tan(rng.Uniform(0.5, 2.0) * M_PI / 180)};
}

/// The striation profile a barrel's land engraves, across the land (1 × n, µm).
cv::Mat LandProfile(const SynthOptions& o, const Preset& p, int firearm, int land, int n) {
  const int model = firearm / kBarrelsPerModel;
  const int block = (firearm % kBarrelsPerModel) / kBarrelsPerSubclassBlock;
  Random sub(SeedOf(o.seed, "broach", static_cast<std::uint64_t>(model * 1000 + block),
                    static_cast<std::uint64_t>(land)));
  Random ind(SeedOf(o.seed, "land", static_cast<std::uint64_t>(firearm), static_cast<std::uint64_t>(land)));
  cv::Mat profile = p.subclass_amp_um * SmoothNoise1d(n, 20 / kProfileCellUm, sub);
  const double scales[] = {3, 10, 35, 90}, amps[] = {0.5, 0.45, 0.35, 0.3};
  for (int i = 0; i < 4; ++i)
    profile += amps[i] * p.individual_amp_um * SmoothNoise1d(n, scales[i] / kProfileCellUm, ind);
  return profile;
}

double ProfileAt(const cv::Mat& profile, double u_um) {
  const double t = std::clamp(u_um / kProfileCellUm, 0.0, static_cast<double>(profile.cols - 1));
  const int i = std::min(static_cast<int>(t), profile.cols - 2);
  const double f = t - i;
  return (1 - f) * profile.at<double>(0, i) + f * profile.at<double>(0, i + 1);
}

struct Shot {
  double shift_um, scale, contact, blur_um, tilt, spacing_um;
  int start_land;
};

Shot DrawShot(const Preset& p, SynthDifficulty d, double nominal_spacing, int lands, Random& rng) {
  static const double kInstruments[] = {1.0, 0.8, 1.25};
  Shot s{};
  s.shift_um = rng.Uniform(-0.3, 0.3) * p.max_shift_um;
  s.scale = 1 + rng.Uniform(-0.01, 0.01);
  s.contact = rng.Uniform(p.contact_min, 1.0);
  s.blur_um = rng.Uniform(0, p.blur_um / 3);
  s.tilt = std::tan(rng.Uniform(-p.max_tilt_deg, p.max_tilt_deg) * M_PI / 180);
  s.spacing_um = nominal_spacing * (d == SynthDifficulty::kEasy ? 1.0 : kInstruments[rng.Index(3)]);
  s.start_land = rng.Index(lands);
  return s;
}

/// Height of the bullet surface (µm) at x across the land (0 = land centre).
double Form(double x, double half_width) {
  double z = std::sqrt(kBulletRadiusUm * kBulletRadiusUm - x * x) - kBulletRadiusUm;
  const double outside = std::abs(x) - half_width;
  if (outside > 0) z += kShoulderUm * std::min(1.0, outside / 40);  // groove shoulder
  return z;
}

}  // namespace

SynthScan GenerateBulletLand(const SynthOptions& o, int firearm, int bullet, int land) {
  const Preset p = PresetFor(o.difficulty);
  const ModelClass cls = ClassOf(o.seed, firearm / kBarrelsPerModel);
  const double scanned = cls.land_width_um + 2 * kGrooveUm;
  const int nominal_points = o.size > 0 ? o.size : 768;
  Random rng(
      SeedOf(o.seed, "bullet", static_cast<std::uint64_t>(firearm), static_cast<std::uint64_t>(bullet)));
  const Shot s = DrawShot(p, o.difficulty, 2400.0 / nominal_points, o.lands, rng);
  const int barrel_land = (s.start_land + land) % o.lands;
  const cv::Mat profile = LandProfile(
      o, p, firearm, barrel_land, static_cast<int>((scanned + 2 * p.max_shift_um + 200) / kProfileCellUm));
  Random noise(SeedOf(o.seed, "land-scan", static_cast<std::uint64_t>(firearm * 1000 + bullet),
                      static_cast<std::uint64_t>(land)));
  const int cols = static_cast<int>(scanned / s.spacing_um),
            rows = static_cast<int>(kLengthUm / s.spacing_um);
  const cv::Mat contact = SmoothNoise(rows, cols, 300 / s.spacing_um, noise);
  const cv::Mat dropouts = SmoothNoise(rows, cols, 25 / s.spacing_um, noise);
  // Form error: the bullet is not a perfect cylinder (deformation on impact,
  // uneven engraving depth); smooth across the land, slower along it.
  const cv::Mat form_error =
      p.form_um * SmoothNoise(rows, cols, 120 / s.spacing_um, 400 / s.spacing_um, noise);
  const double damage_at = noise.Uniform(0, scanned),
               damage_width = noise.Uniform(0, 4) * p.dropout_fraction * scanned;
  const double dropout_cut = 2.2 - 3.0 * p.dropout_fraction;
  cv::Mat z(rows, cols, CV_64FC1);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const double x = c * s.spacing_um - scanned / 2, y = r * s.spacing_um;
      const double u = (x * s.scale + s.shift_um + cls.striae_slope * y) + scanned / 2 + p.max_shift_um + 100;
      const double w = std::clamp(s.contact + 0.2 * contact.at<double>(r, c), 0.0, 1.0);
      double v = Form(x, cls.land_width_um / 2) + form_error.at<double>(r, c) + w * ProfileAt(profile, u) +
                 s.tilt * y + p.noise_um * noise.Normal();
      const bool damaged = std::abs(x + scanned / 2 - damage_at) < damage_width / 2;
      if (damaged || dropouts.at<double>(r, c) > dropout_cut) v = std::numeric_limits<double>::quiet_NaN();
      z.at<double>(r, c) = v;
    }
  }
  if (s.blur_um > 0.5) {  // jacket material smooths the finest striae (NaN-free copy, then restore holes)
    cv::Mat filled = z.clone(), holes = z != z;
    filled.setTo(0, holes);
    cv::GaussianBlur(filled, filled, cv::Size(0, 0), s.blur_um / s.spacing_um, 0.3);
    filled.setTo(std::numeric_limits<double>::quiet_NaN(), holes);
    z = filled;
  }
  SynthScan scan = NewScan(firearm, Kind::kBullet, {{MarkType::kLand}}, z, s.spacing_um, o.seed);
  scan.bullet = scan.firearm + "-b" + std::to_string(bullet + 1);
  scan.land = land + 1;
  scan.land_id = scan.firearm + "-L" + std::to_string(barrel_land + 1);
  scan.file = "bu-" + scan.bullet + "-l" + std::to_string(land + 1) + ".x3p";
  return scan;
}

}  // namespace toolmark::synth
