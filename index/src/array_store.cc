#include "array_store.h"

#include <hdf5.h>
#include <tbb/parallel_for.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>

#include "toolmark/base/file_io.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {

constexpr int kLayoutVersion = 1;

/// The HDF5 library may be built without thread safety: serialise all calls.
std::mutex& Hdf5Mutex() {
  static std::mutex m;
  return m;
}

void QuietHdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

/// Closes an HDF5 handle with the matching function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what) : id_(id), close_(close) {
    if (id_ < 0) Fail("HDF5: cannot " + what);
  }
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

void Ok(herr_t status, const std::string& what) {
  if (status < 0) Fail("HDF5: cannot " + what);
}

void WriteDoubleAttr(hid_t obj, const char* name, double value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create attribute space");
  Handle attr(H5Acreate2(obj, name, H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              std::string("create attribute ") + name);
  Ok(H5Awrite(attr.get(), H5T_NATIVE_DOUBLE, &value), std::string("write attribute ") + name);
}

void WriteStringAttr(hid_t obj, const char* name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  Ok(H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1)), "size string type");
  Handle space(H5Screate(H5S_SCALAR), H5Sclose, "create attribute space");
  Handle attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
              std::string("create attribute ") + name);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  Ok(H5Awrite(attr.get(), type.get(), padded.data()), std::string("write attribute ") + name);
}

double ReadDoubleAttr(hid_t obj, const char* name) {
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, std::string("open attribute ") + name);
  double v = 0;
  Ok(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), std::string("read attribute ") + name);
  return v;
}

std::string ReadStringAttr(hid_t obj, const char* name) {
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose, std::string("open attribute ") + name);
  Handle type(H5Aget_type(attr.get()), H5Tclose, "get attribute type");
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
    Fail(std::string("attribute ") + name + " is not a fixed-length string");
  }
  const std::size_t size = H5Tget_size(type.get());
  if (size == 0 || size > 4096) Fail(std::string("attribute ") + name + " has a bad size");
  std::string out(size, '\0');
  Ok(H5Aread(attr.get(), type.get(), out.data()), std::string("read attribute ") + name);
  out.resize(std::strlen(out.c_str()));
  return out;
}

constexpr int kChunkSide = 256;

hid_t CreateValuesProperties(int rows, int cols) {
  hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t chunk[2] = {static_cast<hsize_t>(std::min(rows, kChunkSide)),
                            static_cast<hsize_t>(std::min(cols, kChunkSide))};
  H5Pset_chunk(plist, 2, chunk);
  H5Pset_shuffle(plist);
  H5Pset_deflate(plist, 1);
  return plist;
}

/// One chunk, filtered exactly as the dataset's pipeline (shuffle, then
/// deflate) would, so it can be written directly.
struct FilteredChunk {
  hsize_t offset[2];
  std::vector<unsigned char> bytes;
};

/// Shuffles and deflates every chunk of the values, in parallel (TBB) and
/// outside the HDF5 lock: the HDF5 library itself is not thread-safe.
/// Edge chunks are padded to full size, as direct chunk writes require.
std::vector<FilteredChunk> FilterChunks(const cv::Mat& values) {
  const int chunk_rows = std::min(values.rows, kChunkSide), chunk_cols = std::min(values.cols, kChunkSide);
  const int grid_rows = (values.rows + chunk_rows - 1) / chunk_rows;
  const int grid_cols = (values.cols + chunk_cols - 1) / chunk_cols;
  std::vector<FilteredChunk> chunks(static_cast<std::size_t>(grid_rows) * grid_cols);
  tbb::parallel_for(std::size_t{0}, chunks.size(), [&](std::size_t k) {
    const int r0 = static_cast<int>(k / grid_cols) * chunk_rows,
              c0 = static_cast<int>(k % grid_cols) * chunk_cols;
    const std::size_t n = static_cast<std::size_t>(chunk_rows) * chunk_cols;
    std::vector<unsigned char> shuffled(n * sizeof(double), 0);
    for (int r = 0; r < chunk_rows && r0 + r < values.rows; ++r) {
      const auto* row = reinterpret_cast<const unsigned char*>(values.ptr<double>(r0 + r) + c0);
      const int cols = std::min(chunk_cols, values.cols - c0);
      for (int c = 0; c < cols; ++c) {
        const std::size_t e = static_cast<std::size_t>(r) * chunk_cols + c;
        for (std::size_t b = 0; b < sizeof(double); ++b) shuffled[b * n + e] = row[c * sizeof(double) + b];
      }
    }
    uLongf size = compressBound(static_cast<uLong>(shuffled.size()));
    chunks[k].bytes.resize(size);
    TM_ASSERT(compress2(chunks[k].bytes.data(), &size, shuffled.data(), static_cast<uLong>(shuffled.size()),
                        1) == Z_OK);
    chunks[k].bytes.resize(size);
    chunks[k].offset[0] = static_cast<hsize_t>(r0);
    chunks[k].offset[1] = static_cast<hsize_t>(c0);
  });
  return chunks;
}

void WriteH5(const std::string& path, const Surface& s, const std::vector<FilteredChunk>& chunks,
             const std::string& values_sha256) {
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create " + path);
  Handle group(H5Gcreate2(file.get(), "/surface", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
               "create group /surface");
  const hsize_t dims[2] = {static_cast<hsize_t>(s.SizeY()), static_cast<hsize_t>(s.SizeX())};
  Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose, "create data space");
  Handle plist(CreateValuesProperties(s.SizeY(), s.SizeX()), H5Pclose, "create properties");
  Handle data(
      H5Dcreate2(group.get(), "values", H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
      H5Dclose, "create dataset values");
  static_assert(std::endian::native == std::endian::little, "chunks are stored little-endian");
  for (const FilteredChunk& c : chunks) {
    Ok(H5Dwrite_chunk(data.get(), H5P_DEFAULT, 0, c.offset, c.bytes.size(), c.bytes.data()), "write a chunk");
  }
  WriteDoubleAttr(group.get(), "spacing_x_um", s.spacing_x_um);
  WriteDoubleAttr(group.get(), "spacing_y_um", s.spacing_y_um);
  WriteDoubleAttr(group.get(), "origin_x_um", s.origin_x_um);
  WriteDoubleAttr(group.get(), "origin_y_um", s.origin_y_um);
  WriteDoubleAttr(group.get(), "layout_version", kLayoutVersion);
  WriteStringAttr(group.get(), "kind", SurfaceKindName(s.kind));
  WriteStringAttr(group.get(), "values_sha256", values_sha256);
  Ok(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush " + path);
}

Surface ReadH5(const std::string& path) {
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open " + path);
  Handle group(H5Gopen2(file.get(), "/surface", H5P_DEFAULT), H5Gclose, "open group /surface");
  Handle data(H5Dopen2(group.get(), "values", H5P_DEFAULT), H5Dclose, "open dataset values");
  Handle space(H5Dget_space(data.get()), H5Sclose, "get data space");
  hsize_t dims[2] = {0, 0};
  if (H5Sget_simple_extent_ndims(space.get()) != 2) Fail("dataset values is not 2-D");
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (dims[0] == 0 || dims[1] == 0 || dims[0] > 100000 || dims[1] > 100000)
    Fail("dataset values has a bad size");
  Surface s;
  s.values.create(static_cast<int>(dims[0]), static_cast<int>(dims[1]), CV_64FC1);
  Ok(H5Dread(data.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.values.ptr<double>(0)),
     "read values");
  s.spacing_x_um = ReadDoubleAttr(group.get(), "spacing_x_um");
  s.spacing_y_um = ReadDoubleAttr(group.get(), "spacing_y_um");
  s.origin_x_um = ReadDoubleAttr(group.get(), "origin_x_um");
  s.origin_y_um = ReadDoubleAttr(group.get(), "origin_y_um");
  const std::string kind = ReadStringAttr(group.get(), "kind");
  s.kind = kind == "intensity" ? SurfaceKind::kIntensity : SurfaceKind::kHeight;
  if (ReadStringAttr(group.get(), "values_sha256") != ValuesSha256(s)) {
    Fail("stored values do not match their checksum");
  }
  return s;
}

}  // namespace

std::string ValuesSha256(const Surface& surface) {
  cv::Mat contiguous = surface.values.isContinuous() ? surface.values : surface.values.clone();
  const auto* p = reinterpret_cast<const char*>(contiguous.data);
  return base::Sha256Hex(std::string_view(p, contiguous.total() * contiguous.elemSize()));
}

void WriteSurfaceFile(const std::string& path, const Surface& surface, const std::string& values_sha256) {
  Check(H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0 && H5Zfilter_avail(H5Z_FILTER_SHUFFLE) > 0,
        "HDF5 lacks the deflate or shuffle filter");
  const std::vector<FilteredChunk> chunks = FilterChunks(surface.values);
  std::random_device rd;
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
  try {
    std::lock_guard<std::mutex> lock(Hdf5Mutex());
    QuietHdf5();
    WriteH5(tmp, surface, chunks, values_sha256);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  base::SyncFile(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    Fail("cannot rename " + tmp + " to " + path);
  }
  base::SyncDirectory(std::filesystem::path(path).parent_path().string());
}

Surface ReadSurfaceFile(const std::string& path) {
  try {
    std::lock_guard<std::mutex> lock(Hdf5Mutex());
    QuietHdf5();
    return ReadH5(path);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace toolmark::index
