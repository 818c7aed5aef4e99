// Breech-face preprocessing of cartridge-case scans: leveling, spike removal,
// the breech-face region of interest (primer edge, firing-pin hole), the
// ISO 16610-61 areal Gaussian band-pass and resampling to a working grid.
// The output feeds the Congruent Matching Cells comparator. Engine code:
// in-memory, deterministic, thread-safe. The steps and every constant are
// documented in docs/breech_face.md. Every length is in µm; NaN is a missing
// point.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "toolmark/engine/surface.h"

namespace toolmark {

struct BreechFaceOptions {
  double spacing_um = 12.5;    ///< working spacing of the output grid (square)
  double lambda_s_um = 16.0;   ///< ISO 16610-61 areal Gaussian low-pass cut-off (noise); 0: none
  double lambda_c_um = 250.0;  ///< ISO 16610-61 areal Gaussian high-pass cut-off (form, waviness); +inf: none
  double spike_sigma = 6.0;    ///< a point further than this many robust σ from its local median is a spike
  double level_inlier_um = 5.0;        ///< robust plane fit inlier band
  double min_valid_fraction = 0.5;     ///< of a working cell's area, for the cell to be valid
  bool detect_roi = true;              ///< find the primer's breech-face annulus automatically
  double firing_pin_margin_um = 60.0;  ///< dropped around the detected firing-pin hole
  double edge_margin_um = 60.0;        ///< dropped inside the detected outer primer edge

  // Additions.
  double spike_window_um = 25.0;          ///< side of the local-median window (3×3 or 5×5 scan points)
  double firing_pin_min_depth_um = 15.0;  ///< heights: a firing-pin impression with data is this deep or more
  /// true: a margin is dropped only where the band next to that edge shows
  /// edge artefacts (rim, wall, roll-off: 3.5 × rougher than the face), so an
  /// already-cropped scan is not cropped again; false: always dropped.
  bool adaptive_margins = true;
  /// 2D images: λs used instead of lambda_s_um. At shorter wavelengths the
  /// grey levels of a ring-light image are mostly primer grain and specular
  /// glints, which differ from firing to firing (docs/breech_face.md).
  double intensity_lambda_s_um = 80.0;
};

struct BreechFace {
  /// Processed: leveled, despiked, ROI only (NaN outside), band-passed, at options.spacing_um.
  Surface surface;
  cv::Mat roi;  ///< CV_8UC1 0/255 mask of the breech-face annulus on the output grid
  bool outer_found = false, firing_pin_found = false;
  cv::Point2d centre_um;       ///< primer centre in output-grid µm (x = col*spacing, y = row*spacing)
  double outer_radius_um = 0;  ///< primer / breech-face outer edge radius
  double firing_pin_centre_x_um = 0, firing_pin_centre_y_um = 0, firing_pin_radius_um = 0;
  int spikes_removed = 0;
  double plane_tilt_deg = 0;       ///< of the removed plane (heights; 0 for intensity images)
  std::vector<std::string> notes;  ///< what was assumed (e.g. "no firing-pin hole found: none removed")

  // Additions.
  double plane_slope_x = 0, plane_slope_y = 0;  ///< removed plane: value units per µm along x, y
  bool outer_margin_applied = false;            ///< edge_margin_um was dropped inside the outer edge
  bool firing_pin_margin_applied = false;       ///< firing_pin_margin_um was dropped around the hole
  /// Edge artefact test: 95th percentile of |band-passed value| within the
  /// margin of the edge over that of the face further in (0: not tested).
  double outer_edge_ratio = 0, firing_pin_edge_ratio = 0;
  bool firing_pin_from_depth = false;  ///< the hole was found as a depression, not as missing data
  double spike_sigma_value = 0;        ///< the robust σ (value units) spikes were judged by
  int clipped_points =
      0;  ///< 2D images: points at a full-scale grey level (saturated or black), made missing
  /// 2D images: how strong the primer edge and the firing-pin edge found from
  /// grey levels are, in median gradients of the image (0: not searched).
  double outer_edge_strength = 0, firing_pin_edge_strength = 0;
};

/// Preprocesses a breech-face scan (heights or a 2D intensity image). user_mask
/// (optional, same size as surface.values, CV_8UC1, non-zero = keep) wins over
/// ROI detection. Throws toolmark::Error (one line) for unusable input: no or
/// too few values, non-positive spacing, invalid options, a mismatched mask.
BreechFace PreprocessBreechFace(const Surface& surface, const BreechFaceOptions& options = {},
                                const cv::Mat* user_mask = nullptr);

}  // namespace toolmark
