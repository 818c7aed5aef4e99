// Score sets for calibration: CSV in and out, from evaluation levels, fit quality.
#include "toolmark/eval/scores.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "csv.h"
#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/metrics.h"
#include "toolmark/engine/registry.h"

namespace toolmark::eval {
using detail::CsvRecord;

ScoreSet ReadScores(const std::string& path) {
  const std::string text = detail::ReadCsvText(path);
  ScoreSet s;
  s.name = path;
  std::size_t start = 0, line_no = 0, score_col = 0, match_col = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::vector<std::string> f = CsvRecord(text.substr(start, end - start));
    start = end + 1;
    const std::string where = path + ":" + std::to_string(++line_no);
    if (line_no == 1) {
      const auto col = [&](const char* name) {
        const auto it = std::find(f.begin(), f.end(), name);
        Check(it != f.end(), path + ": no '" + name + "' column (need score and known_match)");
        return static_cast<std::size_t>(it - f.begin());
      };
      score_col = col("score");
      match_col = col("known_match");
      continue;
    }
    if (f.size() == 1 && f[0].empty()) continue;  // blank line
    Check(f.size() > std::max(score_col, match_col), where + ": too few fields");
    const std::string& m = f[match_col];
    Check(m == "1" || m == "0" || m == "true" || m == "false", where + ": known_match is not 1 or 0: " + m);
    char* rest = nullptr;
    const double score = std::strtod(f[score_col].c_str(), &rest);
    if (f[score_col].empty() || std::isnan(score)) {
      ++s.without_score;
      continue;
    }
    Check(*rest == '\0' && std::isfinite(score), where + ": score is not a finite number: " + f[score_col]);
    (m == "1" || m == "true" ? s.km : s.knm).push_back(score);
  }
  return s;
}

void WriteScores(const std::vector<ScoreSet>& sets, const std::string& path) {
  std::string csv = "score,known_match,set\n";
  char num[40];
  for (const ScoreSet& s : sets) {
    for (const auto* v : {&s.km, &s.knm}) {
      for (double x : *v) {
        std::snprintf(num, sizeof num, "%.17g", x);
        csv += std::string(num) + (v == &s.km ? ",1," : ",0,") + "\"" + s.name + "\"\n";
      }
    }
  }
  try {
    base::WriteFileAtomic(path, csv);
  } catch (const std::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

ScoreSet TakeScores(const std::vector<EvalLevel>& levels, const std::string& comparator,
                    const std::string& level, const std::string& name) {
  for (const EvalLevel& lv : levels) {
    if (lv.comparator != comparator || CalibrationLevelOf(lv.level) != level) continue;
    ScoreSet s;
    s.name = name;
    for (std::size_t k = 0; k < lv.pairs.size(); ++k) {
      const ScoredPair& p = lv.pairs[k];
      if (!lv.calibratable.empty() && !lv.calibratable[k]) continue;  // incomplete bullets
      if (std::isnan(p.score))
        ++s.without_score;
      else
        (p.known_match ? s.km : s.knm).push_back(p.score);
    }
    return s;
  }
  throw Error(name + ": no " + level + "-level pairs for comparator " + comparator +
              (level == "pair" && ComparatorCompares(comparator, Kind::kBullet)
                   ? " (land pairs need a land_id column)"
                   : ""));
}

CalibrationQuality Measure(const Calibration& c, const std::vector<const ScoreSet*>& sets) {
  std::vector<double> km, knm, lkm, lknm;
  for (const ScoreSet* s : sets) {
    km.insert(km.end(), s->km.begin(), s->km.end());
    knm.insert(knm.end(), s->knm.begin(), s->knm.end());
  }
  for (double x : km) lkm.push_back(c.Log10Lr(x));
  for (double x : knm) lknm.push_back(c.Log10Lr(x));
  CalibrationQuality q;
  q.km = km.size();
  q.knm = knm.size();
  if (km.empty() || knm.empty()) return q;
  q.cllr = Cllr(lkm, lknm);
  q.min_cllr = MinCllr(km, knm);
  q.auc = Auc(km, knm);
  return q;
}

namespace detail {

std::string ReadCsvText(const std::string& path) {
  try {
    return base::ReadFileBounded(path, std::size_t{1} << 28);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

/// Splits one CSV record: RFC 4180 quoting, no line breaks inside fields.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::vector<std::string> CsvRecord(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace detail

}  // namespace toolmark::eval
