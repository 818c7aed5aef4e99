#include "likelihood.h"

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

Likelihood LikelihoodOf(const std::string& calibration_file, const std::string& comparator,
                        const std::string& level, double score, const std::string& unsupported,
                        const std::vector<std::pair<const char*, double>>& details) {
  std::optional<Calibration> file;
  if (!calibration_file.empty()) file = eval::ReadCalibrationFile(calibration_file);
  Likelihood l;
  l.calibration = eval::ChooseCalibration(file, calibration_file, comparator, level);
  if (!l.calibration) {
    l.note = "no calibration for comparator " + comparator + " at " + level + " level";
    return l;
  }
  if (!unsupported.empty()) {
    l.note = unsupported;
    return l;
  }
  // The score, k of n, or the named features, as the calibration's method reads them.
  const ComparisonLr lr = Log10LrOfComparison(l.calibration->calibration, score, details);
  l.log10_lr = lr.log10_lr;
  l.interval = lr.interval;
  l.note = lr.why;
  return l;
}

}  // namespace toolmark::cli
