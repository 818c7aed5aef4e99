// Reports of hits and cases: one self-contained HTML page (images embedded)
// of a hit or a case — items, scores, likelihood ratios, registration, the
// scans' quality, the surfaces and plots, the decision history, the linked
// clusters — to attach to a case file; printed to PDF by headless Chromium.
#include "toolmark/review/report.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "toolmark/base/file_io.h"
#include "toolmark/base/time.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/version.h"
#include "toolmark/review/hit_view.h"
#include "toolmark/review/json.h"

namespace toolmark::review {
namespace {
namespace fs = std::filesystem;

constexpr std::size_t kMaxCaseHitsShown = 50;  ///< hits of a case with their images

std::string Html(const std::string& s) {
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
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string Img(const cv::Mat& m, const std::string& alt, const std::string& cls = "") {
  return "<img class=\"" + cls + "\" alt=\"" + Html(alt) + "\" src=\"data:image/png;base64," +
         Base64(EncodePng(m)) + "\">";
}

std::string ItemRow(const index::ItemRecord& it) {
  return "<tr><td>" + std::to_string(it.id) + "</td><td>" + Html(it.case_id) + "</td><td>" +
         Html(it.item_label) + "</td><td>" + Html(it.jurisdiction) + "</td><td>" + KindName(it.kind) +
         "</td><td>" + Html(it.role) + "</td><td>" + Html(it.file) + "</td><td class=\"mono\">" +
         Html(it.sha256.substr(0, 16)) + "…</td><td>" + Html(QualityRemark(ItemQuality(it))) + "</td></tr>";
}

constexpr const char* kItemHeader =
    "<tr><th>id</th><th>case</th><th>item</th><th>jurisdiction</th><th>kind</th><th>role</th><th>file</th>"
    "<th>SHA-256</th><th>scan quality</th></tr>";

/// The numbers behind a cartridge-case score (the explain's features, docs/cmc.md).
std::string FeaturesTable(const nlohmann::json& explain) {
  const nlohmann::json& f = explain.value("features", nlohmann::json::object());
  if (!f.is_object() || f.empty()) return "";
  const auto num = [&](const char* key, int digits) {
    const nlohmann::json& v = f.value(key, nlohmann::json());
    if (!v.is_number()) return std::string("–");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v.get<double>());
    return std::string(buf);
  };
  std::ostringstream s;
  s << "<h3>Behind the score</h3><table>"
    << "<tr><th>CMC, k of n</th><td>" << num("cmc_count", 0) << " of " << num("cells_compared", 0)
    << " cells compared (both directions)</td></tr>"
    << "<tr><th>surface correlation</th><td>" << num("surface_ccf", 3)
    << " (the cells correlated at the congruent cells' common registration; overlap "
    << num("surface_overlap", 2) << ")</td></tr>"
    << "<tr><th>cell correlations</th><td>median " << num("cell_ccf_median", 3) << ", congruent cells' mean "
    << num("congruent_ccf_mean", 3) << "</td></tr>"
    << "<tr><th>registration agreement</th><td>congruent cells within " << num("fit_rms_um", 1)
    << " µm RMS of one rigid registration; the two directions' rotations "
    << num("rotation_disagreement_deg", 1) << "° apart</td></tr>"
    << "<tr><th>firing pin</th><td>"
    << (f.value("firing_pin_sectors", nlohmann::json()).is_number()
            ? num("firing_pin_sectors", 0) + " congruent sectors, ccf " + num("firing_pin_ccf", 2)
            : std::string("not compared"))
    << "</td></tr></table>";
  return s.str();
}

/// The scans' quality warnings (intake findings), or that there are none.
std::string QualitySection(const index::ReviewHit& h) {
  std::string s;
  for (const auto& [side, it] : {std::pair{"Query", &h.query}, std::pair{"Candidate", &h.candidate}}) {
    const nlohmann::json ref = ItemRefJson(*it);
    for (const auto& w : ref["quality_warnings"])
      s += "<li><b>" + std::string(side) + "</b> (item " + std::to_string(it->id) +
           "): " + Html(w.get<std::string>()) + "</li>";
  }
  if (s.empty()) return "<p>Scan quality: no warnings on either scan.</p>";
  return "<p class=\"warn\"><b>Weak comparison</b>: the scans' quality findings below bear on how much this "
         "score can carry.</p><ul class=\"warn\">" +
         s + "</ul>";
}

std::string History(const std::vector<index::DecisionRecord>& history) {
  if (history.empty()) return "<p>No decision recorded: <b>pending</b>.</p>";
  std::string s =
      "<table><tr><th>#</th><th>time (UTC)</th><th>examiner</th><th>conclusion</th><th>note</th>"
      "<th>score, LR it was made on</th><th>version</th><th></th></tr>";
  for (const auto& d : history)
    s += "<tr><td>" + std::to_string(d.id) + "</td><td>" + Html(d.at) + "</td><td>" + Html(d.examiner) +
         "</td><td><b>" + Html(d.decision) + "</b></td><td>" + Html(d.note) + "</td><td>" + Num(d.score) +
         ", " + Html(LrText(d.log10_lr)) + "</td><td>" + Html(d.toolmark_version) + "</td><td>" +
         (&d == &history.back() ? "current" : "superseded") + "</td></tr>";
  return s + "</table>";
}

/// The pair's other direction, when the candidate was correlated too.
std::string ReverseRow(const index::ReviewHit& h) {
  if (!h.reverse) return "";
  const index::HitRecord& b = *h.reverse;
  return "<tr><th>other direction</th><td>score " + Num(b.score) + ", " + Html(LrText(b.log10_lr)) +
         " (hit " + std::to_string(b.id) + ": the candidate searched as the query; rank " +
         std::to_string(b.rank) +
         " of its hit list). One pair, one review: a decision on either hit is the "
         "pair's.</td></tr>";
}

std::string HitSection(index::Database& db, const index::ReviewHit& h, bool images) {
  std::ostringstream s;
  const index::HitRecord& r = h.hit;
  s << "<section class=\"hit\"><h2>Hit " << r.id << ": " << Html(h.query.case_id) << " / "
    << Html(h.query.item_label) << " ↔ " << Html(h.candidate.case_id) << " / " << Html(h.candidate.item_label)
    << "</h2>";
  s << "<table class=\"kv\">"
    << "<tr><th>status</th><td><b>" << Html(h.status) << "</b> (" << h.decisions << " decision"
    << (h.decisions == 1 ? "" : "s") << ")</td></tr>"
    << "<tr><th>score</th><td>" << Num(r.score) << " (" << Html(r.comparator) << ", features "
    << Html(r.version) << "; rank " << r.rank << " of the query's hit list)</td></tr>" << ReverseRow(h)
    << "<tr><th>likelihood ratio</th><td>" << Html(LrText(r.log10_lr))
    << (r.calibration.empty() ? "" : " (calibration set: " + Html(r.calibration) + ")") << "</td></tr>"
    << "<tr><th>registration</th><td>rotation " << Num(r.rotation_deg) << "°, translation ("
    << Num(r.shift_x_um) << ", " << Num(r.shift_y_um) << ") µm</td></tr>"
    << "<tr><th>recorded</th><td>" << Html(r.created_at) << "</td></tr></table>";
  s << "<table>" << kItemHeader << ItemRow(h.query) << ItemRow(h.candidate) << "</table>";
  s << QualitySection(h);
  if (images) {
    try {
      const auto v = BuildHitView(db, h);
      const bool cc = v->explain.value("kind", "") == "cartridge_case";
      s << "<p>"
        << (cc ? "Processed breech faces; the candidate rotated and shifted onto the query by the "
                 "registration (shaded relief, then false colour)."
               : "The two land scans (shaded relief, then false colour).")
        << "</p><div class=\"pair\"><div class=\"caption\">Query: item " << h.query.id << " ("
        << Html(h.query.file) << ")</div><div class=\"caption\">Candidate: item " << h.candidate.id << " ("
        << Html(h.candidate.file) << ")</div>" << Img(v->query_relief, "query relief")
        << Img(v->candidate_relief, "candidate relief") << "</div><div class=\"pair\">"
        << Img(v->query_colour, "query colour") << Img(v->candidate_colour, "candidate colour") << "</div>";
      if (cc)
        s << "<p>Recomputed now: score " << v->explain["score"].dump() << " (recorded " << Num(r.score)
          << "; " << (v->explain.value("reproduced", false) ? "reproduced" : "<b>differs</b>") << "), CMC "
          << v->explain["cmc_count"].dump() << " congruent cells.</p>" << FeaturesTable(v->explain);
      else
        s << "<p>Recomputed now: bullet score " << v->explain["score"].dump() << ".</p>";
      s << "<p>Comparison plot "
        << (cc ? "(cells of the query: green congruent, grey not)"
               : "(land score matrix, aligned signatures)")
        << ":</p>" << Img(v->plot, "comparison plot", "plot");
    } catch (const Error& e) {
      s << "<p class=\"warn\">Images could not be made: " << Html(e.what()) << "</p>";
    }
  }
  s << "<h3>Decision history</h3>" << History(db.Decisions(r.id)) << "</section>";
  return s.str();
}

std::string Page(const std::string& title, const std::string& body, const std::string& db) {
  return "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Html(title) +
         "</title><style>"
         "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}h2{font-size:17px;"
         "border-top:1px solid #ccc;padding-top:12px}table{border-collapse:collapse;margin:8px 0}"
         "td,th{border:1px solid #ccc;padding:3px "
         "8px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
         ".kv "
         "th{width:140px}.mono{font-family:monospace}.caption{display:inline-block;width:48%;margin-right:1%;"
         "font-weight:600}.pair img{width:48%;margin-right:1%;"
         "background:#fff;border:1px solid #ddd}img.plot{max-width:100%}.warn{color:#a00}"
         "footer{margin-top:24px;color:#666;font-size:12px}@media print{section.hit{break-inside:avoid-page}}"
         "</style></head><body><h1>" +
         Html(title) + "</h1>" + body + "<footer>Toolmark " + Html(Version()) + ", database " + Html(db) +
         ", report made " + Html(base::NowUtcMillis()) +
         ". Scores are recomputed from the stored scans for the images; the recorded score is the one the "
         "decisions were made on.</footer></body></html>\n";
}

}  // namespace

std::string HitReport(index::Database& db, std::int64_t id, const std::string& folder) {
  const auto h = index::ReviewHitById(db, id);
  Check(h.has_value(), "hit " + std::to_string(id) + ": no such hit");
  return Page("Toolmark hit report: hit " + std::to_string(id), HitSection(db, *h, true), folder);
}

std::string CaseReport(index::Database& db, const std::string& case_id, const std::string& folder) {
  const auto items = ItemsById(db);
  std::set<index::ItemId> mine;
  std::string body = "<h2>Items</h2><table>" + std::string(kItemHeader);
  for (const auto& [id, it] : items)
    if (it.case_id == case_id) {
      mine.insert(id);
      body += ItemRow(it);
    }
  body += "</table>";
  Check(!mine.empty(), "case '" + case_id + "': no such case");
  index::HitFilter f;
  f.status = "all";
  f.case_id = case_id;
  const auto hits = index::ReviewHits(db, f);
  body += "<h2>Hits (" + std::to_string(hits.size()) +
          ")</h2><table><tr><th>hit</th><th>status</th><th>score</th>"
          "<th>LR</th><th>query</th><th>candidate</th></tr>";
  for (const auto& h : hits)
    body += "<tr><td>" + std::to_string(h.hit.id) + "</td><td>" + Html(h.status) + "</td><td>" +
            Html(PairScoreText(h)) + "</td><td>" + Html(LrText(h.hit.log10_lr)) + "</td><td>" +
            Html(h.query.case_id + " / " + h.query.item_label) + " (" + Html(h.query.jurisdiction) +
            ")</td><td>" + Html(h.candidate.case_id + " / " + h.candidate.item_label) + " (" +
            Html(h.candidate.jurisdiction) + ")</td></tr>";
  body += "</table><h2>Linked clusters</h2>";
  bool any = false;
  for (const auto& c : index::LinkedClusters(db)) {
    if (std::none_of(c.items.begin(), c.items.end(), [&](index::ItemId i) { return mine.count(i) > 0; }))
      continue;
    any = true;
    body += "<p><b>Cluster " + std::to_string(c.id) + "</b>: ";
    for (index::ItemId i : c.items)
      body +=
          Html(items.at(i).case_id + " / " + items.at(i).item_label + " (" + items.at(i).jurisdiction + ")") +
          (i == c.items.back() ? "" : "; ");
    body += "</p>";
  }
  if (!any) body += "<p>None of the case's items is linked by an identification.</p>";
  // Decided hits first, with their images; at most kMaxCaseHitsShown.
  std::vector<index::ReviewHit> shown;
  for (const auto& h : hits)
    if (h.decisions > 0) shown.push_back(h);
  for (const auto& h : hits)
    if (h.decisions == 0) shown.push_back(h);
  if (shown.size() > kMaxCaseHitsShown) shown.resize(kMaxCaseHitsShown);
  for (const auto& h : shown) body += HitSection(db, h, true);
  return Page("Toolmark case report: " + case_id, body, folder);
}

void WriteReport(const std::string& html, const std::string& out_path) {
  const bool pdf = fs::path(out_path).extension() == ".pdf";
  if (!pdf) {
    base::WriteFileAtomic(out_path, html);
    return;
  }
  // PDF: the same HTML printed by headless Chromium.
  const fs::path tmp =
      fs::temp_directory_path() / ("toolmark-report-" + std::to_string(::getpid()) + ".html");
  base::WriteFileAtomic(tmp.string(), html);
  const fs::path out = fs::absolute(out_path);
  const fs::path partial = out.string() + ".partial";
  const std::string cmd =
      "chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --print-to-pdf='" +
      partial.string() + "' 'file://" + tmp.string() + "' >/dev/null 2>&1";
  Check(out.string().find('\'') == std::string::npos, "report: the output path may not contain a quote");
  const int rc = std::system(cmd.c_str());
  std::error_code ec;
  fs::remove(tmp, ec);
  Check(rc == 0 && fs::exists(partial) && fs::file_size(partial) > 0,
        "report: chromium could not print the PDF (is Debian's chromium installed? scripts/setup.sh installs "
        "it)");
  fs::rename(partial, out);
}

}  // namespace toolmark::review
