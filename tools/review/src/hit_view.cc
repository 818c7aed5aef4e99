#include "toolmark/review/hit_view.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"
#include "toolmark/engine/land.h"
#include "toolmark/index/search.h"
#include "toolmark/review/plots.h"

namespace toolmark::review {
namespace {

constexpr int kTargetPixels = 480;  ///< rendered images: about this many pixels on the longer side

/// Mean and standard deviation of the finite values.
std::pair<double, double> MeanSd(const cv::Mat& v) {
  double sum = 0, squares = 0, n = 0;
  for (int y = 0; y < v.rows; ++y)
    for (int x = 0; x < v.cols; ++x) {
      const double z = v.at<double>(y, x);
      if (std::isfinite(z)) sum += z, squares += z * z, n += 1;
    }
  const double mean = n > 0 ? sum / n : 0;
  const double sd = n > 1 ? std::sqrt(std::max(1e-30, squares / n - mean * mean)) : 1;
  return {mean, sd};
}

cv::Mat Resized(const cv::Mat& img, double scale) {
  if (scale == 1) return img;
  cv::Mat out;
  cv::resize(img, out, {}, scale, scale, scale > 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
  return out;
}

/// B's values warped into A's grid: q = Rot(θ)(p − c_B) + c_A + t (grid
/// centres, t in pixels), as the CMC registers B onto A; NaN outside B.
Surface WarpedInto(const Surface& b, const Surface& a, double theta_deg, double tx_um, double ty_um) {
  const double rad = theta_deg * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  const double sp = a.spacing_x_um;
  const cv::Point2d ca(0.5 * (a.values.cols - 1), 0.5 * (a.values.rows - 1)),
      cb(0.5 * (b.values.cols - 1), 0.5 * (b.values.rows - 1));
  const double tx = ca.x + tx_um / sp - (c * cb.x - s * cb.y);
  const double ty = ca.y + ty_um / sp - (s * cb.x + c * cb.y);
  const cv::Matx23d forward(c, -s, tx, s, c, ty);
  cv::Mat mask(b.values.size(), CV_32F), values(b.values.size(), CV_32F);
  for (int y = 0; y < b.values.rows; ++y)
    for (int x = 0; x < b.values.cols; ++x) {
      const double v = b.values.at<double>(y, x);
      const bool ok = std::isfinite(v);
      mask.at<float>(y, x) = ok ? 1.0f : 0.0f;
      values.at<float>(y, x) = ok ? static_cast<float>(v) : 0.0f;
    }
  cv::Mat wv, wm;
  cv::warpAffine(values, wv, forward, a.values.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  cv::warpAffine(mask, wm, forward, a.values.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, 0);
  Surface out = a;
  out.values = cv::Mat(a.values.size(), CV_64F, cv::Scalar(std::numeric_limits<double>::quiet_NaN()));
  for (int y = 0; y < out.values.rows; ++y)
    for (int x = 0; x < out.values.cols; ++x) {
      const float m = wm.at<float>(y, x);
      if (m >= 0.5f) out.values.at<double>(y, x) = wv.at<float>(y, x) / m;
    }
  return out;
}

double FitScale(const Surface& s) {
  const int longer = std::max(s.values.cols, s.values.rows);
  if (longer <= 0) return 1;
  if (longer < kTargetPixels) return std::max(1.0, std::floor(static_cast<double>(kTargetPixels) / longer));
  return static_cast<double>(kTargetPixels) / longer;
}

nlohmann::json Finite(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void BuildCartridgeCase(index::Database& db, HitView* v) {
  const CmcOptions options;
  const CartridgeCase a = PrepareCartridgeCase(db.LoadSurface(v->hit.hit.query), options);
  const CartridgeCase b = PrepareCartridgeCase(db.LoadSurface(v->hit.hit.candidate), options);
  const CmcResult r = CompareCartridgeCases(a, b, options);
  const CmcDirection& d = r.forward;
  const Surface warped =
      WarpedInto(b.face.surface, a.face.surface, d.rotation_deg, d.shift_x_um, d.shift_y_um);
  const double scale = FitScale(a.face.surface);
  v->query_relief = ReliefImage(a.face.surface, scale);
  v->query_colour = ColourImage(a.face.surface, scale);
  v->candidate_relief = ReliefImage(warped, scale);
  v->candidate_colour = ColourImage(warped, scale);
  v->plot = CmcPlot(a.face, b.face, r);
  nlohmann::json cells = nlohmann::json::array();
  const double sp = a.face.surface.spacing_x_um;
  for (const CmcCell& c : d.cells)
    cells.push_back({{"x_px", (c.x_um / sp + 0.5) * scale},  // image pixels from its top-left corner
                     {"y_px", (c.y_um / sp + 0.5) * scale},
                     {"side_px", c.side_um / sp * scale},
                     {"dx_px", c.dx_um / sp * scale},
                     {"dy_px", c.dy_um / sp * scale},
                     {"x_um", c.x_um},
                     {"y_um", c.y_um},
                     {"side_um", c.side_um},
                     {"congruent", c.congruent},
                     {"ccf", Finite(c.ccf)},
                     {"dx_um", c.dx_um},
                     {"dy_um", c.dy_um}});
  v->explain = {{"kind", "cartridge_case"},
                {"width", v->query_relief.cols},
                {"height", v->query_relief.rows},
                {"spacing_um", a.face.surface.spacing_x_um / scale},
                {"score", r.score},
                {"recorded_score", v->hit.hit.score},
                {"reproduced", static_cast<double>(r.score) == v->hit.hit.score},
                {"cmc_count", r.count},
                {"cmc_forward", d.count},
                {"cmc_backward", r.backward.count},
                {"firing_pin_compared", r.firing_pin.compared},
                {"firing_pin_congruent_sectors", r.firing_pin.congruent_sectors},
                {"rotation_deg", d.rotation_deg},
                {"translation_um", {d.shift_x_um, d.shift_y_um}},
                {"cells", cells}};
  // The numbers behind the score (CmcDetails: k of n, the surface correlation, …).
  nlohmann::json features = nlohmann::json::object();
  for (const auto& [name, value] : CmcDetails(r)) features[name] = Finite(value);
  v->explain["features"] = features;
}

/// The lands of the bullet an item belongs to (same case and item label), by position.
std::vector<index::ItemRecord> BulletOf(index::Database& db, const index::ItemRecord& land) {
  std::vector<index::ItemRecord> out;
  for (index::ItemRecord& it : db.List())
    if (it.kind == Kind::kBullet && it.case_id == land.case_id && it.item_label == land.item_label)
      out.push_back(std::move(it));
  std::stable_sort(out.begin(), out.end(), [](const index::ItemRecord& a, const index::ItemRecord& b) {
    return index::LandPosition(a) < index::LandPosition(b);
  });
  return out;
}

void BuildBullet(index::Database& db, HitView* v) {
  const std::vector<index::ItemRecord> qa = BulletOf(db, v->hit.query), cb = BulletOf(db, v->hit.candidate);
  Check(!qa.empty() && !cb.empty(), "hit " + std::to_string(v->hit.hit.id) + ": bullet lands not found");
  const auto signatures = [&](const std::vector<index::ItemRecord>& lands, std::vector<int>* positions,
                              std::vector<std::string>* labels, const std::string& prefix) {
    std::vector<LandSignature> out;
    for (std::size_t k = 0; k < lands.size(); ++k) {
      const int p = index::LandPosition(lands[k]);
      positions->push_back(p >= 0 ? p : static_cast<int>(k));
      labels->push_back(prefix + std::to_string(positions->back() + 1));
      out.push_back(ExtractLandSignature(db.LoadSurface(lands[k].id)));
    }
    return out;
  };
  std::vector<int> pos_a, pos_b;
  std::vector<std::string> labels_a, labels_b;
  const std::vector<LandSignature> sa = signatures(qa, &pos_a, &labels_a, "A"),
                                   sb = signatures(cb, &pos_b, &labels_b, "B");
  const auto features = CompareLandSignatureSets(sa, sb);
  std::vector<std::vector<double>> scores(sa.size(), std::vector<double>(sb.size()));
  for (std::size_t i = 0; i < sa.size(); ++i)
    for (std::size_t j = 0; j < sb.size(); ++j) scores[i][j] = LandScore(features[i][j]);
  const int lands =
      std::max(*std::max_element(pos_a.begin(), pos_a.end()), *std::max_element(pos_b.begin(), pos_b.end())) +
      1;
  const BulletComparison bc = CompareBullets(scores, pos_a, pos_b, lands);
  std::vector<MatchedLandPlot> plots;
  for (const auto& [i, j] : bc.matched) {
    const auto ui = static_cast<std::size_t>(i), uj = static_cast<std::size_t>(j);
    plots.push_back({qa[ui].file, cb[uj].file, &sa[ui], &sb[uj], features[ui][uj], scores[ui][uj]});
  }
  v->plot = BulletPlot(plots, bc, labels_a, labels_b);
  const Surface q = db.LoadSurface(v->hit.hit.query), c = db.LoadSurface(v->hit.hit.candidate);
  v->query_relief = ReliefImage(q, FitScale(q));
  v->query_colour = ColourImage(q, FitScale(q));
  v->candidate_relief = ReliefImage(c, FitScale(c));
  v->candidate_colour = ColourImage(c, FitScale(c));
  nlohmann::json matrix = nlohmann::json::array(), matched = nlohmann::json::array();
  for (const auto& row : scores) {
    nlohmann::json r = nlohmann::json::array();
    for (double x : row) r.push_back(Finite(x));
    matrix.push_back(r);
  }
  for (const auto& [i, j] : bc.matched) matched.push_back({i, j});
  v->explain = {{"kind", "bullet"},
                {"score", Finite(bc.bullet_score)},
                {"recorded_score", v->hit.hit.score},
                {"phase", bc.phase},
                {"lands_a", labels_a},
                {"lands_b", labels_b},
                {"matrix", matrix},
                {"matched", matched}};
}

}  // namespace

cv::Mat ReliefImage(const Surface& s, double scale) {
  const auto [mean_h, sd_h] = MeanSd(s.values);
  const double mean = mean_h, sd = sd_h;  // (a lambda below uses them: clang captures no bindings)
  // Normals of the surface with heights in units of σ per pixel: the relief
  // shows texture at any height scale.
  cv::Mat out(s.values.size(), CV_8UC4, cv::Scalar(0, 0, 0, 0));
  const auto at = [&](int y, int x) {
    const double v =
        s.values.at<double>(std::clamp(y, 0, s.values.rows - 1), std::clamp(x, 0, s.values.cols - 1));
    return std::isfinite(v) ? (v - mean) / sd : std::numeric_limits<double>::quiet_NaN();
  };
  const double lx = -1 / std::sqrt(3.0), ly = -1 / std::sqrt(3.0), lz = 1 / std::sqrt(3.0);
  for (int y = 0; y < s.values.rows; ++y)
    for (int x = 0; x < s.values.cols; ++x) {
      const double z = at(y, x);
      if (!std::isfinite(z)) continue;
      double gx = at(y, x + 1) - at(y, x - 1), gy = at(y + 1, x) - at(y - 1, x);
      if (!std::isfinite(gx)) gx = 0;
      if (!std::isfinite(gy)) gy = 0;
      const double nx = -gx, ny = -gy, nz = 2.0, norm = std::sqrt(nx * nx + ny * ny + nz * nz);
      const double shade = std::clamp((nx * lx + ny * ly + nz * lz) / norm, 0.0, 1.0);
      const auto g = static_cast<unsigned char>(std::lround(30 + 225 * shade));
      out.at<cv::Vec4b>(y, x) = {g, g, g, 255};
    }
  return Resized(out, scale);
}

cv::Mat ColourImage(const Surface& s, double scale) {
  const auto [mean, sd] = MeanSd(s.values);
  cv::Mat grey(s.values.size(), CV_8UC1, cv::Scalar(0));
  for (int y = 0; y < s.values.rows; ++y)
    for (int x = 0; x < s.values.cols; ++x) {
      const double v = s.values.at<double>(y, x);
      if (std::isfinite(v))
        grey.at<unsigned char>(y, x) =
            static_cast<unsigned char>(std::clamp(127.5 + 127.5 * (v - mean) / (3 * sd), 0.0, 255.0));
    }
  cv::Mat colour;
  cv::applyColorMap(grey, colour, cv::COLORMAP_VIRIDIS);
  cv::Mat out(s.values.size(), CV_8UC4, cv::Scalar(0, 0, 0, 0));
  for (int y = 0; y < s.values.rows; ++y)
    for (int x = 0; x < s.values.cols; ++x) {
      if (!std::isfinite(s.values.at<double>(y, x))) continue;
      const cv::Vec3b c = colour.at<cv::Vec3b>(y, x);
      out.at<cv::Vec4b>(y, x) = {c[0], c[1], c[2], 255};
    }
  return Resized(out, scale);
}

std::string EncodePng(const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  bool ok = false;
  try {
    ok = cv::imencode(".png", image, bytes);
  } catch (const cv::Exception&) {
    ok = false;
  }
  Check(ok && !bytes.empty(), "cannot encode a PNG image");
  return std::string(bytes.begin(), bytes.end());
}

std::shared_ptr<const HitView> BuildHitView(index::Database& db, const index::ReviewHit& hit) {
  auto v = std::make_shared<HitView>();
  v->hit = hit;
  // Shown the way the comparator that recorded the hit presents its comparisons
  // (one with no view of its own, or of a name this version does not know: the
  // kind's search comparator's view).
  const ComparatorInfo* recorded = FindComparator(hit.hit.comparator);
  const Presentation shown = recorded && recorded->presentation != Presentation::kScoreOnly
                                 ? recorded->presentation
                                 : DefaultComparator(hit.query.kind).presentation;
  if (shown == Presentation::kLandSignatures)
    BuildBullet(db, v.get());
  else
    BuildCartridgeCase(db, v.get());
  return v;
}

}  // namespace toolmark::review
