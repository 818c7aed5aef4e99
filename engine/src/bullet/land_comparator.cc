// The "land" comparator: ExtractLandSignature → CompareSignatures → LandScore,
// with the features kept as the comparison's details.
#include <memory>
#include <string>
#include <utility>

#include "bullet/land_internal.h"
#include "bullet/land_screen.h"
#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

class LandMark : public PreparedMark {
 public:
  PreparedSignature prepared;
  std::vector<float> embedding;
};

class LandComparator : public Comparator {
 public:
  LandComparator(std::string name, LandSignatureOptions options)
      : name_(std::move(name)), options_(options) {}
  std::string Name() const override { return name_; }
  std::shared_ptr<const PreparedMark> Prepare(const Surface& surface) const override {
    auto mark = std::make_shared<LandMark>();
    mark->prepared = PrepareSignature(ExtractLandSignature(surface, options_));
    mark->embedding = LandEmbedding(mark->prepared.signature);
    return mark;
  }
  Comparison Compare(const PreparedMark& a, const PreparedMark& b) const override {
    const LandFeatures f = CompareSignatures(Get(a).prepared, Get(b).prepared);
    Comparison c;
    c.score = LandScore(f);
    c.shift_x_um = f.lag_um;
    c.overlap_fraction = f.overlap_fraction;
    static const std::vector<std::string> names = LandFeatureNames();
    const std::vector<double> values = f.Vector();
    for (std::size_t i = 0; i < names.size(); ++i) c.details.emplace_back(names[i].c_str(), values[i]);
    c.details.emplace_back("overlap_um", f.overlap_um);
    return c;
  }
  std::vector<float> Embed(const PreparedMark& mark) const override { return Get(mark).embedding; }
  bool HasScreen() const override { return true; }
  std::vector<float> ScreenFeaturesOf(const PreparedMark& mark) const override {
    return EncodeLandScreen(Get(mark).prepared.signature);
  }
  double ScreenScore(const std::vector<float>& a, const std::vector<float>& b) const override {
    return LandScreenScore(a, b);
  }
  void CheckScreen(const std::vector<float>& features) const override { CheckLandScreen(features); }

 private:
  std::string name_;
  LandSignatureOptions options_;
  static const LandMark& Get(const PreparedMark& m) {
    const auto* p = dynamic_cast<const LandMark*>(&m);
    Check(p != nullptr, "land comparator: mark was not prepared by this comparator");
    return *p;
  }
};

}  // namespace

std::unique_ptr<Comparator> MakeLandComparator() {
  return std::make_unique<LandComparator>("land", LandSignatureOptions{});
}

std::unique_ptr<Comparator> MakeLandSmootherComparator() {
  LandSignatureOptions options;
  options.form = LandFormModel::kRobustSmoother;
  return std::make_unique<LandComparator>("land_smoother", options);
}

ComparatorInfo LandComparatorInfo() {
  ComparatorInfo c;
  c.name = "land";
  c.kinds = {Kind::kBullet};
  c.marks = {MarkType::kLand};
  c.score = "a logistic model's probability-like score from land-to-land features (docs/bullets.md)";
  c.scale = ScoreScale::kProbability;
  c.embedding = true;
  c.default_for_kind = true;
  c.presentation = Presentation::kLandSignatures;
  c.make = MakeLandComparator;
  return c;
}

ComparatorInfo LandSmootherComparatorInfo() {
  ComparatorInfo c = LandComparatorInfo();
  c.name = "land_smoother";
  c.score = "the land score with a robust local-linear form model instead of the quadratic";
  c.default_for_kind = false;
  c.presentation = Presentation::kScoreOnly;
  c.make = MakeLandSmootherComparator;
  return c;
}

}  // namespace toolmark::detail
