// The binary sketches behind the sketch vector index (index/src/vector_sketch.h):
// which positions the first pass hands to the exact re-ranking, and that a
// sketch's Hamming distance follows the angle between vectors.
#include "vector_sketch.h"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <cmath>
#include <random>
#include <vector>

#include "toolmark/engine/check.h"

namespace toolmark::index::detail {
namespace {

TEST(VectorSketch, NearestAreTakenByDistanceThenPosition) {
  const std::uint16_t far = Sketch::kFar;
  //                                     0  1  2  3    4  5  6  7  8
  const std::vector<std::uint16_t> distance{5, 2, 9, far, 2, 0, 5, 5, 1};
  // Ties at the cut (distance 5) go to the lower positions; dead never.
  EXPECT_EQ(NearestBySketch(Distances::Of(distance, 64), 5, nullptr),
            (std::vector<std::size_t>{5, 8, 1, 4, 0}));
  EXPECT_EQ(NearestBySketch(Distances::Of(distance, 64), 7, nullptr),
            (std::vector<std::size_t>{5, 8, 1, 4, 0, 6, 7}));
  EXPECT_EQ(NearestBySketch(Distances::Of(distance, 64), 100, nullptr).size(),
            8u);  // every live one, no more
  EXPECT_TRUE(NearestBySketch(Distances::Of(distance, 64), 0, nullptr).empty());
  // A filter: the nearest it accepts, however far they are.
  const std::function<bool(std::size_t)> odd = [](std::size_t p) { return p % 2 == 1; };
  EXPECT_EQ(NearestBySketch(Distances::Of(distance, 64), 3, odd), (std::vector<std::size_t>{5, 1, 7}));
  EXPECT_EQ(NearestBySketch(Distances::Of(distance, 64), 9, odd), (std::vector<std::size_t>{5, 1, 7}));
  const std::function<bool(std::size_t)> none = [](std::size_t) { return false; };
  EXPECT_TRUE(NearestBySketch(Distances::Of(distance, 64), 3, none).empty());
  const std::function<bool(std::size_t)> two = [](std::size_t p) { return p == 2; };
  EXPECT_EQ(NearestBySketch(Distances::Of(distance, 64), 1, two), (std::vector<std::size_t>{2}));
}

/// A selective filter over many positions: the same answer as sorting every
/// accepted position, and the filter is asked about far fewer than all.
TEST(VectorSketch, FilteredSelectionWidensOnlyAsFarAsNeeded) {
  std::mt19937 rng(3);
  std::vector<std::uint16_t> distance(100000);
  for (auto& d : distance) d = static_cast<std::uint16_t>(rng() % 257);
  std::atomic<std::size_t> asked{0};
  const std::function<bool(std::size_t)> every_tenth = [&asked](std::size_t p) {
    ++asked;
    return p % 10 == 3;
  };
  const std::vector<std::size_t> got = NearestBySketch(Distances::Of(distance, 256), 500, every_tenth);
  std::vector<std::pair<std::uint16_t, std::size_t>> all;
  for (std::size_t p = 3; p < distance.size(); p += 10) all.emplace_back(distance[p], p);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(got.size(), 500u);
  for (std::size_t i = 0; i < 500; ++i) EXPECT_EQ(got[i], all[i].second) << i;
  EXPECT_LT(asked.load(), distance.size() / 2);
  // Counted right: every live position at its distance.
  const Distances counted = Distances::Of(distance, 256);
  EXPECT_EQ(counted.live, distance.size());
  EXPECT_THROW(Distances::Of({3, 300}, 256), Error);
  // One thread: the same positions.
  std::vector<std::size_t> alone;
  tbb::task_arena(1).execute(
      [&] { alone = NearestBySketch(Distances::Of(distance, 256), 500, every_tenth); });
  EXPECT_EQ(alone, got);
}

std::vector<std::uint16_t> ScanOf(const Sketch& sketch, const float* query, const std::vector<char>& live) {
  Distances d;
  sketch.Scan(query, live, &d);
  return d.distance;
}

/// The share of differing bits estimates angle / π (sign random projections).
TEST(VectorSketch, HammingDistanceFollowsTheAngle) {
  constexpr int kDims = 100;  // padded to 128 inside
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> base(kDims), noise(kDims);
  for (float& x : base) x = normal(rng);
  for (float& x : noise) x = normal(rng);
  Sketch sketch(kDims, 1024);
  std::vector<float> rows;
  std::vector<double> angles;
  for (double t : {0.0, 0.2, 0.5, 1.0, 2.0, 10.0}) {
    std::vector<float> row(kDims);
    for (int d = 0; d < kDims; ++d) row[d] = base[d] + static_cast<float>(t) * noise[d];
    double dot = 0, nb = 0, nr = 0;
    for (int d = 0; d < kDims; ++d) {
      dot += static_cast<double>(base[d]) * row[d];
      nb += static_cast<double>(base[d]) * base[d];
      nr += static_cast<double>(row[d]) * row[d];
    }
    angles.push_back(std::acos(std::clamp(dot / std::sqrt(nb * nr), -1.0, 1.0)));
    rows.insert(rows.end(), row.begin(), row.end());
  }
  sketch.Append(rows.data(), angles.size());
  ASSERT_EQ(sketch.size(), angles.size());
  const std::vector<char> live(angles.size(), 1);
  const std::vector<std::uint16_t> d = ScanOf(sketch, base.data(), live);
  EXPECT_EQ(d[0], 0);
  for (std::size_t i = 1; i < d.size(); ++i) {
    EXPECT_NEAR(d[i] / 1024.0, angles[i] / M_PI, 0.06) << i;
    EXPECT_GT(d[i], d[i - 1]) << i;
  }
  // A dead position has no distance.
  const std::vector<char> some{1, 0, 1, 1, 1, 1};
  EXPECT_EQ(ScanOf(sketch, base.data(), some)[1], Sketch::kFar);
  // The same vectors give the same sketches in another instance (fixed seed).
  Sketch again(kDims, 1024);
  again.Append(rows.data(), angles.size());
  EXPECT_EQ(ScanOf(again, base.data(), live), d);
  EXPECT_THROW(Sketch(kDims, 100), Error);
  EXPECT_THROW(Sketch(kDims, 0), Error);
  EXPECT_THROW(Sketch(0, 64), Error);
}

}  // namespace
}  // namespace toolmark::index::detail
