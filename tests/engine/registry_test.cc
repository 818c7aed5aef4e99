// The registry of kinds, marks and comparators: every name parses back to
// its value, unknown names are refused with the known ones listed, and every
// registered comparator is what its description says.
#include "toolmark/engine/registry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "toolmark/engine/check.h"

namespace toolmark {
namespace {

TEST(Registry, KindsRoundTripAndUnknownKindsAreRefused) {
  for (Kind k : {Kind::kCartridgeCase, Kind::kBullet}) {
    ASSERT_TRUE(ParseKind(KindName(k)).has_value());
    EXPECT_EQ(*ParseKind(KindName(k)), k);
    EXPECT_EQ(KindOf(KindName(k)), k);
  }
  EXPECT_FALSE(ParseKind("shotgun_shell").has_value());
  EXPECT_FALSE(ParseKind("Bullet").has_value());  // names are exact: no case folding
  EXPECT_FALSE(ParseKind("").has_value());
  try {
    KindOf("shotgun_shell");
    FAIL() << "an unknown kind was accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("shotgun_shell"), std::string::npos) << m;
    EXPECT_NE(m.find("cartridge_case"), std::string::npos) << m;
  }
  // A hostile value is cut short and kept on one line in the message.
  try {
    KindOf(std::string(500, 'x') + "\nsecond line");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    EXPECT_LT(std::string(e.what()).size(), 200u);
  }
}

TEST(Registry, MarkNamesHaveTheirTypeAndKind) {
  EXPECT_EQ(MarkTypeOf("breech_face"), MarkType::kBreechFace);
  EXPECT_EQ(MarkTypeOf("firing_pin"), MarkType::kFiringPin);
  EXPECT_EQ(MarkTypeOf("land"), MarkType::kLand);
  EXPECT_EQ(MarkTypeOf("land3"), MarkType::kLand);
  EXPECT_FALSE(MarkTypeOf("land3a").has_value());
  EXPECT_FALSE(MarkTypeOf("landing").has_value());
  EXPECT_FALSE(MarkTypeOf("Breech Face").has_value());
  EXPECT_EQ(KindOfMark(MarkType::kLand), Kind::kBullet);
  EXPECT_EQ(KindOfMark(MarkType::kBreechFace), Kind::kCartridgeCase);
  EXPECT_EQ(KindOfMark(MarkType::kFiringPin), Kind::kCartridgeCase);
  for (const MarkTypeInfo& t : MarkTypes()) EXPECT_EQ(MarkTypeOf(MarkTypeName(t.type)), t.type);
  EXPECT_EQ(MarkTypeOf("aperture_shear"), MarkType::kApertureShear);
  EXPECT_EQ(KindOfMark(MarkType::kEjector), Kind::kCartridgeCase);
}

TEST(Registry, MarksAreParsedOnceAndReadBackAsThemselves) {
  EXPECT_EQ(ParseMark("land3"), (Mark{MarkType::kLand, 3}));
  EXPECT_EQ(ParseMark("land"), (Mark{MarkType::kLand, 0}));
  EXPECT_EQ(ParseMark("firing_pin"), (Mark{MarkType::kFiringPin, 0}));
  EXPECT_EQ(ParseMark("land64"), (Mark{MarkType::kLand, 64}));
  // Numbers only on lands, 1…99, written without leading zeros.
  for (const char* bad : {"land0", "land03", "land100", "land-1", "land3a", "landing", "breech_face2",
                          "Breech Face", "", "land ", "firing_pin\n"})
    EXPECT_FALSE(ParseMark(bad).has_value()) << bad;
  for (const MarkTypeInfo& t : MarkTypes()) {
    const Mark m{t.type, t.numbered ? 7 : 0};
    EXPECT_TRUE(IsValidMark(m));
    EXPECT_EQ(ParseMark(MarkName(m)), m) << MarkName(m);
  }
  EXPECT_FALSE(IsValidMark({MarkType::kBreechFace, 3}));
  EXPECT_FALSE(IsValidMark({MarkType::kLand, 100}));
  EXPECT_FALSE(IsValidMark({MarkType::kLand, -1}));
  EXPECT_EQ(MarkNames(MarksOf({"breech_face", "land2"})), (std::vector<std::string>{"breech_face", "land2"}));
  try {
    MarkOf("Breech Face");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'Breech Face' is not one of breech_face, firing_pin"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(KindNames(), (std::vector<std::string>{"cartridge_case", "bullet"}));
}

TEST(Registry, EveryComparatorIsWhatItsDescriptionSays) {
  std::set<std::string> names;
  for (const ComparatorInfo& c : Comparators()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(names.insert(c.name).second) << "registered twice";
    EXPECT_FALSE(c.kinds.empty());
    EXPECT_FALSE(c.marks.empty());
    EXPECT_FALSE(c.score.empty());
    for (MarkType m : c.marks) EXPECT_TRUE(c.Compares(KindOfMark(m))) << MarkTypeName(m);
    ASSERT_TRUE(c.make);
    const auto made = c.make();
    ASSERT_NE(made, nullptr);
    EXPECT_EQ(made->Name(), c.name);
    EXPECT_EQ(&ComparatorNamed(c.name), &c);
    EXPECT_EQ(FindComparator(c.name), &c);
    EXPECT_GT(c.calibration_max_pairs, 0u);
    if (c.decision_threshold) {
      EXPECT_EQ(c.scale, ScoreScale::kCount);
    }
  }
}

TEST(Registry, EveryKindHasOneDefaultComparator) {
  for (Kind k : {Kind::kCartridgeCase, Kind::kBullet}) {
    int defaults = 0;
    for (const ComparatorInfo& c : Comparators()) defaults += c.default_for_kind && c.Compares(k);
    EXPECT_EQ(defaults, 1) << KindName(k);
    const ComparatorInfo& d = DefaultComparator(k);
    EXPECT_TRUE(d.Compares(k));
    EXPECT_TRUE(d.embedding) << "a kind's searches need its default comparator's embedding";
  }
  EXPECT_EQ(DefaultComparator(Kind::kCartridgeCase).name, "cmc");
  EXPECT_EQ(DefaultComparator(Kind::kBullet).name, "land");
}

TEST(Registry, UnknownComparatorsAreRefusedNamingTheKnownOnes) {
  EXPECT_EQ(FindComparator("no_such"), nullptr);
  try {
    ComparatorNamed("no_such");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const ComparatorInfo& c : Comparators()) EXPECT_NE(m.find(c.name), std::string::npos) << m;
  }
  EXPECT_THROW(MakeComparator("no_such"), Error);
  for (const ComparatorInfo& c : Comparators()) EXPECT_EQ(MakeComparator(c.name)->Name(), c.name);
}

}  // namespace
}  // namespace toolmark
