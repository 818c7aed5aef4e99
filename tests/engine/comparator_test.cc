// Tests of MakeComparator and the two baseline comparators, on synthetic
// surfaces and (where ../shared/datasets exists and the test links the ingest
// library) on real Fadul and Hamby 44 scans.
#include "toolmark/engine/comparator.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/engine/half_float.h"

// The real-scan tests need the ingest library's reader: they compile only when
// this target links toolmark::ingest (tests/CMakeLists.txt).
#if __has_include("toolmark/ingest/scan.h")
#include "toolmark/ingest/scan.h"
#define TOOLMARK_HAVE_INGEST 1
#endif

namespace toolmark {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ------------------------------------------------------------------ fixtures

/// Zero-mean white noise smoothed with a Gaussian of σ (cells), unit-ish scale.
cv::Mat SmoothNoise(cv::RNG* rng, cv::Size size, double sigma) {
  cv::Mat noise(size, CV_64F);
  rng->fill(noise, cv::RNG::NORMAL, 0.0, 1.0);
  cv::Mat out;
  cv::GaussianBlur(noise, out, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT);
  return out * sigma;
}

/// A random multi-scale height map (µm) at 10 µm spacing with a tilt.
Surface RandomSurface(std::uint64_t seed, int side = 400) {
  cv::RNG rng(seed);
  cv::Mat z = cv::Mat::zeros(side, side, CV_64F);
  for (double sigma : {2.0, 4.0, 8.0, 30.0}) z += SmoothNoise(&rng, z.size(), sigma);
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) z.at<double>(y, x) += 0.05 * x - 0.02 * y;
  Surface s;
  s.values = z;
  s.spacing_x_um = s.spacing_y_um = 10.0;
  return s;
}

/// B(p) = A(R(p − g) + g + t) (p, g, t in cells; R counter-clockwise by deg),
/// NaN outside A, plus Gaussian noise of standard deviation `noise`.
Surface Transformed(const Surface& a, double deg, cv::Point2d t, double noise, std::uint64_t seed) {
  const double rad = deg * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  const double gx = 0.5 * (a.SizeX() - 1), gy = 0.5 * (a.SizeY() - 1);
  const cv::Matx23d map(c, -s, gx + t.x - c * gx + s * gy, s, c, gy + t.y - s * gx - c * gy);
  Surface b = a;
  b.values = cv::Mat();  // a fresh buffer: warpAffine cannot work in place
  cv::warpAffine(a.values, b.values, map, a.values.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_CONSTANT, cv::Scalar(kNaN));
  cv::Mat n(b.values.size(), CV_64F);
  cv::RNG rng(seed);
  rng.fill(n, cv::RNG::NORMAL, 0.0, noise);
  b.values += n;
  return b;
}

/// Punches `count` NaN disks of radius `radius` cells into a surface.
void PunchHoles(Surface* s, int count, int radius, std::uint64_t seed) {
  cv::RNG rng(seed);
  for (int i = 0; i < count; ++i) {
    const cv::Point centre(rng.uniform(0, s->SizeX()), rng.uniform(0, s->SizeY()));
    cv::circle(s->values, centre, radius, cv::Scalar(kNaN), cv::FILLED);
  }
}

Comparison CompareSurfaces(const Comparator& comparator, const Surface& a, const Surface& b) {
  return comparator.Compare(*comparator.Prepare(a), *comparator.Prepare(b));
}

// ------------------------------------------------------------------- factory

TEST(MakeComparator, KnownNames) {
  EXPECT_EQ(ComparatorNames(),
            (std::vector<std::string>{"cmc", "baseline", "land", "land_smoother", "baseline_land"}));
  for (const std::string& name : ComparatorNames()) EXPECT_EQ(MakeComparator(name)->Name(), name);
}

TEST(MakeComparator, UnknownNameThrows) {
  try {
    MakeComparator("cmcx");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "unknown comparator 'cmcx' (known: cmc, baseline, land, land_smoother, baseline_land)");
  }
}

// -------------------------------------------------------- half precision

TEST(HalfFloat, RoundsToNearestEvenAndPacksWithoutLoss) {
  std::vector<float> v = {0.1f, -0.3f, 1.0f, 0.0f, 1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65504.0f, 1e-8f};
  EXPECT_FALSE(AllHalves(v));
  RoundToHalf(&v);
  EXPECT_TRUE(AllHalves(v));
  EXPECT_EQ(v[1], -0.300048828125f);
  EXPECT_EQ(v[2], 1.0f);
  EXPECT_EQ(v[4], 1.0f);                 // a tie: to the even neighbour
  EXPECT_EQ(v[5], 1.0f + 4 * 0x1p-11f);  // a tie: to the even neighbour
  EXPECT_EQ(v[6], 65504.0f);             // the largest half
  EXPECT_EQ(v[7], 0.0f);                 // below the smallest subnormal half
  const std::string packed = PackHalves(v);
  ASSERT_EQ(packed.size(), 2 * v.size());
  EXPECT_EQ(static_cast<unsigned char>(packed[4]), 0x00);  // 1.0 = 0x3c00, little-endian
  EXPECT_EQ(static_cast<unsigned char>(packed[5]), 0x3c);
  EXPECT_EQ(UnpackHalves(packed), v);
}

TEST(HalfFloat, EveryFiniteHalfRoundTripsToItsOwnBits) {
  int finite = 0;
  for (unsigned bits = 0; bits < 0x10000; ++bits) {
    const std::string b = {static_cast<char>(bits & 0xff), static_cast<char>(bits >> 8)};
    if ((bits & 0x7c00) == 0x7c00) {  // infinity or NaN
      EXPECT_THROW(UnpackHalves(b), Error) << bits;
      continue;
    }
    const std::vector<float> v = UnpackHalves(b);
    ASSERT_TRUE(AllHalves(v)) << bits;
    ASSERT_EQ(PackHalves(v), b) << bits;
    ++finite;
  }
  EXPECT_EQ(finite, 0x10000 - 2 * 1024);
}

TEST(HalfFloat, RefusesWhatIsNotAHalf) {
  EXPECT_FALSE(AllHalves({0.1f}));
  EXPECT_FALSE(AllHalves({70000.0f}));  // beyond the largest half
  EXPECT_FALSE(AllHalves({NAN}));
  EXPECT_THROW(PackHalves({0.1f}), Error);
  EXPECT_THROW(UnpackHalves(std::string("\x00\x3c\x00", 3)), Error);  // odd length
  EXPECT_THROW(UnpackHalves(std::string("\x00\x7c", 2)), Error);      // infinity
  EXPECT_THROW(UnpackHalves(std::string("\x01\x7e", 2)), Error);      // NaN
}

// ------------------------------------------------------------------ baseline

TEST(BaselineComparator, RecoversRotationAndShift) {
  const auto comparator = MakeComparator("baseline");
  const Surface a = RandomSurface(1);
  const Surface b = Transformed(a, 30.0, {15.0, -10.0}, 0.3, 2);
  const Comparison c = CompareSurfaces(*comparator, a, b);
  EXPECT_GT(c.score, 0.8);
  EXPECT_NEAR(c.rotation_deg, 30.0, 3.0);
  EXPECT_NEAR(c.shift_x_um, 150.0, 50.0);
  EXPECT_NEAR(c.shift_y_um, -100.0, 50.0);
  EXPECT_GT(c.overlap_fraction, 0.5);
  EXPECT_LE(c.overlap_fraction, 1.0);
}

TEST(BaselineComparator, RecoversAnOffGridRotation) {
  const auto comparator = MakeComparator("baseline");
  const Surface a = RandomSurface(3);
  const Comparison c = CompareSurfaces(*comparator, a, Transformed(a, -100.5, {-8.0, 12.0}, 0.3, 4));
  EXPECT_GT(c.score, 0.8);
  EXPECT_NEAR(c.rotation_deg, -100.5, 3.0);
  EXPECT_NEAR(c.shift_x_um, -80.0, 50.0);
  EXPECT_NEAR(c.shift_y_um, 120.0, 50.0);
}

TEST(BaselineComparator, IndependentSurfacesScoreLow) {
  const auto comparator = MakeComparator("baseline");
  const Comparison c = CompareSurfaces(*comparator, RandomSurface(5), RandomSurface(6));
  std::printf("baseline independent surfaces: score %.3f\n", c.score);
  EXPECT_LT(c.score, 0.3);
}

TEST(BaselineComparator, HandlesMissingData) {
  const auto comparator = MakeComparator("baseline");
  Surface a = RandomSurface(7);
  Surface b = Transformed(a, 30.0, {15.0, -10.0}, 0.3, 8);
  PunchHoles(&a, 12, 25, 9);
  PunchHoles(&b, 12, 25, 10);
  const Comparison c = CompareSurfaces(*comparator, a, b);
  EXPECT_GT(c.score, 0.8);
  EXPECT_NEAR(c.rotation_deg, 30.0, 3.0);
  EXPECT_NEAR(c.shift_x_um, 150.0, 50.0);
  EXPECT_NEAR(c.shift_y_um, -100.0, 50.0);
  Surface other = RandomSurface(11);
  PunchHoles(&other, 12, 25, 12);
  EXPECT_LT(CompareSurfaces(*comparator, a, other).score, 0.3);
}

TEST(BaselineComparator, IntensityImagesUseTheSamePipeline) {
  const auto comparator = MakeComparator("baseline");
  Surface a = RandomSurface(13);
  a.values = a.values * 20.0 + 128.0;
  a.kind = SurfaceKind::kIntensity;
  Surface b = Transformed(a, 30.0, {15.0, -10.0}, 5.0, 14);
  b.values = b.values * 0.7 + 10.0;  // gain and offset do not matter
  const Comparison c = CompareSurfaces(*comparator, a, b);
  EXPECT_GT(c.score, 0.8);
  EXPECT_NEAR(c.rotation_deg, 30.0, 3.0);
}

TEST(BaselineComparator, TooFewValidPointsThrows) {
  const auto comparator = MakeComparator("baseline");
  Surface s = RandomSurface(15, 100);
  s.values.setTo(kNaN);
  s.values(cv::Rect(0, 0, 10, 10)).setTo(1.0);
  EXPECT_THROW(comparator->Prepare(s), Error);
  EXPECT_THROW(comparator->Prepare(Surface{}), Error);
}

TEST(BaselineComparator, Deterministic) {
  const auto comparator = MakeComparator("baseline");
  const Surface a = RandomSurface(16);
  Surface b = Transformed(a, 45.0, {5.0, 5.0}, 1.0, 17);
  PunchHoles(&b, 6, 20, 18);
  const auto pa = comparator->Prepare(a);
  const auto pb = comparator->Prepare(b);
  const auto run = [&](std::size_t threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    return comparator->Compare(*pa, *pb);
  };
  const Comparison one = run(1), two = run(2), again = run(2);
  for (const Comparison& c : {two, again}) {
    EXPECT_EQ(c.score, one.score);
    EXPECT_EQ(c.rotation_deg, one.rotation_deg);
    EXPECT_EQ(c.shift_x_um, one.shift_x_um);
    EXPECT_EQ(c.shift_y_um, one.shift_y_um);
    EXPECT_EQ(c.overlap_fraction, one.overlap_fraction);
  }
}

// ------------------------------------------------------------- baseline_land

/// A random striation profile (µm) of n points: narrow striae plus waviness.
std::vector<double> StriaeProfile(std::uint64_t seed, int n) {
  cv::RNG rng(seed);
  cv::Mat fine(1, n, CV_64F), coarse(1, n, CV_64F);
  rng.fill(fine, cv::RNG::NORMAL, 0.0, 1.0);
  rng.fill(coarse, cv::RNG::NORMAL, 0.0, 1.0);
  cv::GaussianBlur(fine, fine, cv::Size(0, 0), 2.0, 0.1, cv::BORDER_REFLECT);
  cv::GaussianBlur(coarse, coarse, cv::Size(0, 0), 60.0, 0.1, cv::BORDER_REFLECT);
  std::vector<double> p(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    p[static_cast<std::size_t>(i)] = 0.5 * fine.at<double>(i) + 5.0 * coarse.at<double>(i);
  return p;
}

/// A land scan (x across the land, 1.5625 µm spacing): profile[offset + x]
/// plus bullet curvature, repeated along y with per-point noise.
Surface LandSurface(const std::vector<double>& profile, int offset, int cols, double noise,
                    std::uint64_t seed) {
  Surface s;
  s.values = cv::Mat(300, cols, CV_64F);
  s.spacing_x_um = s.spacing_y_um = 1.5625;
  cv::RNG rng(seed);
  const double radius_um = 4500.0, mid = 0.5 * cols * s.spacing_x_um;
  for (int y = 0; y < s.SizeY(); ++y)
    for (int x = 0; x < cols; ++x) {
      const double u = x * s.spacing_x_um - mid;
      s.values.at<double>(y, x) =
          profile[static_cast<std::size_t>(offset + x)] - u * u / (2 * radius_um) + rng.gaussian(noise);
    }
  return s;
}

TEST(BaselineLandComparator, RecoversShift) {
  const auto comparator = MakeComparator("baseline_land");
  const std::vector<double> profile = StriaeProfile(21, 1400);
  const Surface a = LandSurface(profile, 0, 1200, 0.2, 22);
  const Surface b = LandSurface(profile, 64, 1200, 0.2, 23);  // 64 × 1.5625 = 100 µm
  const Comparison c = CompareSurfaces(*comparator, a, b);
  EXPECT_GT(c.score, 0.8);
  EXPECT_NEAR(c.shift_x_um, 100.0, 5.0);
  EXPECT_EQ(c.rotation_deg, 0.0);
  EXPECT_GT(c.overlap_fraction, 0.5);
}

TEST(BaselineLandComparator, IndependentProfilesScoreLow) {
  const auto comparator = MakeComparator("baseline_land");
  for (std::uint64_t seed : {31, 33, 35}) {
    const Surface a = LandSurface(StriaeProfile(seed, 1200), 0, 1200, 0.2, seed + 100);
    const Surface b = LandSurface(StriaeProfile(seed + 1, 1200), 0, 1200, 0.2, seed + 101);
    const Comparison c = CompareSurfaces(*comparator, a, b);
    std::printf("baseline_land independent profiles (seed %d): score %.3f\n", static_cast<int>(seed),
                c.score);
    EXPECT_LT(c.score, 0.3);
  }
}

TEST(BaselineLandComparator, HandlesMissingDataAndResampling) {
  const auto comparator = MakeComparator("baseline_land");
  const std::vector<double> profile = StriaeProfile(41, 1400);
  Surface a = LandSurface(profile, 0, 1200, 0.2, 42);
  a.values(cv::Rect(500, 0, 30, 300)).setTo(kNaN);  // a missing band across the land
  PunchHoles(&a, 20, 15, 43);
  Surface b = LandSurface(profile, 64, 1200, 0.2, 44);
  cv::resize(b.values, b.values, cv::Size(600, 300), 0, 0, cv::INTER_AREA);  // 3.125 µm spacing
  b.spacing_x_um = 3.125;
  const Comparison c = CompareSurfaces(*comparator, a, b);
  EXPECT_GT(c.score, 0.7);
  EXPECT_NEAR(c.shift_x_um, 100.0, 5.0);
}

TEST(BaselineLandComparator, DeterministicAndThrowsOnEmpty) {
  const auto comparator = MakeComparator("baseline_land");
  const std::vector<double> profile = StriaeProfile(51, 1400);
  const Surface a = LandSurface(profile, 0, 1200, 0.5, 52);
  const Surface b = LandSurface(profile, 30, 1200, 0.5, 53);
  const Comparison one = CompareSurfaces(*comparator, a, b), two = CompareSurfaces(*comparator, a, b);
  EXPECT_EQ(one.score, two.score);
  EXPECT_EQ(one.shift_x_um, two.shift_x_um);
  Surface empty = a;
  empty.values.setTo(kNaN);
  EXPECT_THROW(comparator->Prepare(empty), Error);
}

// -------------------------------------------------------------- real scans

#ifdef TOOLMARK_HAVE_INGEST

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Surface ReadDatasetScan(const std::string& relative) {
  return ingest::ReadScan(testing::DatasetsDir() + "/" + relative, ingest::ReadOptions{}).surface;
}

/// Compares two scans with a comparator, printing the score and the timing.
double ScorePair(const Comparator& comparator, const std::string& a, const std::string& b) {
  const Surface sa = ReadDatasetScan(a), sb = ReadDatasetScan(b);
  const auto start = std::chrono::steady_clock::now();
  const Comparison c = CompareSurfaces(comparator, sa, sb);
  std::printf("%s: %s vs %s: score %.4f rotation %.1f deg shift (%.1f, %.1f) um overlap %.2f, %.3f s\n",
              comparator.Name().c_str(), a.c_str(), b.c_str(), c.score, c.rotation_deg, c.shift_x_um,
              c.shift_y_um, c.overlap_fraction, Seconds(start));
  return c.score;
}

TEST(BaselineComparator, FadulKnownMatchAboveKnownNonMatch) {
  TOOLMARK_REQUIRE_DATASETS();
  const auto comparator = MakeComparator("baseline");
  const double km = ScorePair(*comparator, "fadul/fadul-1-1.x3p", "fadul/fadul-1-2.x3p");
  const double knm = ScorePair(*comparator, "fadul/fadul-1-1.x3p", "fadul/fadul-2-1.x3p");
  EXPECT_GT(km, knm);
}

TEST(BaselineLandComparator, HambyKnownMatchAboveKnownNonMatch) {
  TOOLMARK_REQUIRE_DATASETS();
  const auto comparator = MakeComparator("baseline_land");
  const std::string b1l1 = "hamby44/hamby44-barrel1-bullet1-land1.x3p";
  const double km = ScorePair(*comparator, b1l1, "hamby44/hamby44-barrel1-bullet2-land5.x3p");
  const double knm = ScorePair(*comparator, b1l1, "hamby44/hamby44-barrel1-bullet2-land1.x3p");
  EXPECT_GT(km, knm);
}

#endif  // TOOLMARK_HAVE_INGEST

}  // namespace
}  // namespace toolmark
