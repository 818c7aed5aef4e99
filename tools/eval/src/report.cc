// Evaluation reports: JSON, CSV, HTML with inline SVG, PNG via OpenCV.
#include "toolmark/eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "csv.h"
#include "toolmark/base/file_io.h"
#include "toolmark/engine/calibration.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"

namespace toolmark::eval {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

/// A number for JSON: null where it is not finite.
json Finite(double v) { return std::isfinite(v) ? json(v) : json(); }

/// "%.6g", or "n/a" for NaN.
std::string Fmt(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// Axis tick label: three significant digits.
std::string Tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// The pairs as CSV: the files, the score and truth, the registration, the
/// LR, then the firearms (ground truth, for cross-validation by firearm), the
/// dataset's folder name (to pool tables of several sets: calibrate
/// --figures-by dataset) and the comparator's details behind the score (e.g.
/// the CMC's cells_compared).
std::string PairsCsv(const EvalLevel& lv) {
  const bool aligned = lv.alignments.size() == lv.pairs.size();
  const bool calibrated = lv.log10_lr.size() == lv.pairs.size();
  const bool firearms = lv.firearms.size() == lv.names.size();
  std::vector<std::string> details;
  if (aligned && !lv.alignments.empty())
    for (const auto& d : lv.alignments.front().details) details.emplace_back(d.first);
  std::string csv =
      "file_a,file_b,score,known_match,rotation_deg,shift_x_um,shift_y_um,log10_lr,firearm_a,firearm_b,"
      "dataset";
  const std::string dataset =
      detail::CsvField(fs::path(lv.dataset).lexically_normal().filename().empty()
                           ? fs::path(lv.dataset).lexically_normal().parent_path().filename().string()
                           : fs::path(lv.dataset).lexically_normal().filename().string());
  for (const std::string& d : details) csv += "," + d;
  csv += "\n";
  for (std::size_t k = 0; k < lv.pairs.size(); ++k) {
    const ScoredPair& p = lv.pairs[k];
    char num[128];
    std::snprintf(num, sizeof num, "%.17g,%d", p.score, p.known_match ? 1 : 0);
    csv += detail::CsvField(lv.names[static_cast<std::size_t>(p.a)]) + "," +
           detail::CsvField(lv.names[static_cast<std::size_t>(p.b)]) + "," + num;
    if (aligned) {
      const Comparison& c = lv.alignments[k];
      std::snprintf(num, sizeof num, ",%.17g,%.17g,%.17g", c.rotation_deg, c.shift_x_um, c.shift_y_um);
      csv += num;
    } else {
      csv += ",,,";  // bullet level: no single alignment
    }
    if (calibrated && !std::isnan(lv.log10_lr[k])) {
      std::snprintf(num, sizeof num, ",%.17g", lv.log10_lr[k]);
      csv += num;
    } else {
      csv += ",";  // not calibrated
    }
    csv += ',';
    if (firearms) csv += detail::CsvField(lv.firearms[static_cast<std::size_t>(p.a)]);
    csv += ',';
    if (firearms) csv += detail::CsvField(lv.firearms[static_cast<std::size_t>(p.b)]);
    csv += "," + dataset;
    for (std::size_t d = 0; d < details.size(); ++d) {
      const auto& have = lv.alignments[k].details;
      if (d < have.size() && have[d].first == details[d] && !std::isnan(have[d].second)) {
        std::snprintf(num, sizeof num, ",%.17g", have[d].second);
        csv += num;
      } else {
        csv += ",";
      }
    }
    csv += "\n";
  }
  return csv;
}

// ---- plot data -----------------------------------------------------------

/// Per-class score histograms on common bins; heights are fractions of the class.
struct Histogram {
  double lo = 0, hi = 1;
  std::vector<double> km, knm;
};

Histogram MakeHistogram(const std::vector<ScoredPair>& pairs, int bins) {
  Histogram h;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  std::size_t nkm = 0, nknm = 0;
  for (const ScoredPair& p : pairs) {
    if (!std::isfinite(p.score)) continue;
    lo = std::min(lo, p.score);
    hi = std::max(hi, p.score);
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  h.lo = lo;
  h.hi = hi;
  h.km.assign(static_cast<std::size_t>(bins), 0);
  h.knm.assign(static_cast<std::size_t>(bins), 0);
  for (const ScoredPair& p : pairs) {
    if (!std::isfinite(p.score)) continue;
    const double f = (p.score - lo) / (hi - lo) * bins;
    const auto b = static_cast<std::size_t>(std::clamp(static_cast<int>(f), 0, bins - 1));
    (p.known_match ? h.km : h.knm)[b] += 1;
    (p.known_match ? nkm : nknm) += 1;
  }
  for (double& v : h.km) v /= std::max<double>(1, static_cast<double>(nkm));
  for (double& v : h.knm) v /= std::max<double>(1, static_cast<double>(nknm));
  return h;
}

struct Point {
  double x = 0, y = 0;
};

/// ROC points (FPR, TPR) for every distinct score as threshold, from (0, 0) to (1, 1).
std::vector<Point> RocPoints(const std::vector<ScoredPair>& pairs) {
  std::vector<std::pair<double, bool>> s;
  std::size_t nkm = 0, nknm = 0;
  for (const ScoredPair& p : pairs) {
    s.emplace_back(std::isnan(p.score) ? -std::numeric_limits<double>::infinity() : p.score, p.known_match);
    (p.known_match ? nkm : nknm) += 1;
  }
  std::sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Point> roc{{0, 0}};
  if (!nkm || !nknm) return roc;
  std::size_t tp = 0, fp = 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    (s[k].second ? tp : fp) += 1;
    if (k + 1 == s.size() || s[k + 1].first != s[k].first) {
      roc.push_back({static_cast<double>(fp) / static_cast<double>(nknm),
                     static_cast<double>(tp) / static_cast<double>(nkm)});
    }
  }
  return roc;
}

/// Pixel geometry of a plot: data box [x0, x1] × [y0, y1] drawn inside margins.
struct Frame {
  int width = 560, height = 390, left = 60, right = 30, top = 48, bottom = 50;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double Px(double x) const { return left + (x - x0) / (x1 - x0) * (width - left - right); }
  double Py(double y) const { return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom); }
};

constexpr const char* kKmColour = "#e6550d";   // orange
constexpr const char* kKnmColour = "#3182bd";  // blue
const cv::Scalar kKmBgr(13, 85, 230), kKnmBgr(189, 130, 49);

Frame HistFrame(const Histogram& h) {
  Frame f;
  f.x0 = h.lo;
  f.x1 = h.hi;
  double top = 0;
  for (double v : h.km) top = std::max(top, v);
  for (double v : h.knm) top = std::max(top, v);
  f.y1 = top > 0 ? top * 1.25 : 1;  // headroom for the legend
  return f;
}

// ---- SVG -------------------------------------------------------------------

std::string SvgText(double x, double y, const std::string& text, const char* anchor = "middle") {
  char buf[160];
  std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"12\">", x, y,
                anchor);
  return buf + HtmlEscape(text) + "</text>\n";
}

std::string SvgLine(double xa, double ya, double xb, double yb, const char* style) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" style=\"%s\"/>\n", xa,
                ya, xb, yb, style);
  return buf;
}

/// Axes box, five ticks with labels on each axis, and axis titles.
std::string SvgAxes(const Frame& f, const std::string& xtitle, const std::string& ytitle) {
  std::string s;
  s += SvgLine(f.Px(f.x0), f.Py(f.y0), f.Px(f.x1), f.Py(f.y0), "stroke:#000");
  s += SvgLine(f.Px(f.x0), f.Py(f.y0), f.Px(f.x0), f.Py(f.y1), "stroke:#000");
  for (int t = 0; t <= 4; ++t) {
    const double x = f.x0 + (f.x1 - f.x0) * t / 4, y = f.y0 + (f.y1 - f.y0) * t / 4;
    s += SvgLine(f.Px(x), f.Py(f.y0), f.Px(x), f.Py(f.y0) + 5, "stroke:#000");
    s += SvgText(f.Px(x), f.Py(f.y0) + 18, Tick(x));
    s += SvgLine(f.Px(f.x0) - 5, f.Py(y), f.Px(f.x0), f.Py(y), "stroke:#000");
    s += SvgText(f.Px(f.x0) - 8, f.Py(y) + 4, Tick(y), "end");
  }
  s += SvgText((f.Px(f.x0) + f.Px(f.x1)) / 2, f.height - 10, xtitle);
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "<text transform=\"translate(14,%.1f) rotate(-90)\" text-anchor=\"middle\" "
                "font-size=\"12\">",
                (f.Py(f.y0) + f.Py(f.y1)) / 2);
  s += buf + HtmlEscape(ytitle) + "</text>\n";
  return s;
}

std::string SvgOpen(const Frame& f, const std::string& title) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" "
                "fill=\"#fff\"/>\n",
                f.width, f.height, f.width, f.height);
  return buf + SvgText(f.width / 2.0, 18, title);
}

std::string SvgLegendEntry(const Frame& f, int row, const char* colour, const std::string& label) {
  char buf[200];
  const double x = f.width - f.right - 170, y = f.top + 8 + 18 * row;
  std::snprintf(buf, sizeof buf,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\" fill-opacity=\"0.6\"/>\n",
                x, y - 9, colour);
  return buf + SvgText(x + 20, y, label, "start");
}

std::string SvgHistogram(const EvalLevel& lv) {
  const Histogram h = MakeHistogram(lv.pairs, 30);
  const Frame f = HistFrame(h);
  std::string s = SvgOpen(f, "Score distributions (" + lv.level + " level)");
  const double bw = (h.hi - h.lo) / static_cast<double>(h.km.size());
  for (int cls = 0; cls < 2; ++cls) {
    const std::vector<double>& v = cls ? h.km : h.knm;
    for (std::size_t b = 0; b < v.size(); ++b) {
      if (v[b] <= 0) continue;
      const double xa = f.Px(h.lo + bw * static_cast<double>(b)),
                   xb = f.Px(h.lo + bw * static_cast<double>(b + 1));
      char buf[220];
      std::snprintf(
          buf, sizeof buf,
          "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" fill-opacity=\"0.55\"/>\n",
          xa, f.Py(v[b]), xb - xa, f.Py(0) - f.Py(v[b]), cls ? kKmColour : kKnmColour);
      s += buf;
    }
  }
  s += SvgAxes(f, "score", "fraction of pairs in class");
  char box[200];
  std::snprintf(box, sizeof box,
                "<rect x=\"%d\" y=\"%d\" width=\"176\" height=\"42\" fill=\"#fff\" fill-opacity=\"0.85\" "
                "stroke=\"#ccc\"/>\n",
                f.width - f.right - 176, f.top - 6);
  s += box;
  s += SvgLegendEntry(f, 0, kKmColour, "known match (" + std::to_string(lv.metrics.km_pairs) + ")");
  s += SvgLegendEntry(f, 1, kKnmColour, "known non-match (" + std::to_string(lv.metrics.knm_pairs) + ")");
  return s + "</svg>\n";
}

std::string SvgRoc(const EvalLevel& lv) {
  Frame f;
  f.width = 420;
  f.height = 420;
  std::string s = SvgOpen(f, "ROC curve (" + lv.level + " level)");
  s += SvgLine(f.Px(0), f.Py(0), f.Px(1), f.Py(1), "stroke:#999;stroke-dasharray:4 4");
  std::string pts;
  for (const Point& p : RocPoints(lv.pairs)) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f,%.2f ", f.Px(p.x), f.Py(p.y));
    pts += buf;
  }
  s += "<polyline fill=\"none\" stroke=\"" + std::string(kKmColour) + "\" stroke-width=\"2\" points=\"" +
       pts + "\"/>\n";
  s += SvgAxes(f, "false positive rate", "true positive rate");
  s += SvgText(f.Px(0.7), f.Py(0.1), "AUC " + Fmt(lv.metrics.auc) + ", EER " + Fmt(lv.metrics.eer));
  return s + "</svg>\n";
}

// ---- PNG (OpenCV) ------------------------------------------------------------

cv::Point Pix(const Frame& f, double x, double y) {
  return {static_cast<int>(std::lround(f.Px(x))), static_cast<int>(std::lround(f.Py(y)))};
}

void PngText(cv::Mat& img, const std::string& text, cv::Point at) {
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
}

void PngAxes(cv::Mat& img, const Frame& f, const std::string& xtitle, const std::string& ytitle) {
  const cv::Scalar black(0, 0, 0);
  cv::line(img, Pix(f, f.x0, f.y0), Pix(f, f.x1, f.y0), black);
  cv::line(img, Pix(f, f.x0, f.y0), Pix(f, f.x0, f.y1), black);
  for (int t = 0; t <= 4; ++t) {
    const double x = f.x0 + (f.x1 - f.x0) * t / 4, y = f.y0 + (f.y1 - f.y0) * t / 4;
    const cv::Point px = Pix(f, x, f.y0), py = Pix(f, f.x0, y);
    cv::line(img, px, px + cv::Point(0, 5), black);
    PngText(img, Tick(x), px + cv::Point(-12, 18));
    cv::line(img, py, py - cv::Point(5, 0), black);
    PngText(img, Tick(y), py + cv::Point(-f.left + 12, 4));
  }
  PngText(img, xtitle, cv::Point(f.width / 2 - 40, f.height - 8));
  PngText(img, ytitle, cv::Point(4, f.top - 14));
}

std::string EncodePng(const cv::Mat& img, const std::string& path) {
  std::vector<uchar> buf;
  Check(cv::imencode(".png", img, buf), path + ": could not encode PNG");
  return std::string(buf.begin(), buf.end());
}

/// A colour as it looks at 55% opacity on white (the bars' blend).
cv::Scalar Translucent(const cv::Scalar& c) {
  return {0.55 * c[0] + 0.45 * 255, 0.55 * c[1] + 0.45 * 255, 0.55 * c[2] + 0.45 * 255};
}

std::string PngHistogram(const EvalLevel& lv, const std::string& path) {
  const Histogram h = MakeHistogram(lv.pairs, 30);
  const Frame f = HistFrame(h);
  cv::Mat img(f.height, f.width, CV_8UC3, cv::Scalar(255, 255, 255));
  const double bw = (h.hi - h.lo) / static_cast<double>(h.km.size());
  for (int cls = 0; cls < 2; ++cls) {
    cv::Mat layer = img.clone();
    const std::vector<double>& v = cls ? h.km : h.knm;
    for (std::size_t b = 0; b < v.size(); ++b) {
      if (v[b] <= 0) continue;
      cv::rectangle(layer, Pix(f, h.lo + bw * static_cast<double>(b), v[b]),
                    Pix(f, h.lo + bw * static_cast<double>(b + 1), 0), cls ? kKmBgr : kKnmBgr, cv::FILLED);
    }
    cv::addWeighted(layer, 0.55, img, 0.45, 0, img);  // translucent overlay
  }
  PngAxes(img, f, "score", "fraction of pairs in class");
  const int lx = f.width - f.right - 170;
  cv::rectangle(img, cv::Rect(lx - 6, f.top - 6, 176, 42), cv::Scalar(255, 255, 255), cv::FILLED);
  cv::rectangle(img, cv::Rect(lx - 6, f.top - 6, 176, 42), cv::Scalar(204, 204, 204));
  cv::rectangle(img, cv::Rect(lx, f.top, 14, 10), Translucent(kKmBgr), cv::FILLED);
  PngText(img, "known match (" + std::to_string(lv.metrics.km_pairs) + ")", cv::Point(lx + 20, f.top + 10));
  cv::rectangle(img, cv::Rect(lx, f.top + 18, 14, 10), Translucent(kKnmBgr), cv::FILLED);
  PngText(img, "known non-match (" + std::to_string(lv.metrics.knm_pairs) + ")",
          cv::Point(lx + 20, f.top + 28));
  PngText(img, "Score distributions (" + lv.level + " level)", cv::Point(f.left, 18));
  return EncodePng(img, path);
}

std::string PngRoc(const EvalLevel& lv, const std::string& path) {
  Frame f;
  f.width = 420;
  f.height = 420;
  cv::Mat img(f.height, f.width, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::line(img, Pix(f, 0, 0), Pix(f, 1, 1), cv::Scalar(160, 160, 160), 1, cv::LINE_AA);
  const std::vector<Point> roc = RocPoints(lv.pairs);
  for (std::size_t k = 1; k < roc.size(); ++k) {
    cv::line(img, Pix(f, roc[k - 1].x, roc[k - 1].y), Pix(f, roc[k].x, roc[k].y), kKmBgr, 2, cv::LINE_AA);
  }
  PngAxes(img, f, "false positive rate", "true positive rate");
  PngText(img, "AUC " + Fmt(lv.metrics.auc) + ", EER " + Fmt(lv.metrics.eer), Pix(f, 0.45, 0.1));
  PngText(img, "ROC curve (" + lv.level + " level)", cv::Point(f.left, 18));
  return EncodePng(img, path);
}

// ---- HTML ------------------------------------------------------------------

std::string MetricsTable(const EvalLevel& lv) {
  const Metrics& m = lv.metrics;
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"items", std::to_string(lv.names.size())},
      {"pairs evaluated",
       std::to_string(m.pairs) +
           (lv.sampled ? " (sampled from " + std::to_string(lv.candidate_pairs) + ")" : "")},
      {"known-match pairs", std::to_string(m.km_pairs)},
      {"known-non-match pairs", std::to_string(m.knm_pairs)},
      {"AUC", Fmt(m.auc)},
      {"EER", Fmt(m.eer)},
      {"FPR at TPR 95%", Fmt(m.fpr_at_tpr95)},
      {"FPR at TPR 99%", Fmt(m.fpr_at_tpr99)},
      {"margin (lowest KM − highest KNM)", Fmt(m.margin)},
      {"rank-1", Fmt(m.rank1)},
      {"rank-10", Fmt(m.rank10)},
      {"queries (items with a known match)", std::to_string(m.queries)},
      {"Cllr (bits)", m.cllr ? Fmt(*m.cllr) : "not calibrated"},
      {"min Cllr (PAV on these pairs)", Fmt(lv.min_cllr)},
      {"calibration", lv.calibration
                          ? lv.calibration->calibration.provenance.set + " (" + lv.calibration->source +
                                ", log10 LR in [" + Fmt(lv.calibration->calibration.min_log10_lr) + ", " +
                                Fmt(lv.calibration->calibration.max_log10_lr) + "])"
                          : "none"}};
  std::string s = "<table>\n";
  for (const auto& [k, v] : rows)
    s += "<tr><th>" + HtmlEscape(k) + "</th><td>" + HtmlEscape(v) + "</td></tr>\n";
  return s + "</table>\n";
}

std::string Html(const EvalLevel& lv) {
  std::string s =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>toolmark eval: " +
      HtmlEscape(lv.dataset) + " (" + lv.level +
      ")</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}"
      "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px "
      "10px;text-align:left}"
      "th{background:#f4f4f4;font-weight:normal}.plots{display:flex;flex-wrap:wrap;gap:2em}"
      ".note{color:#a33}</style>\n</head><body>\n";
  s += "<h1>Evaluation: " + HtmlEscape(lv.level) + " level</h1>\n<p>Dataset <code>" + HtmlEscape(lv.dataset) +
       "</code>, comparator <code>" + HtmlEscape(lv.comparator) + "</code>, Toolmark " +
       HtmlEscape(Version()) + "</p>\n";
  for (const std::string& n : lv.notes) s += "<p class=\"note\">" + HtmlEscape(n) + "</p>\n";
  s += "<div class=\"plots\">\n" + SvgHistogram(lv) + SvgRoc(lv) + "</div>\n";
  s += MetricsTable(lv);
  return s + "</body></html>\n";
}

void WriteOrFail(const std::string& path, const std::string& bytes) {
  try {
    base::WriteFileAtomic(path, bytes);
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace

nlohmann::json LevelJson(const EvalLevel& lv) {
  const Metrics& m = lv.metrics;
  json j = {{"comparator", lv.comparator},
            {"score", lv.score_name},
            {"level", lv.level},
            {"dataset", lv.dataset},
            {"items", lv.names.size()},
            {"pairs", m.pairs},
            {"km_pairs", m.km_pairs},
            {"knm_pairs", m.knm_pairs},
            {"auc", Finite(m.auc)},
            {"eer", Finite(m.eer)},
            {"fpr_at_tpr95", Finite(m.fpr_at_tpr95)},
            {"fpr_at_tpr99", Finite(m.fpr_at_tpr99)},
            {"margin", Finite(m.margin)},
            {"rank1", Finite(m.rank1)},
            {"rank10", Finite(m.rank10)},
            {"queries", m.queries},
            {"candidate_pairs", lv.candidate_pairs},
            {"sampled", lv.sampled},
            {"notes", lv.notes},
            {"embedding_recall10", Finite(lv.embedding_recall10)},
            {"version", Version()}};
  j["cllr"] = m.cllr ? json(*m.cllr) : json();
  j["min_cllr"] = Finite(lv.min_cllr);
  j["calibration"] = lv.calibration ? CalibrationSummaryJson(*lv.calibration) : json();
  json skipped = json::array(), turned = json::array();
  for (const SkippedScan& k : lv.skipped) skipped.push_back({{"file", k.file}, {"reason", k.reason}});
  for (const auto& [file, as] : lv.turned) turned.push_back({{"file", file}, {"stored_as", as}});
  j["skipped_files"] = skipped;
  j["skipped_pairs"] = lv.skipped_pairs;
  j["skipped_km_pairs"] = lv.skipped_km_pairs;
  j["orientation_unsettled"] = lv.orientation_unsettled;
  j["turned_upright"] = turned;
  j["weak_scans"] = lv.weak_scans;
  return j;
}

std::string CalibrationLevelOf(const std::string& eval_level) {
  return eval_level == "bullet" ? "bullet" : "pair";
}

void ApplyCalibration(EvalLevel* lv, const std::optional<ChosenCalibration>& calibration) {
  lv->calibration = calibration;
  lv->log10_lr.clear();
  lv->metrics.cllr.reset();
  lv->min_cllr = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> km, knm, km_lr, knm_lr;
  std::size_t without_lr = 0, without_details = 0;
  std::string lacking;
  static const std::vector<std::pair<const char*, double>> kNoDetails;
  for (std::size_t k = 0; k < lv->pairs.size(); ++k) {
    const ScoredPair& p = lv->pairs[k];
    const double score = std::isnan(p.score) ? -std::numeric_limits<double>::infinity() : p.score;
    (p.known_match ? km : knm).push_back(score);  // NaN ranks lowest, as in ComputeMetrics
    if (!calibration) continue;
    const bool applies = lv->calibratable.empty() || lv->calibratable[k];
    // The score (NaN: 0), or k of n and the features from the pair's details.
    std::optional<double> lr;
    if (applies) {
      const bool aligned = lv->alignments.size() == lv->pairs.size();
      const ComparisonLr c = Log10LrOfComparison(calibration->calibration, p.score,
                                                 aligned ? lv->alignments[k].details : kNoDetails);
      lr = c.log10_lr;
      if (!lr) lacking = c.why;
    }
    lv->log10_lr.push_back(lr.value_or(std::numeric_limits<double>::quiet_NaN()));
    (p.known_match ? km_lr : knm_lr).push_back(lr.value_or(0.0));
    without_lr += applies ? 0 : 1;
    without_details += applies && !lr ? 1 : 0;
  }
  if (without_lr > 0)
    lv->notes.push_back(std::to_string(without_lr) + " of " + std::to_string(lv->pairs.size()) +
                        " pairs have no LR (the " + lv->level +
                        " calibration is for complete bullets) and count as LR = 1 in Cllr");
  if (without_details > 0)
    lv->notes.push_back(std::to_string(without_details) + " of " + std::to_string(lv->pairs.size()) +
                        " pairs have no LR (" + lacking + ") and count as LR = 1 in Cllr");
  if (km.empty() || knm.empty()) return;
  lv->min_cllr = MinCllr(km, knm);
  if (calibration) lv->metrics.cllr = Cllr(km_lr, knm_lr);
}

nlohmann::json WriteLevelReport(const EvalLevel& lv, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create report folder: " + ec.message());
  const auto path = [&](const std::string& suffix) { return (fs::path(dir) / (lv.level + suffix)).string(); };
  json paths = {{"pairs_csv", path("-pairs.csv")},
                {"metrics_json", path("-metrics.json")},
                {"html", path("-report.html")},
                {"hist_png", path("-hist.png")},
                {"roc_png", path("-roc.png")}};
  WriteOrFail(paths["pairs_csv"], PairsCsv(lv));
  WriteOrFail(paths["metrics_json"], LevelJson(lv).dump(2) + "\n");
  WriteOrFail(paths["html"], Html(lv));
  WriteOrFail(paths["hist_png"], PngHistogram(lv, paths["hist_png"]));
  WriteOrFail(paths["roc_png"], PngRoc(lv, paths["roc_png"]));
  return paths;
}

}  // namespace toolmark::eval
