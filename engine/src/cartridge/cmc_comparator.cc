// The "cmc" comparator (Comparator interface, quick features and score,
// registry entry) over the CMC pipeline of cmc.cc. See docs/cmc.md.
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "areal_registration.h"
#include "cartridge/cmc_internal.h"
#include "profile.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"

namespace toolmark::detail {
namespace {

// Quick features: a processed breech face as float32 numbers, all finite.
// {format 1, rows, cols, spacing µm, firing_pin_found, its centre x, y and
// radius (µm), outer_found, primer centre x, y and radius (µm)}, then the
// values row by row, kQuickMissing where missing.
constexpr float kQuickFormat = 1;
constexpr std::size_t kQuickHeader = 12;
constexpr float kQuickMissing = std::numeric_limits<float>::max();
constexpr int kQuickMaxSide = 8192;

/// The quick score's working spacing: cells of a quarter of the points of the
/// CMC's (25 µm), so its screening costs a fraction of the comparison's.
constexpr double kQuickSpacingUm = 50.0;

/// `face` resampled to `spacing_um` (a coarser grid): values and mask
/// averaged over each new cell (cv::resize INTER_AREA), the cell valid where
/// at least half of it was. Positions in µm keep their meaning.
BreechFace Coarser(const BreechFace& face, double spacing_um) {
  BreechFace out = face;
  const cv::Mat& v = face.surface.values;
  const double factor = face.surface.spacing_x_um / spacing_um;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(v.cols * factor))),
                      std::max(1, static_cast<int>(std::lround(v.rows * factor))));
  cv::Mat filled(v.size(), CV_64F), mask(v.size(), CV_64F);
  for (int y = 0; y < v.rows; ++y)
    for (int x = 0; x < v.cols; ++x) {
      const double z = v.at<double>(y, x);
      filled.at<double>(y, x) = std::isfinite(z) ? z : 0.0;
      mask.at<double>(y, x) = std::isfinite(z) ? 1.0 : 0.0;
    }
  cv::Mat fs, ms;
  cv::resize(filled, fs, size, 0, 0, cv::INTER_AREA);
  cv::resize(mask, ms, size, 0, 0, cv::INTER_AREA);
  out.surface.values.create(size, CV_64F);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double m = ms.at<double>(y, x);
      out.surface.values.at<double>(y, x) =
          m >= 0.5 ? fs.at<double>(y, x) / m : std::numeric_limits<double>::quiet_NaN();
    }
  out.surface.spacing_x_um = out.surface.spacing_y_um = spacing_um;
  out.roi.release();
  return out;
}

std::vector<float> EncodeQuickFace(const BreechFace& face) {
  const cv::Mat& v = face.surface.values;
  std::vector<float> out = {kQuickFormat,
                            static_cast<float>(v.rows),
                            static_cast<float>(v.cols),
                            static_cast<float>(face.surface.spacing_x_um),
                            face.firing_pin_found ? 1.0f : 0.0f,
                            static_cast<float>(face.firing_pin_centre_x_um),
                            static_cast<float>(face.firing_pin_centre_y_um),
                            static_cast<float>(face.firing_pin_radius_um),
                            face.outer_found ? 1.0f : 0.0f,
                            static_cast<float>(face.centre_um.x),
                            static_cast<float>(face.centre_um.y),
                            static_cast<float>(face.outer_radius_um)};
  out.reserve(kQuickHeader + v.total());
  for (int y = 0; y < v.rows; ++y)
    for (int x = 0; x < v.cols; ++x) {
      const double z = v.at<double>(y, x);
      out.push_back(std::isfinite(z) ? static_cast<float>(z) : kQuickMissing);
    }
  return out;
}

/// Throws toolmark::Error for anything that is not EncodeQuickFace's output
/// at `spacing_um` (stored data is checked, not trusted).
BreechFace DecodeQuickFace(const std::vector<float>& f, double spacing_um) {
  Check(f.size() >= kQuickHeader && f[0] == kQuickFormat, "cmc quick features: unknown format");
  const double rows = f[1], cols = f[2];
  Check(rows >= 1 && cols >= 1 && rows <= kQuickMaxSide && cols <= kQuickMaxSide &&
            rows == std::floor(rows) && cols == std::floor(cols) &&
            f.size() == kQuickHeader + static_cast<std::size_t>(rows * cols),
        "cmc quick features: bad size");
  Check(std::abs(f[3] - spacing_um) < 1e-3, "cmc quick features: not at the CMC working spacing");
  for (std::size_t i = 4; i < kQuickHeader; ++i) Check(std::isfinite(f[i]), "cmc quick features: bad header");
  BreechFace face;
  face.surface.spacing_x_um = face.surface.spacing_y_um = spacing_um;
  face.firing_pin_found = f[4] != 0;
  face.firing_pin_centre_x_um = f[5];
  face.firing_pin_centre_y_um = f[6];
  face.firing_pin_radius_um = f[7];
  face.outer_found = f[8] != 0;
  face.centre_um = {f[9], f[10]};
  face.outer_radius_um = f[11];
  face.surface.values.create(static_cast<int>(rows), static_cast<int>(cols), CV_64F);
  std::size_t at = kQuickHeader;
  for (int y = 0; y < face.surface.values.rows; ++y)
    for (int x = 0; x < face.surface.values.cols; ++x, ++at)
      face.surface.values.at<double>(y, x) =
          f[at] == kQuickMissing ? std::numeric_limits<double>::quiet_NaN() : double{f[at]};
  return face;
}

class CmcMark : public PreparedMark {
 public:
  CmcPrepared prepared;
};

class CmcComparator : public Comparator {
 public:
  std::string Name() const override { return "cmc"; }
  std::shared_ptr<const PreparedMark> Prepare(const Surface& surface) const override {
    auto mark = std::make_shared<CmcMark>();
    mark->prepared = PrepareCmc(surface, options_);
    return mark;
  }
  Comparison Compare(const PreparedMark& a, const PreparedMark& b) const override {
    const auto* pa = dynamic_cast<const CmcMark*>(&a);
    const auto* pb = dynamic_cast<const CmcMark*>(&b);
    Check(pa && pb, "cmc comparator: marks were not prepared by this comparator");
    const CmcResult r = CompareCmcPrepared(pa->prepared, pb->prepared, options_);
    Comparison c;
    c.score = r.score;
    c.rotation_deg = r.forward.rotation_deg;
    c.shift_x_um = r.forward.shift_x_um;
    c.shift_y_um = r.forward.shift_y_um;
    c.overlap_fraction =
        r.forward.cells_used > 0 ? static_cast<double>(r.forward.count) / r.forward.cells_used : 0;
    c.details = CmcDetails(r);
    return c;
  }

  std::vector<float> Embed(const PreparedMark& mark) const override {
    const auto* p = dynamic_cast<const CmcMark*>(&mark);
    Check(p != nullptr, "cmc comparator: mark was not prepared by this comparator");
    return p->prepared.embedding;
  }

  bool HasQuickScore() const override { return true; }

  std::vector<float> QuickFeatures(const PreparedMark& mark) const override {
    const auto* p = dynamic_cast<const CmcMark*>(&mark);
    Check(p != nullptr, "cmc comparator: mark was not prepared by this comparator");
    return EncodeQuickFace(p->prepared.face);
  }

  std::shared_ptr<const PreparedMark> QuickMark(const std::vector<float>& features) const override {
    auto mark = std::make_shared<CmcMark>();
    // The rotations from the polar signature at the CMC spacing (coarser
    // rings place them less well), the cells at the quick spacing.
    const BreechFace full = DecodeQuickFace(features, options_.spacing_um);
    mark->prepared.polar = MakePolarSignature(full);
    mark->prepared.polar.centre_px *= options_.spacing_um / kQuickSpacingUm;
    mark->prepared.face = Coarser(full, kQuickSpacingUm);
    if (mark->prepared.polar.spectra.empty())  // the areal fallback of the coarse registration needs it
      mark->prepared.registration =
          MakeArealComparator(quick_options_.registration_spacing_um)->Prepare(mark->prepared.face.surface);
    return mark;
  }
  double QuickScore(const PreparedMark& a, const PreparedMark& b) const override {
    const auto* pa = dynamic_cast<const CmcMark*>(&a);
    const auto* pb = dynamic_cast<const CmcMark*>(&b);
    Check(pa && pb, "cmc comparator: marks were not prepared by this comparator");
    // At the quick spacing: marks prepared in full are reduced first.
    const auto quick = [&](const CmcMark* m) {
      return m->prepared.face.surface.spacing_x_um == kQuickSpacingUm ? std::shared_ptr<const PreparedMark>()
                                                                      : QuickMark(QuickFeatures(*m));
    };
    const auto qa = quick(pa), qb = quick(pb);
    const CmcMark* ra = qa ? dynamic_cast<const CmcMark*>(qa.get()) : pa;
    const CmcMark* rb = qb ? dynamic_cast<const CmcMark*>(qb.get()) : pb;
    return QuickCmcCount(ra->prepared, rb->prepared, quick_options_).count;
  }

 private:
  static CmcOptions QuickOptions() {
    CmcOptions o;
    o.spacing_um = kQuickSpacingUm;
    o.coarse_candidates = 3;
    o.registration_spacing_um = std::max(o.registration_spacing_um, 2 * kQuickSpacingUm);
    return o;
  }
  CmcOptions options_;
  CmcOptions quick_options_ = QuickOptions();
};

}  // namespace

std::unique_ptr<Comparator> MakeCmcComparator() { return std::make_unique<CmcComparator>(); }

ComparatorInfo CmcComparatorInfo() {
  ComparatorInfo c;
  c.name = "cmc";
  c.kinds = {Kind::kCartridgeCase};
  c.marks = {MarkType::kBreechFace, MarkType::kFiringPin};
  c.compares_2d = true;
  c.score =
      "congruent matching cells of the breech faces (the larger of the two directions) plus the firing pins' "
      "congruent sectors";
  c.scale = ScoreScale::kCount;
  c.decision_threshold = CmcOptions{}.decision_threshold;
  c.embedding = true;
  c.quick_score = true;
  c.default_for_kind = true;
  c.presentation = Presentation::kCongruentCells;
  c.calibration_max_pairs = 1500;  // about 35 ms a pair
  c.make = MakeCmcComparator;
  return c;
}

}  // namespace toolmark::detail

namespace toolmark {

double CmcResult::CountLogOdds() const {
  const double k = count, n = CellsCompared();
  return std::log((k + 0.5) / (std::max(n - k, 0.0) + 0.5));
}

std::vector<std::pair<const char*, double>> CmcDetails(const CmcResult& r) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool fp = r.firing_pin.compared;
  const CmcFeatures& f = r.features;
  return {{"cmc_count", r.count},
          {"firing_pin_sectors", fp ? r.firing_pin.congruent_sectors : nan},
          {"firing_pin_ccf", fp ? r.firing_pin.ccf : nan},
          {"firing_pin_rotation_deg", fp ? r.firing_pin.rotation_deg : nan},
          {"cmc_forward", r.forward.count},
          {"cmc_backward", r.backward.count},
          {"cells_forward", r.forward.cells_used},
          {"cells_backward", r.backward.cells_used},
          // k of n: the CMC count of the cells both directions could compare
          {"cells_compared", r.CellsCompared()},
          {"cmc_log_odds", r.CountLogOdds()},
          {"rotation_backward_deg", r.backward.rotation_deg},
          {"surface_ccf", f.surface_ccf},
          {"surface_overlap", f.surface_overlap},
          {"congruent_ccf_mean", f.congruent_ccf_mean},
          {"cell_ccf_median", f.cell_ccf_median},
          {"translation_rms_um", f.translation_rms_um},
          {"fit_rms_um", f.fit_rms_um},
          {"rotation_disagreement_deg", f.rotation_disagreement_deg},
          {"screen_count", f.screen_count},
          {"rival_count", f.rival_count}};
}

}  // namespace toolmark
