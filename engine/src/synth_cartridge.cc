// Synthetic cartridge cases: breech-face and firing-pin impressions. The
// firing pin's tip has its own class and individual marks (firearm frame);
// docs/firing_pin.md describes them.
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
/// Firing-pin tip: individual marks at these smoothing scales (µm) and
/// amplitudes (× the preset's individual amplitude); class turning rings of
/// a model pitch in this range (µm) and amplitude (× the class amplitude).
constexpr double kPinIndividualScalesUm[] = {10, 20, 40};
constexpr double kPinIndividualAmp[] = {0.45, 0.4, 0.35};
constexpr double kPinClassPitchUm[] = {30, 70};
constexpr double kPinClassAmp = 0.7;
/// Per-shot noise inside the pin (× the individual amplitude, 10 µm scale).
constexpr double kPinShotNoiseAmp = 0.2;

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

/// The firing pin's tip in its own frame: a square grid of cell_um whose
/// centre is the pin's axis, covering the pin radius (µm) with a margin.
/// Model-wide class marks: turning rings of a model pitch about a point off
/// the axis, wobbling with a model-wide field (after the axisymmetric form is
/// removed they are not concentric: firearms of one model share them). The
/// firearm's individual marks: multi-scale noise from their own random stream
/// ("pin-marks"), so that every other stream, and the breech face outside the
/// pin, is the same as without them.
cv::Mat PinFace(const SynthOptions& o, const Preset& p, int firearm, double pin_radius_um, double cell_um) {
  const int model = firearm / kFirearmsPerModel;
  const int cells = 2 * static_cast<int>(std::ceil(pin_radius_um / cell_um)) + 9;
  const double centre = (cells - 1) / 2.0;
  Random class_rng(SeedOf(o.seed, "pin-class", static_cast<std::uint64_t>(model)));
  const double pitch = class_rng.Uniform(kPinClassPitchUm[0], kPinClassPitchUm[1]);
  const double off = class_rng.Uniform(0.1, 0.3) * pin_radius_um, off_angle = class_rng.Uniform(0, 2 * M_PI);
  const double ox = off * std::cos(off_angle), oy = off * std::sin(off_angle);
  const cv::Mat wobble = SmoothNoise(cells, cells, 150 / cell_um, class_rng);
  cv::Mat tip(cells, cells, CV_64FC1);
  for (int r = 0; r < cells; ++r) {
    for (int c = 0; c < cells; ++c) {
      const double x = (c - centre) * cell_um, y = (r - centre) * cell_um;
      const double phase =
          2 * M_PI * (std::hypot(x - ox, y - oy) + 0.15 * pitch * wobble.at<double>(r, c)) / pitch;
      tip.at<double>(r, c) = kPinClassAmp * p.class_amp_um * std::sin(phase);
    }
  }
  Random rng(SeedOf(o.seed, "pin-marks", static_cast<std::uint64_t>(firearm)));
  const double amps[] = {kPinIndividualAmp[0] * p.individual_amp_um,
                         kPinIndividualAmp[1] * p.individual_amp_um,
                         kPinIndividualAmp[2] * p.individual_amp_um};
  tip += MultiScale(cells, cells, cell_um, kPinIndividualScalesUm, amps, 3, rng);
  return tip;
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

/// Samples a firearm-frame grid (breech face or firing-pin tip: cells of
/// cell_um, the firing pin's axis at the grid's centre) onto the scan grid:
/// the axis at (tx, ty) µm from the scan's centre, where the firing-pin
/// impression is drawn, turned by the shot's rotation, at the shot's spacing.
/// Scan point p (µm from the scan's centre) shows firearm point
/// Rot(θ)·(p − t), so two shots of one firearm differ by a rotation about the
/// impression and the pin sits at the same place of the breech face in every
/// shot.
cv::Mat Sample(const cv::Mat& face, double cell_um, const Shot& s, int points) {
  const double k = s.spacing_um / cell_um, c = std::cos(s.rotation_rad), sn = std::sin(s.rotation_rad);
  const double x0 = (points - 1) / 2.0 + s.tx_um / s.spacing_um,
               y0 = (points - 1) / 2.0 + s.ty_um / s.spacing_um;
  const double centre = (face.cols - 1) / 2.0;
  cv::Mat a = (cv::Mat_<double>(2, 3) << k * c, -k * sn, 0, k * sn, k * c, 0);
  a.at<double>(0, 2) = centre - k * (c * x0 - sn * y0);
  a.at<double>(1, 2) = centre - k * (sn * x0 + c * y0);
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
  // Inside the pin the primer shows the pin's tip, not the breech face
  // (smoothed like it); outside, every value is computed as before.
  cv::Mat pin = Sample(PinFace(o, p, firearm, pin_radius, cell_um), cell_um, s, points);
  if (s.blur_um > 0.5) cv::GaussianBlur(pin, pin, cv::Size(0, 0), s.blur_um / s.spacing_um);
  const double dropout_cut = 2.2 - 3.0 * p.dropout_fraction;  // a high quantile of N(0,1)
  const double half = (points - 1) / 2.0;
  for (int r = 0; r < points; ++r) {
    for (int c = 0; c < points; ++c) {
      const double x = (c - half) * s.spacing_um, y = (r - half) * s.spacing_um;
      const double rad = std::hypot(x - s.tx_um, y - s.ty_um), ang = std::atan2(y, x);
      double& v = z.at<double>(r, c);
      const double w = std::clamp(s.contact + 0.25 * contact.at<double>(r, c), 0.0, 1.0);
      const double texture = rad < pin_radius ? pin.at<double>(r, c) : v;
      v = w * texture + 0.5 * form.at<double>(r, c) + s.tilt_x * x + s.tilt_y * y;
      v -= PinDepth(firearm / kFirearmsPerModel, rad / pin_radius);
      if (rad < pin_radius) v += kPinShotNoiseAmp * p.individual_amp_um * pin_marks.at<double>(r, c);
      v += p.noise_um * rng.Normal();
      if (rng.Uniform() < 1e-4) v += 40 * p.noise_um * rng.Normal();  // spikes
      const double sector = std::remainder(ang - s.edge_start_rad, 2 * M_PI);
      const bool lost = std::hypot(x, y) > outer ||
                        (std::hypot(x, y) > 0.7 * outer && std::abs(sector) < s.edge_loss_rad / 2) ||
                        dropouts.at<double>(r, c) > dropout_cut;
      if (lost) v = std::numeric_limits<double>::quiet_NaN();
    }
  }
  SynthScan scan = NewScan(firearm, Kind::kCartridgeCase, {{MarkType::kBreechFace}, {MarkType::kFiringPin}},
                           z, s.spacing_um, o.seed);
  scan.file = "cc-" + scan.firearm + "-s" + std::to_string(shot + 1) + ".x3p";
  return scan;
}

}  // namespace toolmark::synth
