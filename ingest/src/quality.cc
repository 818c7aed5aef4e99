// Scan intake: orientation and quality findings. See docs/quality.md.
#include "toolmark/ingest/quality.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "toolmark/engine/breech_face.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/cmc.h"
#include "toolmark/engine/land.h"

namespace toolmark::ingest {
namespace {

/// Fewer valid points than this: nothing a comparator can use.
constexpr double kMinValidPoints = 100;
/// Below this share of valid points a scan is weak.
constexpr double kWeakValidFraction = 0.2;
/// Heights: a range beyond this (µm) is outside what the comparators were
/// built for (breech faces and lands span well under 1 mm).
constexpr double kMaxHeightRangeUm = 2000.0;
/// Heights: a range below this (µm) is implausibly flat for a toolmark.
constexpr double kMinHeightRangeUm = 0.01;
/// Lands: coarser than this across the land (µm) loses striae the 10 µm
/// low-pass keeps (Nyquist of the 2 µm working grid: 4 µm).
constexpr double kMaxLandSpacingUm = 4.0;
/// Lands: less than this share of the land width in the signature is weak.
constexpr double kWeakLandRemaining = 0.5;
/// Cartridge cases: coarser than the CMC working grid (µm).
constexpr double kMaxCartridgeSpacingUm = 25.0;
/// Cartridge cases: a breech face smaller than this (mm²) is weak.
constexpr double kWeakBreechFaceMm2 = 1.0;

std::string Fmt(const char* format, double a, double b = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

void Add(ScanQuality* q, const char* code, Severity s, const std::string& message) {
  q->findings.push_back({code, s, message});
}

/// "… (stated) …" → "… (stated by manifest) …".
std::string StatedBy(std::string note, const std::string& source) {
  const std::string tag = "(stated)";
  const std::size_t at = note.find(tag);
  if (at != std::string::npos && !source.empty()) note.replace(at, tag.size(), "(stated by " + source + ")");
  return note;
}

void AssessCommon(const Surface& s, ScanQuality* q) {
  const double valid = s.ValidFraction();
  q->valid_fraction = valid;
  const double points = valid * static_cast<double>(s.values.total());
  if (points <= 0) {
    Add(q, "no_data", Severity::kRefused, "no valid data: every value is missing");
    return;
  }
  if (points < kMinValidPoints) {
    Add(q, "no_data", Severity::kRefused,
        Fmt("too little data: %.0f valid points (at least %.0f needed)", points, kMinValidPoints));
    return;
  }
  double lo = 0, hi = 0;
  s.Range(&lo, &hi);
  q->value_range = hi - lo;
  if (!(hi > lo)) {
    Add(q, "flat", Severity::kRefused, "no usable data: every valid value is the same");
    return;
  }
  Add(q, "valid_fraction", valid < kWeakValidFraction ? Severity::kWarning : Severity::kInfo,
      Fmt("%.1f%% of the points are valid", 100 * valid) +
          (valid < kWeakValidFraction ? Fmt(" (under %.0f%%: little to compare)", 100 * kWeakValidFraction)
                                      : ""));
  if (s.kind == SurfaceKind::kHeight) {
    if (q->value_range > kMaxHeightRangeUm)
      Add(q, "height_range", Severity::kWarning,
          Fmt("heights span %.0f um, beyond the %.0f um the comparators were built for (an unleveled "
              "or uncropped scan, or heights in the wrong unit: --z-unit)",
              q->value_range, kMaxHeightRangeUm));
    else if (q->value_range < kMinHeightRangeUm)
      Add(q, "height_range", Severity::kWarning,
          Fmt("heights span only %.4f um (heights in the wrong unit? --z-unit)", q->value_range));
  }
}

void AssessLand(const Surface& upright, const IntakeOptions& o, ScanQuality* q) {
  q->land_extent_um = upright.values.cols * upright.spacing_x_um;
  if (upright.spacing_x_um > kMaxLandSpacingUm)
    Add(q, "spacing", Severity::kWarning,
        Fmt("%.3g um across the land: coarser than the %.0f um the land signature needs to keep its "
            "finest striae",
            upright.spacing_x_um, kMaxLandSpacingUm));
  if (!o.preprocess) return;
  LandSignature sig;
  try {
    sig = ExtractLandSignature(upright);
  } catch (const Error& e) {
    Add(q, "land_signature", Severity::kRefused, std::string("no usable land signature: ") + e.what());
    return;
  }
  q->left_shoulder = sig.left_shoulder_found;
  q->right_shoulder = sig.right_shoulder_found;
  q->signature_um = sig.valid * sig.spacing_um;
  q->land_remaining = q->land_extent_um > 0 ? q->signature_um / q->land_extent_um : 0;
  if (sig.left_shoulder_found && sig.right_shoulder_found) {
    Add(q, "grooves", Severity::kInfo, "both groove shoulders found");
  } else {
    const std::string which = !sig.left_shoulder_found && !sig.right_shoulder_found
                                  ? "neither groove shoulder"
                              : !sig.left_shoulder_found ? "the left groove shoulder"
                                                         : "the right groove shoulder";
    Add(q, "grooves", Severity::kWarning,
        "not found: " + which +
            " (the signature may include groove remnants, or the scan is cropped inside the land)");
  }
  Add(q, "land_width", q->land_remaining < kWeakLandRemaining ? Severity::kWarning : Severity::kInfo,
      Fmt("signature %.0f um long, %.0f%% of the scan's width across the land", q->signature_um,
          100 * q->land_remaining));
  if (!sig.stable)
    Add(q, "crosscut", Severity::kWarning,
        "no stable crosscut: adjacent bands along the land disagree (damage, debris or weak striae)");
}

void AssessCartridge(const Surface& s, const IntakeOptions& o, ScanQuality* q) {
  const double spacing = std::max(s.spacing_x_um, s.spacing_y_um);
  if (spacing > kMaxCartridgeSpacingUm)
    Add(q, "spacing", Severity::kWarning,
        Fmt("%.3g um spacing: coarser than the %.0f um grid of the congruent cells", spacing,
            kMaxCartridgeSpacingUm));
  if (!o.preprocess) return;
  CartridgeCase c;
  try {
    c = PrepareCartridgeCase(s);
  } catch (const Error& e) {
    Add(q, "breech_face", Severity::kRefused, std::string("no usable breech face: ") + e.what());
    return;
  }
  q->breech_face_found = c.face.outer_found;
  q->firing_pin_found = c.face.firing_pin_found;
  q->firing_pin_impression = c.firing_pin.present;
  const Surface& f = c.face.surface;
  q->breech_face_mm2 =
      f.ValidFraction() * static_cast<double>(f.values.total()) * f.spacing_x_um * f.spacing_y_um * 1e-6;
  Add(q, "breech_face", c.face.outer_found ? Severity::kInfo : Severity::kWarning,
      c.face.outer_found
          ? Fmt("breech-face region found (primer edge radius %.2f mm)", c.face.outer_radius_um / 1000)
          : "breech-face region not found (no primer edge): the whole scan is compared");
  Add(q, "firing_pin", c.face.firing_pin_found ? Severity::kInfo : Severity::kWarning,
      c.face.firing_pin_found
          ? Fmt("firing-pin hole found (radius %.2f mm)", c.face.firing_pin_radius_um / 1000) +
                (c.firing_pin.present ? "" : "; no impression to compare: " + c.firing_pin.note)
          : "no firing-pin hole found: no firing-pin comparison, rotations rest on the breech face alone");
  if (q->breech_face_mm2 < kWeakBreechFaceMm2)
    Add(q, "breech_face_area", q->breech_face_mm2 <= 0 ? Severity::kRefused : Severity::kWarning,
        Fmt("%.2f mm2 of breech face with data", q->breech_face_mm2) +
            (q->breech_face_mm2 <= 0 ? std::string(": nothing to compare")
                                     : Fmt(" (under %.0f mm2: few cells to compare)", kWeakBreechFaceMm2)));
}

}  // namespace

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kRefused:
      break;
  }
  return "refused";
}

bool ScanQuality::Refused() const {
  for (const auto& f : findings)
    if (f.severity == Severity::kRefused) return true;
  return false;
}

std::string ScanQuality::RefusalReason() const {
  for (const auto& f : findings)
    if (f.severity == Severity::kRefused) return f.message;
  return "";
}

int ScanQuality::Warnings() const {
  int n = 0;
  for (const auto& f : findings) n += f.severity == Severity::kWarning ? 1 : 0;
  return n;
}

std::string ScanQuality::Grade() const { return Refused() ? "refused" : Warnings() ? "weak" : "good"; }

std::string ScanQuality::WarningText() const {
  std::string out;
  for (const auto& f : findings)
    if (f.severity == Severity::kWarning) out += (out.empty() ? "" : "; ") + f.message;
  return out;
}

Kind ResolveKind(std::optional<Kind> kind, const Surface& stored, const StriaeDirection& measured) {
  if (kind) return *kind;
  return LooksLikeLandScan(stored, measured) ? Kind::kBullet : Kind::kCartridgeCase;
}

Intake AssessScan(const Surface& stored, const IntakeOptions& o) {
  Intake in;
  ScanQuality& q = in.quality;
  const StriaeDirection measured = MeasureStriaeDirection(stored);
  q.kind = ResolveKind(o.kind, stored, measured);
  q.kind_source = o.kind ? "stated" : "detected";
  q.striae_axis = StriaeAxisName(measured.axis);
  q.striae_angle_deg = measured.angle_deg;
  q.striae_support = measured.support;
  q.striae_coherence = measured.coherence;
  in.surface = stored;
  AssessCommon(stored, &q);
  if (q.Refused()) return in;
  if (q.kind == Kind::kBullet) {
    LandOrientation lo;
    try {
      lo = ResolveLandOrientation(o.orientation, measured);
    } catch (const Error& e) {
      Add(&q, "orientation", Severity::kRefused, e.what());
      return in;
    }
    q.orientation = OrientationName(lo.stored_as);
    q.orientation_settled = lo.settled;
    q.orientation_source = lo.source == "stated" ? o.orientation_source : lo.source;
    Add(&q, "orientation", lo.settled ? Severity::kInfo : Severity::kWarning,
        lo.source == "stated" ? StatedBy(lo.note, o.orientation_source) : lo.note);
    if (lo.stored_as != Orientation::kUpright) in.surface = ToUpright(stored, lo.stored_as);
    AssessLand(in.surface, o, &q);
  } else {
    if (o.orientation && *o.orientation != Orientation::kUpright) {
      Add(&q, "orientation", Severity::kRefused,
          "an orientation applies to bullet land scans only (this scan is assessed as a cartridge case)");
      return in;
    }
    AssessCartridge(in.surface, o, &q);
  }
  return in;
}

Intake TakeIn(const Surface& stored, const IntakeOptions& o) {
  Intake in = AssessScan(stored, o);
  if (in.quality.Refused()) throw Error(in.quality.RefusalReason());
  return in;
}

nlohmann::json QualityJson(const ScanQuality& q) {
  const auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  const auto opt = [](const std::optional<bool>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : q.findings)
    findings.push_back({{"code", f.code}, {"severity", SeverityName(f.severity)}, {"message", f.message}});
  nlohmann::json j = {{"grade", q.Grade()},
                      {"warnings", q.Warnings()},
                      {"kind", KindName(q.kind)},
                      {"kind_source", q.kind_source},
                      {"valid_fraction", num(q.valid_fraction)},
                      {"value_range", num(q.value_range)},
                      {"striae",
                       {{"axis", q.striae_axis},
                        {"angle_deg", num(q.striae_angle_deg)},
                        {"support", num(q.striae_support)},
                        {"coherence", num(q.striae_coherence)}}},
                      {"findings", findings}};
  if (!q.orientation.empty())
    j["orientation"] = {
        {"stored_as", q.orientation}, {"settled", q.orientation_settled}, {"source", q.orientation_source}};
  if (q.kind == Kind::kBullet)
    j["land"] = {{"left_shoulder", opt(q.left_shoulder)},
                 {"right_shoulder", opt(q.right_shoulder)},
                 {"extent_um", num(q.land_extent_um)},
                 {"signature_um", num(q.signature_um)},
                 {"remaining", num(q.land_remaining)}};
  else
    j["cartridge_case"] = {{"breech_face_found", opt(q.breech_face_found)},
                           {"firing_pin_found", opt(q.firing_pin_found)},
                           {"firing_pin_impression", opt(q.firing_pin_impression)},
                           {"breech_face_mm2", num(q.breech_face_mm2)}};
  return j;
}

ScanQuality QualityFromJson(const nlohmann::json& j) {
  try {
    const auto num = [](const nlohmann::json& v) {
      return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
    };
    const auto opt = [](const nlohmann::json& v) {
      return v.is_null() ? std::optional<bool>() : std::optional<bool>(v.get<bool>());
    };
    ScanQuality q;
    q.kind = KindOf(j.at("kind").get<std::string>());
    q.kind_source = j.value("kind_source", "");
    q.valid_fraction = num(j.at("valid_fraction"));
    q.value_range = num(j.at("value_range"));
    const auto& st = j.at("striae");
    q.striae_axis = st.at("axis").get<std::string>();
    q.striae_angle_deg = num(st.at("angle_deg"));
    q.striae_support = num(st.at("support"));
    q.striae_coherence = num(st.at("coherence"));
    if (j.contains("orientation")) {
      const auto& o = j.at("orientation");
      q.orientation = o.at("stored_as").get<std::string>();
      q.orientation_settled = o.at("settled").get<bool>();
      q.orientation_source = o.at("source").get<std::string>();
    }
    if (j.contains("land")) {
      const auto& l = j.at("land");
      q.left_shoulder = opt(l.at("left_shoulder"));
      q.right_shoulder = opt(l.at("right_shoulder"));
      q.land_extent_um = num(l.at("extent_um"));
      q.signature_um = num(l.at("signature_um"));
      q.land_remaining = num(l.at("remaining"));
    }
    if (j.contains("cartridge_case")) {
      const auto& c = j.at("cartridge_case");
      q.breech_face_found = opt(c.at("breech_face_found"));
      q.firing_pin_found = opt(c.at("firing_pin_found"));
      q.firing_pin_impression = opt(c.at("firing_pin_impression"));
      q.breech_face_mm2 = num(c.at("breech_face_mm2"));
    }
    for (const auto& f : j.at("findings")) {
      const std::string s = f.at("severity").get<std::string>();
      const Severity sev = s == "info"      ? Severity::kInfo
                           : s == "warning" ? Severity::kWarning
                                            : Severity::kRefused;
      Check(s == "info" || s == "warning" || s == "refused", "unknown severity " + s);
      q.findings.push_back({f.at("code").get<std::string>(), sev, f.at("message").get<std::string>()});
    }
    return q;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("quality record: ") + e.what());
  }
}

}  // namespace toolmark::ingest
