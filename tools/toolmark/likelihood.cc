#include "likelihood.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace toolmark::cli {

void Likelihood::AddTo(nlohmann::json* j) const {
  (*j)["log10_lr"] = log10_lr ? nlohmann::json(*log10_lr) : nlohmann::json();
  (*j)["calibration"] = calibration ? eval::CalibrationSummaryJson(*calibration) : nlohmann::json();
  if (!log10_lr) (*j)["log10_lr_note"] = note;
  if (interval) (*j)["log10_lr_interval"] = {interval->first, interval->second};
}

void Likelihood::Print() const {
  if (!log10_lr) {
    std::printf("likelihood ratio: not calibrated (%s)\n", note.c_str());
    return;
  }
  const Calibration& c = calibration->calibration;
  char range[64] = "";
  if (interval)
    std::snprintf(range, sizeof range, "; 5-95%% [%+.2f, %+.2f]", interval->first, interval->second);
  std::printf("likelihood ratio: %s (log10 LR %+.2f%s; bounds [%+.2f, %+.2f]; calibration: %s%s)\n",
              eval::FormatLr(*log10_lr).c_str(), *log10_lr, range, c.min_log10_lr, c.max_log10_lr,
              c.provenance.set.c_str(),
              calibration->source == "default" ? "" : (", " + calibration->source).c_str());
}

namespace {

/// The combined calibration's features from the comparison's details, or
/// why they are not all there.
std::optional<std::vector<double>> FeatureValues(const Calibration& c,
                                                 const std::vector<std::pair<const char*, double>>& details,
                                                 std::string* note) {
  std::vector<double> x;
  for (const std::string& name : c.features) {
    const auto it =
        std::find_if(details.begin(), details.end(), [&](const auto& d) { return name == d.first; });
    if (it == details.end() || !std::isfinite(it->second)) {
      *note = "the comparison has no value of the calibration's feature " + name;
      return std::nullopt;
    }
    x.push_back(it->second);
  }
  return x;
}

}  // namespace

Likelihood LikelihoodOf(const std::string& calibration_file, const std::string& comparator,
                        const std::string& level, double score, const std::string& unsupported,
                        std::optional<std::pair<int, int>> count,
                        const std::vector<std::pair<const char*, double>>& details) {
  std::optional<Calibration> file;
  if (!calibration_file.empty()) file = eval::ReadCalibrationFile(calibration_file);
  Likelihood l;
  l.calibration = eval::ChooseCalibration(file, calibration_file, comparator, level);
  if (!l.calibration) {
    l.note = "no calibration for comparator " + comparator + " at " + level + " level";
  } else if (!unsupported.empty()) {
    l.note = unsupported;
  } else if (l.calibration->calibration.NeedsTrials()) {
    const Calibration& c = l.calibration->calibration;
    if (!count) {
      l.note = "a k-of-n calibration applies to a count of cells (the cmc comparator)";
    } else {
      l.log10_lr = c.Log10LrOfCount(count->first, count->second);
      l.interval = c.Log10LrIntervalOfCount(count->first, count->second);
    }
  } else if (l.calibration->calibration.NeedsFeatures()) {
    const Calibration& c = l.calibration->calibration;
    if (const auto x = FeatureValues(c, details, &l.note)) {
      l.log10_lr = c.Log10LrOfFeatures(*x);
      l.interval = c.Log10LrIntervalOfFeatures(*x);
    }
  } else {
    l.log10_lr = l.calibration->calibration.Log10Lr(score);
  }
  return l;
}

}  // namespace toolmark::cli
