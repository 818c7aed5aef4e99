// Every broken X3P in the generated corpus is refused with a one-line
// toolmark::Error — never a crash, never another exception type.
#include <gtest/gtest.h>

#include "test_util.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/scan.h"
#include "toolmark/ingest/x3p.h"
#include "x3p_builder.h"

namespace toolmark::ingest {
namespace {

TEST(X3pCorrupt, ValidBaseFileReads) {
  EXPECT_NO_THROW(ReadX3pBytes(testing::BuildX3p(testing::ValidSpec()), {}));
}

TEST(X3pCorrupt, EveryCorruptFileGetsOneLineError) {
  const auto corpus = testing::CorruptX3pCorpus();
  ASSERT_GT(corpus.size(), 40u);
  int refused = 0;
  for (const auto& [name, bytes] : corpus) {
    try {
      ReadX3pBytes(bytes, {});
      // A flipped byte inside compressed data or a timestamp may leave a
      // readable file; anything else must be refused.
      EXPECT_EQ(name.rfind("flipped_", 0), 0u) << name << " was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_FALSE(msg.empty()) << name;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << name;
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": wrong exception type: " << e.what();
    }
  }
  EXPECT_GT(refused, static_cast<int>(corpus.size()) * 3 / 4);
}

TEST(X3pCorrupt, SpecificReasonsAreNamed) {
  auto reason = [](const std::string& wanted_name) {
    for (const auto& [name, bytes] : testing::CorruptX3pCorpus()) {
      if (name != wanted_name) continue;
      try {
        ReadX3pBytes(bytes, {});
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("accepted");
    }
    return std::string("no such case");
  };
  EXPECT_NE(reason("size_huge").find("exceed the limit"), std::string::npos);
  EXPECT_NE(reason("data_short").find("bindata/data.bin"), std::string::npos);
  EXPECT_NE(reason("zip_bomb_data").find("header implies"), std::string::npos);
  EXPECT_NE(reason("main_xml_missing").find("main.xml is missing"), std::string::npos);
  EXPECT_NE(reason("xml_huge").find("over the limit"), std::string::npos);
  EXPECT_NE(reason("axes_absolute").find("absolute"), std::string::npos);
  EXPECT_NE(reason("point_md5_wrong").find("MD5"), std::string::npos);
  EXPECT_NE(reason("empty").find("zip"), std::string::npos);
  EXPECT_NE(reason("too_many_entries").find("entries"), std::string::npos);
}

TEST(X3pCorrupt, LimitsAreEnforcedBeforeAllocation) {
  testing::X3pSpec spec = testing::ValidSpec();
  ReadOptions tight;
  tight.limits.max_points = 11;  // the valid file has 12
  EXPECT_THROW(ReadX3pBytes(testing::BuildX3p(spec), tight), Error);
  tight.limits = {};
  tight.limits.max_file_bytes = 100;
  EXPECT_THROW(ReadX3pBytes(testing::BuildX3p(spec), tight), Error);
}

}  // namespace
}  // namespace toolmark::ingest
