// Private: the CMC comparator's prepared mark and entry points.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <utility>
#include <vector>

#include "toolmark/engine/cmc.h"
#include "toolmark/engine/comparator.h"
#include "toolmark/engine/registry.h"

namespace toolmark::detail {

/// Rings of a processed breech face at fixed radii about its centre, as
/// spectra along the angle: a fast rotation estimate (cmc_polar.cc).
struct PolarSignature {
  cv::Point2d centre_px;      ///< ring centre in the face's grid, pixels
  cv::Mat spectra;            ///< rings × angles, CV_32FC2 (empty: none)
  std::vector<float> weight;  ///< per ring: share of valid samples (0: ring unusable)
};

PolarSignature MakePolarSignature(const BreechFace& face);

/// The `count` best rotations (degrees, (−180, 180], at least
/// `min_separation_deg` apart) by which B's rings sit further round than A's,
/// each with its correlation (sum of ring correlations over the ring weights).
std::vector<std::pair<double, double>> PolarRotations(const PolarSignature& a, const PolarSignature& b,
                                                      int count, double min_separation_deg);

/// A breech face prepared once for many comparisons.
struct CmcPrepared {
  BreechFace face;                                   ///< at CmcOptions::spacing_um
  FiringPinImpression firing_pin;                    ///< present = false when none
  std::shared_ptr<const PreparedMark> registration;  ///< coarse areal registration mark
  std::vector<float> embedding;                      ///< BreechFaceEmbedding(polar)
  PolarSignature polar;                              ///< MakePolarSignature(face)
};

/// The CMC's screening count, cheap enough to rank search candidates before
/// the full comparison: the reference's cells registered in the other
/// (forward only, no angle refinement) at each coarse registration
/// (CmcOptions::polar_coarse); the best count. Not a comparison result.
struct QuickCmc {
  int count = 0;
  double rotation_deg = 0;
};
QuickCmc QuickCmcCount(const CmcPrepared& a, const CmcPrepared& b, const CmcOptions& options);

/// Rotation-invariant embedding of a breech face's polar signature (unit
/// length, 512 numbers).
std::vector<float> BreechFaceEmbedding(const PolarSignature& polar);

CmcPrepared PrepareCmc(const Surface& surface, const CmcOptions& options);
CmcResult CompareCmcPrepared(const CmcPrepared& a, const CmcPrepared& b, const CmcOptions& options);

/// The "cmc" comparator for MakeComparator (score = CMC count).
std::unique_ptr<Comparator> MakeCmcComparator();
/// The "cmc" comparator's registration (comparators.def).
ComparatorInfo CmcComparatorInfo();

}  // namespace toolmark::detail
