// Private: the pieces of breech-face preprocessing (breech_face.cc) shared
// between its files: the constants of docs/breech_face.md, the leveling and
// filters (breech_face_level.cc) and the region of interest
// (breech_face_roi.cc).
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "profile.h"
#include "toolmark/engine/breech_face.h"

namespace toolmark::detail::breech_face {

using detail::kNaN;

constexpr int kPlaneTrials = 200;                  ///< RANSAC planes tried
constexpr std::size_t kPlaneFitPoints = 20000;     ///< subsample for the plane fit
constexpr std::size_t kPlaneScorePoints = 2000;    ///< of which scored per RANSAC trial
constexpr int kPlaneRefits = 4;                    ///< trimmed least-squares refits
constexpr std::size_t kSpikeSigmaPoints = 100000;  ///< sample for the spikes' robust σ
constexpr double kSpikeSigmaFloorUm = 1e-3;        ///< heights: robust σ at least 1 nm
constexpr double kSpikeSigmaFloorGrey = 0.5;       ///< images: at least half a grey level
constexpr int kMinCells = 8;                       ///< least working grid side
constexpr int kMinValidPoints = 25;                ///< least finite points of a scan
constexpr double kMinFiringPinRadiusUm = 150;      ///< smaller enclosed gaps are dropouts
constexpr double kMinOuterRadiusUm = 500;          ///< least primer edge radius
constexpr int kCircleTrials = 600;                 ///< RANSAC circles tried (per circle sought)
constexpr std::size_t kCircleScorePoints = 400;    ///< edge points scored per trial
constexpr double kCircleToleranceCells = 1.5;      ///< inlier band around a circle
constexpr double kMinArc = 1.0 / 3.0;              ///< least fraction of a circle its inliers cover
constexpr double kMinVisibleArc = 0.5;             ///< … and of its part inside the grid
constexpr double kMaxHoleToOuter = 0.9;            ///< largest hole radius / outer radius
constexpr double kEdgeArtefactRatio = 3.5;         ///< band / face roughness that calls for the margin
constexpr double kSpeckFraction = 0.05;            ///< smaller components (of the largest) are dropped
constexpr double kMinOrientation = 0.2;            ///< |cos| between an edge step and the radius
// 2D images (grey levels).
constexpr double kClipMinFraction = 1e-4;   ///< this share of points at a full-scale value: clipped
constexpr double kGreyCoarseUm = 100;       ///< coarse scale of the exhaustive circle search
constexpr double kGreyCoarseMaxCells = 96;  ///< … at most this many coarse cells across the field
constexpr double kGreyFineUm = 25;          ///< fine scale of the circle refinement
constexpr int kGreyCoarseAngles = 96, kGreyFineAngles = 256;  ///< points sampled on a circle
constexpr double kGreyEdgeQuantile = 0.25;  ///< a circle's score: this quantile of its edge strength
constexpr double kGreyMinInside = 0.75;     ///< least share of a circle inside the image
constexpr double kGreyMinEdge = 1.0;        ///< least score, in median gradients of the image
constexpr double kGreyPinOffCentre = 0.35;  ///< pin centre within this × primer radius of its centre
constexpr double kGreyPinMin = 0.12, kGreyPinMax = 0.6;  ///< pin radius range, × primer radius

/// Deterministic pseudo-random indices (SplitMix64).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::size_t Below(std::size_t n) {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<std::size_t>((z ^ (z >> 31)) % n);
  }

 private:
  std::uint64_t state_;
};

struct Plane {
  double a = 0, bx = 0, by = 0;  ///< z = a + bx·(x − xc) + by·(y − yc), x, y in µm
  double xc = 0, yc = 0;
};

struct Resampled {
  cv::Mat values;                           ///< NaN where invalid
  double offset_x_um = 0, offset_y_um = 0;  ///< of cell (0, 0)'s centre from point (0, 0)
};

/// Midpoint between two 4-neighbour cells, one in the support and one not;
/// (nx, ny) is the unit step from the one in to the one out.
struct EdgePoint {
  double x, y, nx, ny;
};

struct Circle {
  double x = 0, y = 0, r = 0;  ///< cells
};

struct CircleFit {
  Circle circle;
  bool found = false;
  double arc = 0;  ///< fraction of the circle covered by inliers
};

std::string Format(const char* format, double a, double b = 0, double c = 0);
/// 255 where v is finite (NaN ≠ NaN).
cv::Mat FiniteMask(const cv::Mat& v);
/// The q-quantile of *v (reorders it).
double Quantile(std::vector<double>* v, double q);

// Leveling, spikes, filters, resampling (breech_face_level.cc).
/// 2D images: points at a full-scale grey level made NaN; returns their number.
int RemoveClipped(cv::Mat* v);
Plane FitPlane(const cv::Mat& v, double sx, double sy, double band);
void SubtractPlane(const Plane& plane, double sx, double sy, cv::Mat* v);
/// Sets spikes to NaN; returns their number and the robust σ in *sigma.
int RemoveSpikes(cv::Mat* v, int ksize, double k_sigma, double sigma_floor, double* sigma);
/// G*(v·m) / G*m with a separable Gaussian of σ (samples) along x and y, zero
/// outside the grid; NaN where m is 0. m: CV_8UC1, non-zero = use.
cv::Mat NormalizedGaussian(const cv::Mat& v, const cv::Mat& m8, double sigma_x, double sigma_y);
/// v − G*(v·m)/G*m (σ in cells) where m8; NaN elsewhere.
cv::Mat HighPass(const cv::Mat& v, const cv::Mat& m8, double sigma_cells);
Resampled Resample(const cv::Mat& v, const cv::Mat& vm, const cv::Mat& m, double sx, double sy, double ws,
                   int cols, int rows, double min_fraction);

// The region of interest (breech_face_roi.cc).
double Distance(double x, double y, const Circle& c);
std::vector<EdgePoint> EdgePoints(const cv::Mat& s);
/// The circle with the most edge points on it that have the support on `side`.
CircleFit FindCircle(const std::vector<EdgePoint>& pts, int side, double r_min, double r_max, cv::Size grid,
                     std::uint64_t seed);
cv::Mat FillSmallGaps(const cv::Mat& mask, double max_area, cv::Mat* exterior);
cv::Mat KeepComponents(const cv::Mat& mask, double min_area, const cv::Mat* outside = nullptr,
                       int* largest = nullptr);
cv::Mat Depression(const cv::Mat& v, const cv::Mat& valid, const cv::Mat& exterior, double min_depth,
                   double min_area);
/// 2D images: the primer edge and the firing-pin impression from grey levels.
void FindCirclesFromGreyLevels(const cv::Mat& v, double ws, CircleFit* outer, CircleFit* hole,
                               BreechFace* out);

}  // namespace toolmark::detail::breech_face
