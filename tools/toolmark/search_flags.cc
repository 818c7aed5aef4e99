#include "search_flags.h"

#include "cli_common.h"
#include "toolmark/engine/check.h"

namespace toolmark::cli {

void SearchFlags::Add(CLI::App* cmd, const std::string& top_help) {
  cmd->add_option("--top", top, top_help)->check(CLI::Range(1, 100000));
  cmd->add_option("--shortlist", shortlist, "Candidates taken from the vector index (default 100)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--screen-all-below", screen_all_below,
                  "Cartridge cases: while the index holds at most this many items, the quick score screens "
                  "every candidate instead of the shortlist (default 2000; 0: never)")
      ->check(CLI::Range(0, 100000000));
  cmd->add_option(
         "--shortlist-depth", shortlist_depth,
         "The index's this many most similar candidates are ordered by the screening score (cartridge "
         "cases: above --screen-all-below; lands and each land of a bullet search: always; default 4000)")
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--screened", screened,
                  "How many of those the screening score adds to the embedding's --shortlist (default 50; 0: "
                  "none, the embedding's shortlist alone)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--fine", fine,
                  "Of those, how many the full comparator compares, after re-ranking by the quick score "
                  "(cartridge cases; bullets: candidate bullets compared whole, after ordering by their "
                  "lands' screening scores; at least --top; 0: all; default 10)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--jurisdiction", jurisdictions, "Search only these jurisdictions (repeatable)");
  cmd->add_option("--index", index_kind,
                  "Vector index: auto (flat up to 500,000 vectors, sketch above), flat, hnsw, ivf, sketch")
      ->check(CLI::IsMember({"auto", "flat", "hnsw", "ivf", "sketch"}));
  cmd->add_option("--calibration", calibration,
                  "Calibration file from `toolmark calibrate` (pair level) for the hits' likelihood ratios "
                  "(default: the comparator's shipped one, where there is one)");
}

void SearchFlags::Read() {
  if (!calibration.empty()) calibration_file = eval::ReadCalibrationFile(calibration);
}

index::SearchOptions SearchFlags::Options(Kind kind, bool require) const {
  index::SearchOptions o;
  o.top = top;
  o.shortlist = shortlist;
  o.screen_all_below = screen_all_below;
  o.shortlist_depth = shortlist_depth;
  o.screened = screened;
  o.fine = fine;
  o.jurisdictions = jurisdictions;
  o.index.kind = index::ParseVectorIndexKind(index_kind);
  const std::string comparator = index::ComparatorForKind(kind);
  if (calibration_file && (require || calibration_file->comparator == comparator))
    o.calibration = eval::ChooseCalibration(calibration_file, calibration, comparator, "pair")->calibration;
  return o;
}

nlohmann::json SearchFlags::CalibrationJson(Kind kind) const {
  const std::string comparator = index::ComparatorForKind(kind);
  const bool file = calibration_file && calibration_file->comparator == comparator;
  const std::optional<ChosenCalibration> c =
      eval::ChooseCalibration(file ? calibration_file : std::nullopt, calibration, comparator, "pair");
  return c ? CalibrationSummaryJson(*c) : nlohmann::json();
}

nlohmann::json SearchHitJson(const index::SearchHit& h) {
  nlohmann::json quality = nlohmann::json::parse(h.quality.empty() ? "null" : h.quality, nullptr, false);
  if (quality.is_discarded()) quality = nullptr;
  return {{"item", h.item},
          {"quality", QualityRemark(quality)},
          {"warnings", quality.is_object() ? quality.value("warnings", 0) : 0},
          {"score", h.score},
          {"log10_lr", h.log10_lr ? nlohmann::json(*h.log10_lr) : nlohmann::json(nullptr)},
          {"calibration", h.calibration.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.calibration)},
          {"rank", h.rank},
          {"case", h.case_id},
          {"jurisdiction", h.jurisdiction},
          {"item_label", h.item_label},
          {"file", h.file},
          {"similarity", h.similarity},
          {"shortlist_rank", h.shortlist_rank},
          {"screen_score", h.screen_score ? nlohmann::json(*h.screen_score) : nlohmann::json(nullptr)},
          {"quick_score", h.quick_score ? nlohmann::json(*h.quick_score) : nlohmann::json(nullptr)},
          {"rerank", h.rerank ? nlohmann::json(h.rerank) : nlohmann::json(nullptr)},
          {"rotation_deg", h.rotation_deg},
          {"translation_um", {h.shift_x_um, h.shift_y_um}},
          {"score_kind", h.features_only ? "quick" : "full"}};
}

}  // namespace toolmark::cli
