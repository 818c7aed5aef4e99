// Synthetic cartridge cases: breech-face and firing-pin impressions.
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/imgproc.hpp>

#include "synth_internal.h"

namespace toolmark::synth {
namespace {

constexpr double kFieldUm = 3600;             ///< scanned field: the primer, 3.6 mm across
constexpr int kFirearmsPerModel = 10;         ///< consecutive firearms of one make and model
constexpr int kFirearmsPerSubclassBlock = 3;  ///< consecutive firearms sharing subclass marks
constexpr double kFiringPinDepthUm = 40;

/// Model-wide machining pattern: milling, turning or cross-hatch at a model pitch and direction.
cv::Mat ClassMarks(int cells, double cell_um, int model, std::uint64_t seed, double amp_um) {
  Random rng(SeedOf(seed, "class", static_cast<std::uint64_t>(model)));
  const int type = model % 3;
  const double pitch = rng.Uniform(80, 220), phi = rng.Uniform(0, M_PI);
  const double cx = rng.Uniform(-2000, 2000), cy = rng.Uniform(-2000, 2000);
  const cv::Mat wobble = SmoothNoise(cells, cells, 400 / cell_um, rng);
  cv::Mat out(cells, cells, CV_64FC1);
  for (int r = 0; r < cells; ++r) {
    for (int c = 0; c < cells; ++c) {
      const double x = (c - cells / 2) * cell_um, y = (r - cells / 2) * cell_um;
      const double w = 0.15 * pitch * wobble.at<double>(r, c);
      const double along = x * std::cos(phi) + y * std::sin(phi) + w;
      double v = type == 1 ? std::sin(2 * M_PI * (std::hypot(x - cx, y - cy) + w) / pitch)
                           : std::sin(2 * M_PI * along / pitch) + 0.3 * std::sin(4 * M_PI * along / pitch);
      if (type == 2) v += std::sin(2 * M_PI * (-x * std::sin(phi) + y * std::cos(phi) + w) / (1.3 * pitch));
      out.at<double>(r, c) = amp_um * v / (type == 2 ? 1.6 : 1.1);
    }
  }
  return out;
}

/// Tool-wear striations shared by a block of consecutively made firearms.
cv::Mat SubclassMarks(int cells, double cell_um, int model, int block, std::uint64_t seed, double amp_um) {
  Random rng(SeedOf(seed, "subclass", static_cast<std::uint64_t>(model), static_cast<std::uint64_t>(block)));
  cv::Mat m = SmoothNoise(cells, cells, 600 / cell_um, 12 / cell_um, rng);  // long striae
  const cv::Mat rot = cv::getRotationMatrix2D(
      cv::Point2f(static_cast<float>(cells) / 2, static_cast<float>(cells) / 2), rng.Uniform(0, 180), 1.0);
  cv::warpAffine(m, m, rot, m.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
  cv::Scalar mean, sd;
  cv::meanStdDev(m, mean, sd);
  return amp_um * (m - mean[0]) / std::max(sd[0], 1e-12);
}

/// The firearm's breech face in its own frame (firing pin at the centre).
cv::Mat BreechFace(const SynthOptions& o, const Preset& p, int firearm, int cells, double cell_um) {
  const int model = firearm / kFirearmsPerModel;
  const int block = (firearm % kFirearmsPerModel) / kFirearmsPerSubclassBlock;
  cv::Mat face = ClassMarks(cells, cell_um, model, o.seed, p.class_amp_um);
  face += SubclassMarks(cells, cell_um, model, block, o.seed, p.subclass_amp_um);
  Random rng(SeedOf(o.seed, "individual", static_cast<std::uint64_t>(firearm)));
  const double scales[] = {15, 40, 120},
               amps[] = {0.55 * p.individual_amp_um, 0.4 * p.individual_amp_um, 0.3 * p.individual_amp_um};
  face += MultiScale(cells, cells, cell_um, scales, amps, 3, rng);
  return face;
}

/// Firing-pin impression depth at radius fraction t = r / r_pin, by model shape.
double PinDepth(int model, double t) {
  if (t >= 1) return 0;
  switch (model % 3) {
    case 0:
      return kFiringPinDepthUm * std::sqrt(1 - t * t);  // hemispherical
    case 1:
      return kFiringPinDepthUm * std::min(1.0, 5 * (1 - t));  // flat with a rounded wall
    default:
      return kFiringPinDepthUm * (1 - t * t);  // parabolic
  }
}

struct Shot {
  double rotation_rad, tx_um, ty_um, spacing_um, contact, blur_um, tilt_x, tilt_y, edge_loss_rad,
      edge_start_rad;
};

Shot DrawShot(const Preset& p, SynthDifficulty d, double nominal_spacing, Random& rng) {
  Shot s{};
  s.rotation_rad = rng.Uniform(0, 2 * M_PI);
  const double r = p.max_shift_um * std::sqrt(rng.Uniform()), a = rng.Uniform(0, 2 * M_PI);
  s.tx_um = r * std::cos(a);
  s.ty_um = r * std::sin(a);
  static const double kInstruments[] = {1.0, 0.8, 1.25};  // scanners at different spacings
  s.spacing_um = nominal_spacing * (d == SynthDifficulty::kEasy ? 1.0 : kInstruments[rng.Index(3)]);
  s.contact = rng.Uniform(p.contact_min, 1.0);
  s.blur_um = rng.Uniform(0, p.blur_um);
  s.tilt_x = std::tan(rng.Uniform(-p.max_tilt_deg, p.max_tilt_deg) * M_PI / 180);
  s.tilt_y = std::tan(rng.Uniform(-p.max_tilt_deg, p.max_tilt_deg) * M_PI / 180);
  s.edge_loss_rad = rng.Uniform(0, d == SynthDifficulty::kEasy ? 0.3 : 1.2);
  s.edge_start_rad = rng.Uniform(0, 2 * M_PI);
  return s;
}

/// Samples the firearm-frame face onto the scan grid: rotation, translation, spacing.
cv::Mat Sample(const cv::Mat& face, double cell_um, const Shot& s, int points) {
  const double k = s.spacing_um / cell_um, c = std::cos(s.rotation_rad), sn = std::sin(s.rotation_rad);
  const double half = (points - 1) / 2.0, centre = (face.cols - 1) / 2.0;
  cv::Mat a = (cv::Mat_<double>(2, 3) << k * c, -k * sn, 0, k * sn, k * c, 0);
  a.at<double>(0, 2) = centre + s.tx_um / cell_um - k * (c * half - sn * half);
  a.at<double>(1, 2) = centre + s.ty_um / cell_um - k * (sn * half + c * half);
  cv::Mat out;
  cv::warpAffine(face, out, a, cv::Size(points, points), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REFLECT);
  return out;
}

}  // namespace

SynthScan GenerateCartridgeCase(const SynthOptions& o, int firearm, int shot) {
  const Preset p = PresetFor(o.difficulty);
  const int nominal_points = o.size > 0 ? o.size : 256;
  const double nominal_spacing = kFieldUm / nominal_points;
  const double cell_um = nominal_spacing / 1.5;
  const int cells = static_cast<int>((kFieldUm * 1.45 + 2 * p.max_shift_um) / cell_um);
  const cv::Mat face = BreechFace(o, p, firearm, cells, cell_um);
  Random rng(SeedOf(o.seed, "shot", static_cast<std::uint64_t>(firearm), static_cast<std::uint64_t>(shot)));
  const Shot s = DrawShot(p, o.difficulty, nominal_spacing, rng);
  const int points = static_cast<int>(std::lround(kFieldUm / s.spacing_um));
  cv::Mat z = Sample(face, cell_um, s, points);
  if (s.blur_um > 0.5) cv::GaussianBlur(z, z, cv::Size(0, 0), s.blur_um / s.spacing_um);
  const cv::Mat contact = SmoothNoise(points, points, 600 / s.spacing_um, rng);
  const cv::Mat pin_marks = SmoothNoise(points, points, 10 / s.spacing_um, rng);
  const cv::Mat dropouts = SmoothNoise(points, points, 40 / s.spacing_um, rng);
  const cv::Mat form = SmoothNoise(points, points, 900 / s.spacing_um, rng);
  Random model_rng(SeedOf(o.seed, "pin", static_cast<std::uint64_t>(firearm / kFirearmsPerModel)));
  const double pin_radius = model_rng.Uniform(380, 520), outer = kFieldUm / 2;
  const double dropout_cut = 2.2 - 3.0 * p.dropout_fraction;  // a high quantile of N(0,1)
  const double half = (points - 1) / 2.0;
  for (int r = 0; r < points; ++r) {
    for (int c = 0; c < points; ++c) {
      const double x = (c - half) * s.spacing_um, y = (r - half) * s.spacing_um;
      const double rad = std::hypot(x - s.tx_um, y - s.ty_um), ang = std::atan2(y, x);
      double& v = z.at<double>(r, c);
      const double w = std::clamp(s.contact + 0.25 * contact.at<double>(r, c), 0.0, 1.0);
      v = w * v + 0.5 * form.at<double>(r, c) + s.tilt_x * x + s.tilt_y * y;
      v -= PinDepth(firearm / kFirearmsPerModel, rad / pin_radius);
      if (rad < pin_radius) v += 0.3 * p.individual_amp_um * pin_marks.at<double>(r, c);
      v += p.noise_um * rng.Normal();
      if (rng.Uniform() < 1e-4) v += 40 * p.noise_um * rng.Normal();  // spikes
      const double sector = std::remainder(ang - s.edge_start_rad, 2 * M_PI);
      const bool lost = std::hypot(x, y) > outer ||
                        (std::hypot(x, y) > 0.7 * outer && std::abs(sector) < s.edge_loss_rad / 2) ||
                        dropouts.at<double>(r, c) > dropout_cut;
      if (lost) v = std::numeric_limits<double>::quiet_NaN();
    }
  }
  SynthScan scan = NewScan(firearm, "cartridge_case", "breech_face;firing_pin", z, s.spacing_um, o.seed);
  scan.file = "cc-" + scan.firearm + "-s" + std::to_string(shot + 1) + ".x3p";
  return scan;
}

}  // namespace toolmark::synth
