#include "toolmark/ingest/scan.h"

#include <algorithm>
#include <filesystem>

#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"
#include "toolmark/ingest/image2d.h"
#include "toolmark/ingest/pointcloud.h"
#include "toolmark/ingest/x3p.h"

namespace toolmark::ingest {
namespace {

std::string LowerExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

Scan ReadAny(const std::string& path, const std::string& bytes, const ReadOptions& options) {
  const std::string ext = LowerExtension(path);
  if (ext == ".ply" || ext == ".pcd") return ReadPointCloudFile(path, options);
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) return ReadX3pBytes(bytes, options);
  if (!SniffImageFormat(bytes).empty()) return ReadImageBytes(bytes, path, options);
  if (ext == ".x3p") Fail("not an X3P file: it is not a zip container");
  Fail("unrecognised file format (expected X3P, PNG, TIFF, JPEG, PLY or PCD)");
}

}  // namespace

bool IsScanFileName(const std::string& path) {
  static const char* kExtensions[] = {".x3p", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".ply", ".pcd"};
  const std::string ext = LowerExtension(path);
  return std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return ext == e; });
}

Scan ReadScanBytes(const std::string& path, const std::string& bytes, const std::string& sha256,
                   const ReadOptions& options) {
  try {
    Scan scan = ReadAny(path, bytes, options);
    scan.sha256 = sha256;
    return scan;
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(path + ": out of memory while reading");
  }
}

Scan ReadScan(const std::string& path, const ReadOptions& options) {
  std::string bytes;
  try {
    bytes = base::ReadFileBounded(path, options.limits.max_file_bytes);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return ReadScanBytes(path, bytes, base::Sha256Hex(bytes), options);
}

}  // namespace toolmark::ingest
