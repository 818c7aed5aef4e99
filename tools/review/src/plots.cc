#include "toolmark/review/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "toolmark/engine/check.h"

namespace toolmark::review {
namespace {

constexpr int kWidth = 1200;
constexpr int kPanelHeight = 170;
constexpr int kCell = 46;
const cv::Scalar kInk(40, 40, 40), kBlue(180, 90, 20), kRed(40, 40, 200), kGrid(215, 215, 215);

void Text(cv::Mat* img, const std::string& s, cv::Point at, double scale = 0.45, cv::Scalar colour = kInk) {
  cv::putText(*img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// Heat map of the land scores (white 0 → dark green 1), chosen phase outlined.
int DrawMatrix(cv::Mat* img, const BulletComparison& bc, int top, const std::vector<std::string>& labels_a,
               const std::vector<std::string>& labels_b) {
  const std::size_t rows = bc.land_scores.size(), cols = rows ? bc.land_scores[0].size() : 0;
  Text(img, "land scores (rows: lands of A, columns: lands of B); outlined: chosen phase", {20, top + 16});
  const int x0 = 70, y0 = top + 50;
  for (std::size_t j = 0; j < cols; ++j)
    Text(img, labels_b[j], {x0 + static_cast<int>(j) * kCell + 12, y0 - 8});
  for (std::size_t i = 0; i < rows; ++i) {
    Text(img, labels_a[i], {x0 - 40, y0 + static_cast<int>(i) * kCell + 28});
    for (std::size_t j = 0; j < cols; ++j) {
      const double s = bc.land_scores[i][j];
      const double t = std::isfinite(s) ? std::clamp(s, 0.0, 1.0) : 0.0;
      const cv::Rect cell(x0 + static_cast<int>(j) * kCell, y0 + static_cast<int>(i) * kCell, kCell, kCell);
      cv::rectangle(*img, cell, cv::Scalar(255 - 200 * t, 255 - 90 * t, 255 - 200 * t), cv::FILLED);
      cv::rectangle(*img, cell, kGrid, 1);
      Text(img, std::isfinite(s) ? Format("%.2f", s) : "-", {cell.x + 7, cell.y + 28}, 0.42,
           t > 0.6 ? cv::Scalar(255, 255, 255) : kInk);
    }
  }
  for (const auto& [i, j] : bc.matched)
    cv::rectangle(*img, cv::Rect(x0 + j * kCell, y0 + i * kCell, kCell, kCell), kRed, 2);
  Text(img,
       Format("bullet score %.3f", bc.bullet_score) + Format("   phase offset %.0f", bc.phase) +
           Format("   gap %.3f", bc.phase_gap) + Format("   Welch t %.2f", bc.phase_t),
       {x0 + static_cast<int>(cols) * kCell + 30, y0 + 20}, 0.5);
  return y0 + static_cast<int>(rows) * kCell + 20;
}

void DrawSignatures(cv::Mat* img, const MatchedLandPlot& m, int top) {
  const LandSignature& a = *m.a;
  const LandSignature& b = *m.b;
  // x in A's scan coordinates: B's point x lies at x + lag_um.
  const double a0 = a.start_um, a1 = a.start_um + a.spacing_um * static_cast<double>(a.values.size());
  const double b0 = b.start_um + m.features.lag_um,
               b1 = b0 + b.spacing_um * static_cast<double>(b.values.size());
  const double x_min = std::min(a0, b0), x_max = std::max(a1, b1);
  double amp = 0;
  for (double v : a.values)
    if (std::isfinite(v)) amp = std::max(amp, std::abs(v));
  for (double v : b.values)
    if (std::isfinite(v)) amp = std::max(amp, std::abs(v));
  amp = std::max(amp, 1e-6);
  const int left = 60, right = kWidth - 20, plot_top = top + 26, plot_bottom = top + kPanelHeight - 24;
  const auto px = [&](double x) {
    return left + static_cast<int>(std::lround((x - x_min) / (x_max - x_min) * (right - left)));
  };
  const auto py = [&](double z) {
    return (plot_top + plot_bottom) / 2 -
           static_cast<int>(std::lround(z / amp * (plot_bottom - plot_top) / 2));
  };
  cv::rectangle(*img, cv::Rect(left, plot_top, right - left, plot_bottom - plot_top), kGrid, 1);
  cv::line(*img, {left, py(0)}, {right, py(0)}, kGrid, 1);
  const auto curve = [&](const LandSignature& s, double offset, cv::Scalar colour) {
    for (std::size_t i = 1; i < s.values.size(); ++i) {
      if (!std::isfinite(s.values[i - 1]) || !std::isfinite(s.values[i])) continue;
      const double x0 = offset + s.spacing_um * static_cast<double>(i - 1), x1 = x0 + s.spacing_um;
      cv::line(*img, {px(x0), py(s.values[i - 1])}, {px(x1), py(s.values[i])}, colour, 1, cv::LINE_AA);
    }
  };
  curve(a, a.start_um, kBlue);
  curve(b, b.start_um + m.features.lag_um, kRed);
  Text(img, m.name_a, {left, top + 16}, 0.45, kBlue);
  Text(img, m.name_b, {left + 330, top + 16}, 0.45, kRed);
  Text(img,
       Format("score %.3f", m.score) + Format("  ccf %.3f", m.features.ccf) +
           Format("  CMS %.0f", m.features.cms) + Format("  lag %.1f um", m.features.lag_um),
       {left + 700, top + 16});
  Text(img, Format("%.0f um", x_min), {left, plot_bottom + 16}, 0.4);
  Text(img, Format("%.0f um", x_max), {right - 70, plot_bottom + 16}, 0.4);
  Text(img, Format("+%.2f um", amp), {4, plot_top + 10}, 0.35);
}

}  // namespace

namespace {

/// A surface as 8-bit grey (mean ± 3σ of the valid points), missing points white.
cv::Mat Grey(const Surface& s) {
  double sum = 0, squares = 0, n = 0;
  for (int y = 0; y < s.values.rows; ++y)
    for (int x = 0; x < s.values.cols; ++x) {
      const double v = s.values.at<double>(y, x);
      if (std::isfinite(v)) sum += v, squares += v * v, n += 1;
    }
  const double mean = n > 0 ? sum / n : 0,
               sd = n > 1 ? std::sqrt(std::max(1e-30, squares / n - mean * mean)) : 1;
  cv::Mat out(s.values.size(), CV_8UC3, cv::Scalar(255, 255, 255));
  for (int y = 0; y < s.values.rows; ++y)
    for (int x = 0; x < s.values.cols; ++x) {
      const double v = s.values.at<double>(y, x);
      if (!std::isfinite(v)) continue;
      const auto g =
          static_cast<unsigned char>(std::clamp(127.5 + 127.5 * (v - mean) / (3 * sd), 0.0, 255.0));
      out.at<cv::Vec3b>(y, x) = {g, g, g};
    }
  return out;
}

}  // namespace

void WritePng(const std::string& path, const cv::Mat& img) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, img);
  } catch (const cv::Exception&) {
    ok = false;
  }
  Check(ok, path + ": cannot write the PNG plot");
}

void WriteCmcPng(const std::string& path, const BreechFace& a, const BreechFace& b, const CmcResult& result) {
  WritePng(path, CmcPlot(a, b, result));
}

cv::Mat CmcPlot(const BreechFace& a, const BreechFace& b, const CmcResult& result) {
  constexpr int kScale = 3;  // working cells are 25 µm: draw each as 3×3 pixels
  cv::Mat ga, gb;
  cv::resize(Grey(a.surface), ga, {}, kScale, kScale, cv::INTER_NEAREST);
  cv::resize(Grey(b.surface), gb, {}, kScale, kScale, cv::INTER_NEAREST);
  const int top = 40, gap = 20;
  cv::Mat img(top + std::max(ga.rows, gb.rows) + 10, ga.cols + gap + gb.cols, CV_8UC3,
              cv::Scalar(255, 255, 255));
  ga.copyTo(img(cv::Rect(0, top, ga.cols, ga.rows)));
  gb.copyTo(img(cv::Rect(ga.cols + gap, top, gb.cols, gb.rows)));
  const double s = a.surface.spacing_x_um;
  const CmcDirection& d = result.forward;
  for (const CmcCell& c : d.cells) {
    const cv::Scalar colour = c.congruent ? cv::Scalar(40, 170, 40) : cv::Scalar(160, 160, 160);
    const double half = 0.5 * c.side_um / s * kScale;
    const cv::Point2d centre(c.x_um / s * kScale, top + c.y_um / s * kScale);
    cv::rectangle(img, cv::Point2d(centre.x - half, centre.y - half),
                  cv::Point2d(centre.x + half, centre.y + half), colour, c.congruent ? 2 : 1);
    if (!c.congruent) continue;
    // The match in B: the cell rotated back by −θ about its matched centre.
    const cv::RotatedRect match(cv::Point2f(static_cast<float>(ga.cols + gap + c.other_x_um / s * kScale),
                                            static_cast<float>(top + c.other_y_um / s * kScale)),
                                cv::Size2f(static_cast<float>(2 * half), static_cast<float>(2 * half)),
                                static_cast<float>(-d.rotation_deg));
    cv::Point2f corners[4];
    match.points(corners);
    for (int k = 0; k < 4; ++k) cv::line(img, corners[k], corners[(k + 1) % 4], colour, 2, cv::LINE_AA);
  }
  Text(&img,
       Format("CMC %.0f", result.count) + Format(" (A in B %.0f,", d.count) +
           Format(" B in A %.0f)", result.backward.count) + Format("   rotation %.1f deg", d.rotation_deg) +
           Format("   translation (%.0f,", d.shift_x_um) + Format(" %.0f) um", d.shift_y_um),
       {10, 25}, 0.55);
  return img;
}

void WriteBulletPng(const std::string& path, const std::vector<MatchedLandPlot>& matched,
                    const BulletComparison& bullets, const std::vector<std::string>& labels_a,
                    const std::vector<std::string>& labels_b) {
  WritePng(path, BulletPlot(matched, bullets, labels_a, labels_b));
}

cv::Mat BulletPlot(const std::vector<MatchedLandPlot>& matched, const BulletComparison& bullets,
                   const std::vector<std::string>& labels_a, const std::vector<std::string>& labels_b) {
  Check(labels_a.size() == bullets.land_scores.size() &&
            (bullets.land_scores.empty() || labels_b.size() == bullets.land_scores[0].size()),
        "plot: one label per land needed");
  const int matrix_height = 90 + static_cast<int>(bullets.land_scores.size()) * kCell;
  cv::Mat img(matrix_height + static_cast<int>(matched.size()) * kPanelHeight + 10, kWidth, CV_8UC3,
              cv::Scalar(255, 255, 255));
  int y = DrawMatrix(&img, bullets, 0, labels_a, labels_b);
  for (const MatchedLandPlot& m : matched) {
    DrawSignatures(&img, m, y);
    y += kPanelHeight;
  }
  return img;
}

}  // namespace toolmark::review
