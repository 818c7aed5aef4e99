// Private numerical helpers shared by the comparators: small least-squares
// systems, medians, Gaussian kernels and NaN-aware 1D profile operations
// (NaN marks a missing point everywhere).
#pragma once

#include <array>
#include <cstddef>
#include <limits>
#include <vector>

namespace toolmark::detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Solves the 3×3 least-squares normal equations ata·x = atb (row-major ata).
std::array<double, 3> SolveNormal3(const std::array<double, 9>& ata, const std::array<double, 3>& atb);

/// Adds one observation target ≈ basis·coefficients to the normal equations.
void Accumulate3(const std::array<double, 3>& basis, double target, std::array<double, 9>* ata,
                 std::array<double, 3>* atb);

/// Median of a non-empty vector (reorders it).
double Median(std::vector<double>* v);

/// Normalised 1D Gaussian kernel with half-width ceil(3σ), σ in samples;
/// the half-width is at most max_half (≥ 1) when given.
std::vector<double> GaussianKernel1d(double sigma, int max_half = 0);

/// Linear resampling from spacing `from` to `to` (µm); NaN where a neighbour is.
std::vector<double> ResampleProfile(const std::vector<double>& p, double from, double to);

/// NaN-aware Gaussian smoothing (normalised convolution), σ in samples; NaN
/// stays NaN.
std::vector<double> SmoothProfile(const std::vector<double>& p, double sigma);

int CountFinite(const std::vector<double>& p);

/// Pearson correlation of a[i] with b[i − lag] over their common finite
/// points (their number in *overlap); -2 when fewer than min_overlap or flat.
double LagCorrelation(const std::vector<double>& a, const std::vector<double>& b, std::ptrdiff_t lag,
                      double min_overlap, double* overlap);

/// σ (same unit as λ) of the ISO 16610-21 Gaussian filter with cut-off λ.
double GaussianSigmaForCutoff(double lambda_um);

/// NaN-aware Gaussian smoothing (σ in samples) evaluated where evaluate[i];
/// NaN elsewhere and where under 5% of the kernel's weight is finite.
std::vector<double> NormalizedConvolution(const std::vector<double>& p, double sigma,
                                          const std::vector<char>& evaluate);

/// ISO 16610-21 Gaussian band-pass (λs < λc) of a profile with NaN; interior
/// gaps up to max_gap_um are bridged, wider ones stay NaN.
std::vector<double> BandPassProfile(const std::vector<double>& p, double spacing_um, double lambda_c_um,
                                    double lambda_s_um, double max_gap_um);

}  // namespace toolmark::detail
