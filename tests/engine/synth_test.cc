// The synthetic generator: determinism, ground truth consistency, geometry.
#include "toolmark/engine/synth.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

SynthOptions Small(const std::string& kind) {
  SynthOptions o;
  o.kind = KindOf(kind);
  o.firearms = 3;
  o.per_firearm = 2;
  o.seed = 42;
  o.size = kind == "bullet" ? 200 : 96;
  return o;
}

TEST(Synth, SameSeedSameScansDifferentSeedDifferent) {
  for (const char* kind : {"cartridge_case", "bullet"}) {
    SynthOptions o = Small(kind);
    const SynthScan a = GenerateSynthScan(o, 3), b = GenerateSynthScan(o, 3);
    EXPECT_TRUE(IdenticalSurfaces(a.surface, b.surface)) << kind;
    EXPECT_EQ(a.file, b.file);
    o.seed = 43;
    EXPECT_FALSE(IdenticalSurfaces(a.surface, GenerateSynthScan(o, 3).surface)) << kind;
  }
}

TEST(Synth, CartridgeCaseGroundTruthAndGeometry) {
  const SynthOptions o = Small("cartridge_case");
  ASSERT_EQ(SynthScanCount(o), 6);
  std::map<std::string, int> per_firearm;
  std::set<std::string> files;
  for (int i = 0; i < SynthScanCount(o); ++i) {
    const SynthScan s = GenerateSynthScan(o, i);
    ++per_firearm[s.firearm];
    EXPECT_TRUE(files.insert(s.file).second) << s.file;
    EXPECT_EQ(s.kind, Kind::kCartridgeCase);
    EXPECT_GT(s.surface.ValidFraction(), 0.4) << s.file;
    EXPECT_LT(s.surface.ValidFraction(), 0.95) << s.file;  // outside the primer, drop-outs
    EXPECT_GT(s.surface.spacing_x_um, 20.0);
    EXPECT_LT(s.surface.spacing_x_um, 60.0);
    double lo = 0, hi = 0;
    s.surface.Range(&lo, &hi);
    EXPECT_LT(lo, -20.0);  // the firing-pin impression
    EXPECT_LT(hi - lo, 200.0);
  }
  EXPECT_EQ(per_firearm, (std::map<std::string, int>{{"f0000", 2}, {"f0001", 2}, {"f0002", 2}}));
}

TEST(Synth, BulletLandsCoverTheBarrelOnceStartingAnywhere) {
  const SynthOptions o = Small("bullet");
  ASSERT_EQ(SynthScanCount(o), 3 * 2 * 6);
  std::map<std::string, std::set<std::string>> land_ids_of_bullet;
  std::map<std::string, std::string> firearm_of_bullet;
  for (int i = 0; i < SynthScanCount(o); ++i) {
    const SynthScan s = GenerateSynthScan(o, i);
    EXPECT_EQ(s.land, i % 6 + 1);
    EXPECT_EQ(s.land_id.rfind(s.firearm + "-L", 0), 0u);
    land_ids_of_bullet[s.bullet].insert(s.land_id);
    firearm_of_bullet[s.bullet] = s.firearm;
    EXPECT_GT(s.surface.ValidFraction(), 0.5);
  }
  EXPECT_EQ(land_ids_of_bullet.size(), 6u);
  for (const auto& [bullet, ids] : land_ids_of_bullet) EXPECT_EQ(ids.size(), 6u) << bullet;
}

TEST(Synth, OptionsAreChecked) {
  SynthOptions o;
  o.kind = static_cast<Kind>(7);  // not a kind: refused, not taken for one
  EXPECT_THROW(SynthScanCount(o), Error);
  o = SynthOptions{};
  o.firearms = 0;
  EXPECT_THROW(SynthScanCount(o), Error);
  o = SynthOptions{};
  EXPECT_THROW(GenerateSynthScan(o, SynthScanCount(o)), Error);
  EXPECT_THROW(ParseSynthDifficulty("medium"), Error);
  EXPECT_EQ(ParseSynthDifficulty("hard"), SynthDifficulty::kHard);
}

}  // namespace
}  // namespace toolmark
