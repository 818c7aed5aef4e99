// Private: pieces of the land pipeline shared between its files.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "toolmark/engine/comparator.h"
#include "toolmark/engine/land.h"
#include "toolmark/engine/registry.h"

namespace toolmark::detail {

/// A peak (+1) or valley (−1) of a signature: the extent of one excursion of
/// the signature to one side of zero whose extremum exceeds the threshold.
struct Stria {
  int begin = 0, end = 0;  ///< [begin, end) indices
  int at = 0;              ///< index of the extremum
  int type = 0;            ///< +1 peak, −1 valley
  double height = 0;       ///< |extremum| / σ
};

/// Everything a land comparison needs from one signature, computed once.
struct PreparedSignature {
  LandSignature signature;
  std::vector<double> rough;                   ///< fine part (< 50 µm) of the signature
  std::vector<Stria> striae;                   ///< in index order
  double sigma = 0;                            ///< standard deviation of the signature
  bool complete = false;                       ///< no missing value (then the prefix sums are set)
  std::vector<double> prefix, prefix_squares;  ///< Σ v[0..i), Σ v²[0..i)
  int dft_size = 0;                            ///< of the spectra below
  cv::Mat f_mask, f_value, f_square;           ///< CCS-packed DFTs of m, v·m, v²·m (zero-padded)
};

PreparedSignature PrepareSignature(LandSignature signature);

/// Computes the spectra of `p` at `size` (no-op when already that size).
void EnsureSpectra(PreparedSignature* p, int size);

/// Smallest DFT size used for a signature of n points (2n rounded up to an
/// optimal DFT size), so that two signatures usually share one.
int SignatureDftSize(std::size_t n);

LandFeatures CompareSignatures(const PreparedSignature& a, const PreparedSignature& b);

/// The "land" comparator for MakeComparator.
std::unique_ptr<Comparator> MakeLandComparator();
/// As "land", with the robust smoother form model ("land_smoother").
std::unique_ptr<Comparator> MakeLandSmootherComparator();
/// The "land" and "land_smoother" comparators' registrations (comparators.def).
ComparatorInfo LandComparatorInfo();
ComparatorInfo LandSmootherComparatorInfo();

}  // namespace toolmark::detail
