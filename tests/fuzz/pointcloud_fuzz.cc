// Fuzz target: PLY / PCD point clouds through ReadPointCloudFile. PCL reads
// from a path, so each input is written to a per-process temporary file whose
// extension (.ply or .pcd) follows the parity of the first byte. Any exception
// other than toolmark::Error escapes and counts as a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_seeds.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/pointcloud.h"

namespace {

/// The temporary files of this process, removed at exit.
struct TempFiles {
  std::string ply = "/tmp/toolmark-fuzz-" + std::to_string(::getpid()) + ".ply";
  std::string pcd = "/tmp/toolmark-fuzz-" + std::to_string(::getpid()) + ".pcd";
  ~TempFiles() {
    std::remove(ply.c_str());
    std::remove(pcd.c_str());
  }
};

const TempFiles& Files() {
  static const TempFiles files;
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bool pcd = size > 0 && (data[0] & 1) != 0;  // '#' (PCD seeds) is odd, 'p' even
  const std::string& path = pcd ? Files().pcd : Files().ply;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  toolmark::ingest::ReadOptions options;
  options.limits.max_file_bytes = std::size_t{1} << 20;
  options.limits.max_cloud_points = std::size_t{1} << 16;
  options.limits.max_side = 4096;
  options.limits.max_points = std::size_t{1} << 22;
  try {
    toolmark::ingest::ReadPointCloudFile(path, options);
  } catch (const toolmark::Error&) {
  }
  return 0;
}

namespace {

constexpr int kCols = 6, kRows = 5;
constexpr int kPoints = kCols * kRows;

/// Point i of a 6 x 5 grid at 0.05 mm with a small height pattern (mm).
void SeedPoint(int i, float xyz[3]) {
  xyz[0] = 0.05f * static_cast<float>(i % kCols);
  xyz[1] = 0.05f * static_cast<float>(i / kCols);
  xyz[2] = 0.001f * static_cast<float>((i * 7) % 5);
}

std::string AsciiRows() {
  std::string rows;
  for (int i = 0; i < kPoints; ++i) {
    float p[3];
    SeedPoint(i, p);
    char line[96];
    std::snprintf(line, sizeof line, "%g %g %g\n", double(p[0]), double(p[1]), double(p[2]));
    rows += line;
  }
  return rows;
}

/// x, y, z floats of every point; `planar` stores all x, then all y, then all z.
std::string BinaryRows(bool planar) {
  std::string out(kPoints * 12, '\0');
  for (int i = 0; i < kPoints; ++i) {
    float p[3];
    SeedPoint(i, p);
    for (int a = 0; a < 3; ++a) {
      const int at = planar ? (a * kPoints + i) * 4 : (i * 3 + a) * 4;
      std::memcpy(&out[static_cast<std::size_t>(at)], &p[a], 4);
    }
  }
  return out;
}

/// LZF stream made of literal runs only (valid, uncompressed).
std::string LzfLiterals(const std::string& raw) {
  std::string out;
  for (std::size_t at = 0; at < raw.size(); at += 32) {
    const std::string run = raw.substr(at, 32);
    out += static_cast<char>(run.size() - 1);
    out += run;
  }
  return out;
}

std::string Uint32(std::uint32_t v) { return std::string(reinterpret_cast<char*>(&v), 4); }

std::string PlyHeader(const char* format) {
  return std::string("ply\nformat ") + format + " 1.0\nelement vertex " + std::to_string(kPoints) +
         "\nproperty float x\nproperty float y\nproperty float z\n" + "end_header\n";
}

std::string PcdHeader(const char* data) {
  return "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\n"
         "WIDTH " +
         std::to_string(kPoints) + "\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS " + std::to_string(kPoints) +
         "\nDATA " + data + "\n";
}

}  // namespace

std::vector<std::string> ToolmarkFuzzSeeds() {
  const std::string planar = BinaryRows(true);
  const std::string compressed = LzfLiterals(planar);
  return {PlyHeader("ascii") + AsciiRows(), PlyHeader("binary_little_endian") + BinaryRows(false),
          PcdHeader("ascii") + AsciiRows(), PcdHeader("binary") + BinaryRows(false),
          PcdHeader("binary_compressed") + Uint32(static_cast<std::uint32_t>(compressed.size())) +
              Uint32(static_cast<std::uint32_t>(planar.size())) + compressed};
}
