#include "toolmark/ingest/scan.h"

#include <algorithm>
#include <filesystem>

#include "toolmark/engine/check.h"
#include "toolmark/ingest/file_io.h"
#include "toolmark/ingest/hash.h"
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

Scan ReadAny(const std::string& path, const ReadOptions& options) {
  const std::string ext = LowerExtension(path);
  if (ext == ".ply" || ext == ".pcd") {
    Scan scan = ReadPointCloudFile(path, options);
    scan.sha256 = Sha256Hex(ReadFileBounded(path, options.limits.max_file_bytes));
    return scan;
  }
  const std::string bytes = ReadFileBounded(path, options.limits.max_file_bytes);
  Scan scan;
  if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) {
    scan = ReadX3pBytes(bytes, options);
  } else if (!SniffImageFormat(bytes).empty()) {
    scan = ReadImageBytes(bytes, path, options);
  } else if (ext == ".x3p") {
    Fail("not an X3P file: it is not a zip container");
  } else {
    Fail("unrecognised file format (expected X3P, PNG, TIFF, JPEG, PLY or PCD)");
  }
  scan.sha256 = Sha256Hex(bytes);
  return scan;
}

}  // namespace

bool IsScanFileName(const std::string& path) {
  static const char* kExtensions[] = {".x3p", ".png", ".tif", ".tiff", ".jpg", ".jpeg", ".ply", ".pcd"};
  const std::string ext = LowerExtension(path);
  return std::any_of(std::begin(kExtensions), std::end(kExtensions),
                     [&](const char* e) { return ext == e; });
}

Scan ReadScan(const std::string& path, const ReadOptions& options) {
  try {
    return ReadAny(path, options);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw Error(path + ": out of memory while reading");
  }
}

}  // namespace toolmark::ingest
