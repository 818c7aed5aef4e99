// Private: the CMC comparator's prepared mark and entry points.
#pragma once

#include <memory>
#include <vector>

#include "toolmark/engine/cmc.h"
#include "toolmark/engine/comparator.h"

namespace toolmark::detail {

/// A breech face prepared once for many comparisons.
struct CmcPrepared {
  BreechFace face;                                   ///< at CmcOptions::spacing_um
  FiringPinImpression firing_pin;                    ///< present = false when none
  std::shared_ptr<const PreparedMark> registration;  ///< coarse areal registration mark
  std::vector<float> embedding;                      ///< BreechFaceEmbedding(face)
};

/// Rotation-invariant embedding of a preprocessed breech face (unit length).
std::vector<float> BreechFaceEmbedding(const BreechFace& face);

CmcPrepared PrepareCmc(const Surface& surface, const CmcOptions& options);
CmcResult CompareCmcPrepared(const CmcPrepared& a, const CmcPrepared& b, const CmcOptions& options);

/// The "cmc" comparator for MakeComparator (score = CMC count).
std::unique_ptr<Comparator> MakeCmcComparator();

}  // namespace toolmark::detail
