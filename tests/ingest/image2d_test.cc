// Tests of ingest/src/image2d.cc: PNG, TIFF and JPEG images as intensity
// surfaces, pixel spacing from options or sidecars, and hostile input.
#include "toolmark/ingest/image2d.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_util.h"
#include "toolmark/engine/check.h"

namespace toolmark::ingest {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

/// A 23 x 17 test pattern with levels spread over [0, max_level].
cv::Mat Pattern(int type, double max_level) {
  cv::Mat levels(17, 23, CV_64FC1);
  for (int y = 0; y < levels.rows; ++y) {
    for (int x = 0; x < levels.cols; ++x) {
      levels.at<double>(y, x) = std::round(max_level * ((x * 5 + y * 11) % 37) / 36.0);
    }
  }
  cv::Mat out;
  levels.convertTo(out, type);
  return out;
}

/// Writes `image` with cv::imwrite and reads it back through ReadImageBytes.
Scan WriteAndRead(const TempDir& dir, const std::string& name, const cv::Mat& image,
                  const ReadOptions& options) {
  const std::string path = dir / name;
  EXPECT_TRUE(cv::imwrite(path, image));
  return ReadImageBytes(ReadFile(path), path, options);
}

ReadOptions WithSpacing(double spacing_um) {
  ReadOptions options;
  options.spacing_um = spacing_um;
  return options;
}

void ExpectSameLevels(const Surface& s, const cv::Mat& expected, double tolerance) {
  ASSERT_EQ(s.values.type(), CV_64FC1);
  ASSERT_EQ(s.SizeX(), expected.cols);
  ASSERT_EQ(s.SizeY(), expected.rows);
  cv::Mat expected64;
  expected.convertTo(expected64, CV_64F);
  EXPECT_LE(cv::norm(s.values, expected64, cv::NORM_INF), tolerance);
}

std::string ErrorText(std::string_view bytes, const std::string& path, const ReadOptions& options) {
  try {
    ReadImageBytes(bytes, path, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Image2d, SniffsFormats) {
  EXPECT_EQ(SniffImageFormat(std::string("\x89PNG\r\n\x1a\n....", 12)), "png");
  EXPECT_EQ(SniffImageFormat(std::string("II*\0", 4)), "tiff");
  EXPECT_EQ(SniffImageFormat(std::string("MM\0*", 4)), "tiff");
  EXPECT_EQ(SniffImageFormat("\xFF\xD8\xFF\xE0"), "jpeg");
  EXPECT_EQ(SniffImageFormat(""), "");
  EXPECT_EQ(SniffImageFormat("\x89PNG"), "");
  EXPECT_EQ(SniffImageFormat("PK\x03\x04"), "");
}

TEST(Image2d, ReadsPngTiffAndJpegAt8And16Bit) {
  TempDir dir;
  struct Case {
    const char* name;
    int type;
    double max_level;
    double tolerance;
    const char* format;
  };
  const Case cases[] = {{"g8.png", CV_8UC1, 255, 0, "png"},
                        {"g16.png", CV_16UC1, 65535, 0, "png"},
                        {"g8.tif", CV_8UC1, 255, 0, "tiff"},
                        {"g16.tif", CV_16UC1, 65535, 0, "tiff"},
                        {"g8.jpg", CV_8UC1, 255, 40, "jpeg"}};  // lossy
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const cv::Mat image = Pattern(c.type, c.max_level);
    const Scan scan = WriteAndRead(dir, c.name, image, WithSpacing(3.5));
    EXPECT_EQ(scan.format, c.format);
    EXPECT_EQ(scan.surface.kind, SurfaceKind::kIntensity);
    EXPECT_EQ(scan.surface.spacing_x_um, 3.5);
    EXPECT_EQ(scan.surface.spacing_y_um, 3.5);
    EXPECT_FALSE(scan.checksum_ok.has_value());
    EXPECT_TRUE(scan.notes.empty());
    ExpectSameLevels(scan.surface, image, c.tolerance);
  }
}

TEST(Image2d, ConvertsColourToGreyWithANote) {
  TempDir dir;
  std::vector<cv::Mat> planes = {Pattern(CV_16UC1, 65535), Pattern(CV_16UC1, 30000), Pattern(CV_16UC1, 1000)};
  cv::Mat colour, grey;
  cv::merge(planes, colour);
  cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
  const Scan scan = WriteAndRead(dir, "c16.png", colour, WithSpacing(2));
  ExpectSameLevels(scan.surface, grey, 0);
  ASSERT_EQ(scan.notes.size(), 1u);
  EXPECT_NE(scan.notes[0].find("grey"), std::string::npos);
  cv::Mat colour8;
  colour.convertTo(colour8, CV_8U, 1.0 / 257);
  EXPECT_EQ(WriteAndRead(dir, "c8.tif", colour8, WithSpacing(2)).notes.size(), 1u);
}

TEST(Image2d, SpacingFromEitherSidecarForm) {
  TempDir dir;
  const cv::Mat image = Pattern(CV_8UC1, 255);
  WriteFile(dir / "a.png.json", R"({"spacing_um": 1.5625, "comment": "ring light"})");
  Scan scan = WriteAndRead(dir, "a.png", image, {});
  EXPECT_EQ(scan.surface.spacing_x_um, 1.5625);
  EXPECT_EQ(scan.surface.spacing_y_um, 1.5625);
  ASSERT_EQ(scan.notes.size(), 1u);
  EXPECT_NE(scan.notes[0].find("a.png.json"), std::string::npos);

  WriteFile(dir / "b.json", R"({"spacing_x_um": 2.0, "spacing_y_um": 3})");
  scan = WriteAndRead(dir, "b.tif", image, {});
  EXPECT_EQ(scan.surface.spacing_x_um, 2.0);
  EXPECT_EQ(scan.surface.spacing_y_um, 3.0);

  scan = WriteAndRead(dir, "b.tif", image, WithSpacing(7));  // the option wins
  EXPECT_EQ(scan.surface.spacing_x_um, 7.0);
  EXPECT_EQ(scan.surface.spacing_y_um, 7.0);
}

TEST(Image2d, MissingSpacingSaysHowToGiveIt) {
  TempDir dir;
  const std::string path = dir / "n.png";
  ASSERT_TRUE(cv::imwrite(path, Pattern(CV_8UC1, 255)));
  const std::string message = ErrorText(ReadFile(path), path, {});
  EXPECT_NE(message.find("no pixel spacing"), std::string::npos);
  EXPECT_NE(message.find("--spacing-um"), std::string::npos);
  EXPECT_NE(message.find("sidecar"), std::string::npos);
  EXPECT_NE(ErrorText(ReadFile(path), "", {}).find("--spacing-um"), std::string::npos);
}

TEST(Image2d, BadSidecarsNameTheSidecar) {
  TempDir dir;
  const std::string path = dir / "s.png";
  ASSERT_TRUE(cv::imwrite(path, Pattern(CV_8UC1, 255)));
  const std::string bytes = ReadFile(path);
  const std::string sidecars[] = {R"({"spacing_um": )",
                                  "not json",
                                  "[1, 2]",
                                  R"({"spacing_um": "5"})",
                                  R"({"spacing_x_um": 5})",
                                  R"({"spacing": 5})",
                                  R"({"spacing_um": 5, "spacing_x_um": 5, "spacing_y_um": 5})"};
  for (const std::string& sidecar : sidecars) {
    WriteFile(dir / "s.json", sidecar);
    const std::string message = ErrorText(bytes, path, {});
    EXPECT_NE(message.find("sidecar " + (dir / "s.json")), std::string::npos) << sidecar << " -> " << message;
  }
}

TEST(Image2d, RefusesImplausibleSpacing) {
  TempDir dir;
  const std::string path = dir / "p.png";
  ASSERT_TRUE(cv::imwrite(path, Pattern(CV_8UC1, 255)));
  const std::string bytes = ReadFile(path);
  for (double bad : {0.0, -2.0, 0.001, 250.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_NE(ErrorText(bytes, path, WithSpacing(bad)).find("not plausible"), std::string::npos) << bad;
  }
  WriteFile(dir / "p.json", R"({"spacing_x_um": 2, "spacing_y_um": 1e9})");
  EXPECT_NE(ErrorText(bytes, path, {}).find("not plausible"), std::string::npos);
}

/// CRC-32 as PNG uses it, so a patched IHDR still passes libpng's check.
std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (char ch : bytes) {
    crc ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void PutBigEndian32(std::string* s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

/// A valid PNG whose IHDR claims width x height (with a correct CRC).
std::string PngClaiming(std::string png, std::uint32_t width, std::uint32_t height) {
  PutBigEndian32(&png, 16, width);
  PutBigEndian32(&png, 20, height);
  PutBigEndian32(&png, 29, Crc32(std::string_view(png).substr(12, 17)));
  return png;
}

std::string Encode(const char* ext, const cv::Mat& image) {
  std::vector<std::uint8_t> buffer;
  EXPECT_TRUE(cv::imencode(ext, image, buffer));
  return std::string(buffer.begin(), buffer.end());
}

TEST(Image2d, HeadersClaimingHugeImagesAreRefusedBeforeDecoding) {
  const std::string png = Encode(".png", Pattern(CV_8UC1, 255));
  const ReadOptions options = WithSpacing(5);
  EXPECT_NE(ErrorText(PngClaiming(png, 1000000, 1000000), "", options).find("limit"), std::string::npos);
  EXPECT_NE(ErrorText(PngClaiming(png, 60000, 60000), "", options).find("points"), std::string::npos);
  EXPECT_NE(ErrorText(PngClaiming(png, 0, 5), "", options).find("empty"), std::string::npos);
  ReadOptions small = options;
  small.limits.max_side = 20;
  EXPECT_NE(ErrorText(Encode(".tif", Pattern(CV_8UC1, 255)), "", small).find("TIFF header"),
            std::string::npos);
  EXPECT_NE(ErrorText(Encode(".jpg", Pattern(CV_8UC1, 255)), "", small).find("JPEG header"),
            std::string::npos);
}

TEST(Image2d, CorruptedInputsGiveOnlyToolmarkErrors) {
  struct Case {
    std::string name, bytes;
    bool must_fail;
  };
  std::vector<Case> corpus = {{"empty", "", true},
                              {"one byte", "\x89", true},
                              {"png magic only", "\x89PNG\r\n\x1a\n", true},
                              {"tiff magic only", std::string("II*\0", 4), true},
                              {"jpeg magic only", "\xFF\xD8\xFF", true}};
  std::mt19937 rng(99);
  const std::string seeds[] = {
      Encode(".png", Pattern(CV_8UC1, 255)), Encode(".png", Pattern(CV_16UC1, 65535)),
      Encode(".tif", Pattern(CV_8UC1, 255)), Encode(".tif", Pattern(CV_16UC1, 65535)),
      Encode(".jpg", Pattern(CV_8UC1, 255))};
  for (const std::string& seed : seeds) {
    const std::string kind = SniffImageFormat(seed);
    const bool png = kind == "png";
    for (std::size_t len : {std::size_t{8}, std::size_t{20}, std::size_t{33}, seed.size() / 3,
                            seed.size() / 2, seed.size() - 13, seed.size() - 1}) {
      corpus.push_back({kind + " truncated to " + std::to_string(len), seed.substr(0, len), true});
    }
    for (int i = 0; i < 60; ++i) {  // PNG's CRCs catch every flip; others may decode
      std::string bytes = seed;
      const std::size_t at = 8 + rng() % (bytes.size() - 8);
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
      corpus.push_back({kind + " flipped at " + std::to_string(at), bytes, png});
    }
    std::string noise = seed.substr(0, 4);
    for (int i = 0; i < 300; ++i) noise += static_cast<char>(rng());
    corpus.push_back({kind + " magic then noise", noise, true});
  }
  std::string random(512, '\0');
  for (char& ch : random) ch = static_cast<char>(rng());
  corpus.push_back({"random bytes", random, true});

  for (const Case& c : corpus) {
    try {
      ReadImageBytes(c.bytes, "", WithSpacing(5));
      EXPECT_FALSE(c.must_fail) << c.name << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << c.name;
    } catch (...) {
      ADD_FAILURE() << c.name << ": an exception other than toolmark::Error";
    }
  }
}

TEST(Image2d, RealRingLightImagesWithSpacing) {
  TOOLMARK_REQUIRE_DATASETS();
  const std::filesystem::path folder = std::filesystem::path(testing::DatasetsDir()) / "images2d";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".png") continue;
    SCOPED_TRACE(entry.path().string());
    const std::string path = entry.path().string();
    const std::string bytes = ReadFile(path);
    EXPECT_NE(ErrorText(bytes, path, {}).find("--spacing-um"), std::string::npos);
    const Scan scan = ReadImageBytes(bytes, path, WithSpacing(3.0));
    EXPECT_EQ(scan.format, "png");
    EXPECT_EQ(scan.surface.SizeX(), 2592);
    EXPECT_EQ(scan.surface.SizeY(), 1944);
    EXPECT_EQ(scan.surface.ValidFraction(), 1.0);
    double lo = 0, hi = 0;
    scan.surface.Range(&lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 255.0);
    EXPECT_GT(hi, lo);
    EXPECT_EQ(scan.sha256.size(), 64u);
    ++seen;
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace toolmark::ingest
