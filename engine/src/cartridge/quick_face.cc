// See quick_face.h.
#include "cartridge/quick_face.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <string>

#include "toolmark/engine/check.h"

namespace toolmark::detail {
namespace {

constexpr float kFormat1 = 1, kFormat2 = 2;
constexpr std::size_t kHeader1 = 12;  ///< format 1: the geometry, then one float a cell
constexpr std::size_t kHeader2 = 16;  ///< format 2: the geometry, step, valid, mask bytes, bits
constexpr float kMissing1 = std::numeric_limits<float>::max();
constexpr int kMaxSide = 8192;
constexpr int kBits = 5;                         ///< bits a height (format 2)
constexpr int kLevels = (1 << (kBits - 1)) - 1;  ///< heights from −kLevels to +kLevels steps
constexpr double kClipRms = 4.0;                 ///< the largest level is this many RMS

/// The header both formats share: geometry of the face.
void PutGeometry(const BreechFace& face, float format, std::vector<float>* out) {
  const cv::Mat& v = face.surface.values;
  *out = {format,
          static_cast<float>(v.rows),
          static_cast<float>(v.cols),
          static_cast<float>(face.surface.spacing_x_um),
          face.firing_pin_found ? 1.0f : 0.0f,
          static_cast<float>(face.firing_pin_centre_x_um),
          static_cast<float>(face.firing_pin_centre_y_um),
          static_cast<float>(face.firing_pin_radius_um),
          face.outer_found ? 1.0f : 0.0f,
          static_cast<float>(face.centre_um.x),
          static_cast<float>(face.centre_um.y),
          static_cast<float>(face.outer_radius_um)};
}

/// Checks the shared header of `f` (at least kHeader1 floats) and fills the
/// face's geometry; returns rows × cols.
std::size_t GetGeometry(const std::vector<float>& f, double spacing_um, BreechFace* face) {
  const double rows = f[1], cols = f[2];
  Check(rows >= 1 && cols >= 1 && rows <= kMaxSide && cols <= kMaxSide && rows == std::floor(rows) &&
            cols == std::floor(cols),
        "cmc quick features: bad size");
  Check(std::abs(f[3] - spacing_um) < 1e-3, "cmc quick features: not at the expected spacing");
  for (std::size_t i = 4; i < kHeader1; ++i) Check(std::isfinite(f[i]), "cmc quick features: bad header");
  face->surface.spacing_x_um = face->surface.spacing_y_um = spacing_um;
  face->firing_pin_found = f[4] != 0;
  face->firing_pin_centre_x_um = f[5];
  face->firing_pin_centre_y_um = f[6];
  face->firing_pin_radius_um = f[7];
  face->outer_found = f[8] != 0;
  face->centre_um = {f[9], f[10]};
  face->outer_radius_um = f[11];
  face->surface.values.create(static_cast<int>(rows), static_cast<int>(cols), CV_64F);
  return static_cast<std::size_t>(rows * cols);
}

BreechFace Decode1(const std::vector<float>& f, double spacing_um) {
  BreechFace face;
  const std::size_t cells = GetGeometry(f, spacing_um, &face);
  Check(f.size() == kHeader1 + cells, "cmc quick features: bad size");
  auto* v = face.surface.values.ptr<double>();
  for (std::size_t i = 0; i < cells; ++i)
    v[i] = f[kHeader1 + i] == kMissing1 ? std::numeric_limits<double>::quiet_NaN() : double{f[kHeader1 + i]};
  return face;
}

}  // namespace

BreechFace Coarser(const BreechFace& face, double spacing_um) {
  BreechFace out = face;
  const cv::Mat& v = face.surface.values;
  const double factor = face.surface.spacing_x_um / spacing_um;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(v.cols * factor))),
                      std::max(1, static_cast<int>(std::lround(v.rows * factor))));
  cv::Mat filled(v.size(), CV_64F), mask(v.size(), CV_64F);
  for (int y = 0; y < v.rows; ++y)
    for (int x = 0; x < v.cols; ++x) {
      const double z = v.at<double>(y, x);
      filled.at<double>(y, x) = std::isfinite(z) ? z : 0.0;
      mask.at<double>(y, x) = std::isfinite(z) ? 1.0 : 0.0;
    }
  cv::Mat fs, ms;
  cv::resize(filled, fs, size, 0, 0, cv::INTER_AREA);
  cv::resize(mask, ms, size, 0, 0, cv::INTER_AREA);
  out.surface.values.create(size, CV_64F);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double m = ms.at<double>(y, x);
      out.surface.values.at<double>(y, x) =
          m >= 0.5 ? fs.at<double>(y, x) / m : std::numeric_limits<double>::quiet_NaN();
    }
  out.surface.spacing_x_um = out.surface.spacing_y_um = spacing_um;
  out.roi.release();
  return out;
}

std::vector<float> EncodeQuickFace(const BreechFace& face) {
  const cv::Mat& v = face.surface.values;
  Check(v.type() == CV_64F && v.isContinuous(), "cmc quick features: face must be continuous float64");
  const auto* z = v.ptr<double>();
  const std::size_t cells = v.total();
  double squares = 0;
  std::size_t valid = 0;
  for (std::size_t i = 0; i < cells; ++i)
    if (std::isfinite(z[i])) squares += z[i] * z[i], ++valid;
  const double rms = valid > 0 ? std::sqrt(squares / static_cast<double>(valid)) : 0.0;
  const double step = rms > 0 && std::isfinite(rms) ? kClipRms * rms / kLevels : 1.0;
  // The mask: run lengths of missing and valid cells in turn, from a missing run.
  std::vector<std::uint8_t> bytes;
  bool run_valid = false;
  std::size_t run = 0;
  const auto flush = [&] {
    for (; run > 255; run -= 255) bytes.insert(bytes.end(), {255, 0});
    bytes.push_back(static_cast<std::uint8_t>(run));
  };
  for (std::size_t i = 0; i < cells; ++i) {
    if (std::isfinite(z[i]) != run_valid) {
      flush();
      run_valid = !run_valid;
      run = 0;
    }
    ++run;
  }
  flush();
  const std::size_t mask_bytes = bytes.size();
  // The heights, kBits each, least significant bit first; level + kLevels + 1 (never 0).
  std::uint32_t acc = 0;
  int held = 0;
  for (std::size_t i = 0; i < cells; ++i) {
    if (!std::isfinite(z[i])) continue;
    const long level = std::clamp<long>(std::lround(z[i] / step), -kLevels, kLevels);
    acc |= static_cast<std::uint32_t>(level + kLevels + 1) << held;
    for (held += kBits; held >= 8; held -= 8, acc >>= 8)
      bytes.push_back(static_cast<std::uint8_t>(acc & 0xff));
  }
  if (held > 0) bytes.push_back(static_cast<std::uint8_t>(acc & 0xff));
  std::vector<float> out;
  PutGeometry(face, kFormat2, &out);
  out.insert(out.end(), {static_cast<float>(step), static_cast<float>(valid), static_cast<float>(mask_bytes),
                         static_cast<float>(kBits)});
  PackBytes(bytes, &out);
  return out;
}

QuickFace DecodeQuickFace(const std::vector<float>& f, double cmc_spacing_um, double quick_spacing_um) {
  Check(f.size() >= kHeader1 && (f[0] == kFormat1 || f[0] == kFormat2), "cmc quick features: unknown format");
  QuickFace out;
  if (f[0] == kFormat1) {
    out.face = Decode1(f, cmc_spacing_um);
    out.at_cmc_spacing = true;
    return out;
  }
  Check(f.size() >= kHeader2, "cmc quick features: bad size");
  const std::size_t cells = GetGeometry(f, quick_spacing_um, &out.face);
  const float step = f[12], valid = f[13], mask_bytes = f[14];
  Check(std::isfinite(step) && step > 0 && f[15] == kBits, "cmc quick features: bad header");
  Check(valid >= 0 && valid <= static_cast<float>(cells) && valid == std::floor(valid) && mask_bytes >= 1 &&
            mask_bytes <= 2.0f * static_cast<float>(cells) + 2 && mask_bytes == std::floor(mask_bytes),
        "cmc quick features: bad header");
  const auto n_valid = static_cast<std::size_t>(valid), n_mask = static_cast<std::size_t>(mask_bytes);
  const std::vector<std::uint8_t> bytes =
      UnpackBytes(f, kHeader2, n_mask + (n_valid * kBits + 7) / 8, "cmc quick features");
  auto* v = out.face.surface.values.ptr<double>();
  std::size_t at = 0, seen_valid = 0;
  bool run_valid = false;
  std::uint32_t acc = 0;
  int held = 0;
  std::size_t next = n_mask;  // the next byte of heights
  for (std::size_t m = 0; m < n_mask; ++m, run_valid = !run_valid) {
    const std::size_t run = bytes[m];
    Check(at + run <= cells, "cmc quick features: mask longer than the face");
    for (std::size_t i = 0; i < run; ++i, ++at) {
      if (!run_valid) {
        v[at] = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      Check(++seen_valid <= n_valid, "cmc quick features: more valid cells than stated");
      for (; held < kBits; held += 8) acc |= std::uint32_t{bytes[next++]} << held;
      const auto code = static_cast<long>(acc & ((1u << kBits) - 1));
      acc >>= kBits;
      held -= kBits;
      Check(code >= 1 && code <= 2 * kLevels + 1, "cmc quick features: bad height");
      v[at] = static_cast<double>(code - kLevels - 1) * step;
    }
  }
  Check(at == cells && seen_valid == n_valid, "cmc quick features: mask does not cover the face");
  return out;
}

}  // namespace toolmark::detail
