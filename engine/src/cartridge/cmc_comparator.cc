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
#include "cartridge/polar_screen.h"
#include "cartridge/quick_face.h"
#include "profile.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"

namespace toolmark::detail {
namespace {

/// The quick score's working spacing: cells of a quarter of the points of the
/// CMC's (25 µm), so its screening costs a fraction of the comparison's.
constexpr double kQuickSpacingUm = 50.0;

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
    return EncodeQuickFace(Coarser(p->prepared.face, kQuickSpacingUm));
  }

  std::shared_ptr<const PreparedMark> QuickMark(const std::vector<float>& features) const override {
    auto mark = std::make_shared<CmcMark>();
    // The cells and the polar signature (the rotations) at the quick
    // spacing; records of format 1 hold the face at the CMC spacing, whose
    // polar signature is kept.
    const QuickFace decoded = DecodeQuickFace(features, options_.spacing_um, kQuickSpacingUm);
    mark->prepared.polar = MakePolarSignature(decoded.face);
    if (decoded.at_cmc_spacing) {
      mark->prepared.polar.centre_px *= options_.spacing_um / kQuickSpacingUm;
      mark->prepared.face = Coarser(decoded.face, kQuickSpacingUm);
    } else {
      mark->prepared.face = decoded.face;
    }
    if (mark->prepared.polar.spectra.empty())  // the areal fallback of the coarse registration needs it
      mark->prepared.registration =
          MakeArealComparator(quick_options_.registration_spacing_um)->Prepare(mark->prepared.face.surface);
    return mark;
  }
  bool HasScreen() const override { return true; }
  std::vector<float> ScreenFeatures(const std::vector<float>& quick_features) const override {
    // The quick mark's polar signature (at the quick spacing; rings at the same radii in µm).
    const QuickFace decoded = DecodeQuickFace(quick_features, options_.spacing_um, kQuickSpacingUm);
    return EncodePolarScreen(MakePolarSignature(decoded.face));
  }
  double ScreenScore(const std::vector<float>& a, const std::vector<float>& b) const override {
    return PolarScreenScore(a, b);
  }
  void CheckScreen(const std::vector<float>& features) const override { CheckPolarScreen(features); }
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
