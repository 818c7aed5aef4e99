// The vector index's file: VectorIndex::Save and VectorIndex::Load. See
// toolmark/index/vector_index.h.
//
// File format (Save/Load), host byte order (little-endian on every platform
// Toolmark builds on):
//   8 bytes  "TMVIDX2\n"
//   u32 dims, u32 kind (1 flat, 2 hnsw, 3 ivf, 4 sketch), u64 positions n, u64 blob bytes b,
//   u64 whitening bytes w (0: none)
//   i64 ids[n], u8 live[n], b bytes of faiss::write_index, w bytes of the whitening
//   32 bytes SHA-256 of everything before it
// Load checks the size, magic, counts and SHA-256 before FAISS parses a byte.
// A sketch index's file holds its flat vectors; the sketches are derived
// from them on load (vector_sketch.h), never read from the file.
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <openssl/sha.h>

#include <cstring>

#include "toolmark/base/file_io.h"
#include "toolmark/engine/check.h"
#include "vector_index_impl.h"

namespace toolmark::index {
namespace {

constexpr char kMagic[8] = {'T', 'M', 'V', 'I', 'D', 'X', '2', '\n'};
constexpr char kMagicBeforeWhitening[8] = {'T', 'M', 'V', 'I', 'D', 'X', '1', '\n'};
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 40;  ///< 1 TiB: far above any real index

template <typename T>
void Put(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T Get(const std::string& in, std::size_t* at) {
  T value;
  std::memcpy(&value, in.data() + *at, sizeof value);
  *at += sizeof value;
  return value;
}

std::string Sha256Raw(const char* data, std::size_t size) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data), size, digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

/// The kind as the file's header writes it.
std::uint32_t KindCode(VectorIndexKind kind) {
  switch (kind) {
    case VectorIndexKind::kHnsw:
      return 2;
    case VectorIndexKind::kIvf:
      return 3;
    case VectorIndexKind::kSketch:
      return 4;
    default:
      return 1;
  }
}

}  // namespace

void VectorIndex::Save(const std::string& path) const {
  const Impl& m = *impl_;
  faiss::VectorIOWriter writer;
  faiss::write_index(m.faiss.get(), &writer);
  const std::string whitening = m.whitening ? m.whitening->Serialize() : std::string();
  std::string out;
  out.reserve(kHeaderBytes + m.ids.size() * 9 + writer.data.size() + SHA256_DIGEST_LENGTH);
  out.append(kMagic, sizeof kMagic);
  Put(&out, static_cast<std::uint32_t>(m.dims));
  Put(&out, KindCode(m.kind));
  Put(&out, static_cast<std::uint64_t>(m.ids.size()));
  Put(&out, static_cast<std::uint64_t>(writer.data.size()));
  Put(&out, static_cast<std::uint64_t>(whitening.size()));
  for (VectorId id : m.ids) Put(&out, static_cast<std::int64_t>(id));
  out.append(m.live.data(), m.live.size());
  out.append(reinterpret_cast<const char*>(writer.data.data()), writer.data.size());
  out += whitening;
  out += Sha256Raw(out.data(), out.size());
  base::WriteFileAtomic(path, out);
}

VectorIndex VectorIndex::Load(const std::string& path, const VectorIndexOptions& options) {
  const std::string bytes = base::ReadFileBounded(path, kMaxFileBytes);
  const auto fail = [&](const std::string& why) { throw Error("vector index: " + path + ": " + why); };
  if (bytes.size() < kHeaderBytes + SHA256_DIGEST_LENGTH)
    fail("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagicBeforeWhitening, sizeof kMagic) == 0)
    fail("written by an earlier version (no whitening)");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) fail("not a Toolmark vector index");
  std::size_t at = sizeof kMagic;
  const auto dims = Get<std::uint32_t>(bytes, &at);
  const auto kind = Get<std::uint32_t>(bytes, &at);
  const auto n = Get<std::uint64_t>(bytes, &at);
  const auto blob = Get<std::uint64_t>(bytes, &at);
  const auto white = Get<std::uint64_t>(bytes, &at);
  if (dims < 1 || dims > 65536 || kind < 1 || kind > 4) fail("bad header");
  // IVF was the automatic choice above 500,000 vectors until the sketch
  // index replaced it (IVF loses partners the exact index keeps): such a
  // file is refused under kAuto, and the caller rebuilds it from the stored
  // features, as sketches.
  if (kind == 3 && options.kind == VectorIndexKind::kAuto)
    fail("an IVF index, no longer the automatic choice (rebuilt as a sketch index)");
  const std::uint64_t rest = bytes.size() - kHeaderBytes - SHA256_DIGEST_LENGTH;
  if (n > rest / 9 || blob > rest - 9 * n || white != rest - 9 * n - blob)
    fail("sizes do not add up (truncated or corrupted)");
  const std::size_t body = bytes.size() - SHA256_DIGEST_LENGTH;
  if (Sha256Raw(bytes.data(), body) != bytes.substr(body)) fail("checksum mismatch (corrupted)");

  VectorIndex index(static_cast<int>(dims), options);
  Impl& m = *index.impl_;
  m.ids.resize(n);
  for (auto& id : m.ids) id = Get<std::int64_t>(bytes, &at);
  m.live.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
  at += n;
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                     bytes.begin() + static_cast<std::ptrdiff_t>(at + blob));
  try {
    m.faiss.reset(faiss::read_index(&reader));
  } catch (const std::exception& e) {
    fail(std::string("FAISS could not read it: ") + e.what());
  }
  at += blob;
  if (white > 0) {
    try {
      m.whitening = detail::Whitening::Deserialize(bytes.substr(at, white), static_cast<int>(dims));
    } catch (const Error& e) {
      fail(e.what());
    }
  }
  const bool hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(m.faiss.get()) != nullptr;
  const bool flat = dynamic_cast<faiss::IndexFlatIP*>(m.faiss.get()) != nullptr;
  const faiss::IndexPreTransform* pre = m.Pre();
  const bool ivf = pre != nullptr && pre->chain.size() == 1 &&
                   dynamic_cast<const faiss::PCAMatrix*>(pre->chain.front()) != nullptr &&
                   dynamic_cast<const faiss::IndexIVFFlat*>(pre->index) != nullptr &&
                   pre->chain.front()->d_out == pre->index->d;
  // IVF: the lists may have dropped dead positions, so they hold at most n.
  const bool count_ok = kind == 3 ? m.faiss->ntotal <= static_cast<faiss::Index::idx_t>(n)
                                  : m.faiss->ntotal == static_cast<faiss::Index::idx_t>(n);
  const int stored = m.Stored();
  if (!(kind == 3 ? ivf : kind == 2 ? hnsw : flat) || m.faiss->d != stored || !count_ok)
    fail("the FAISS index does not match the header");
  if (hnsw) dynamic_cast<faiss::IndexHNSWFlat*>(m.faiss.get())->hnsw.efSearch = options.hnsw_search_depth;
  if (ivf) m.Ivf()->parallel_mode = detail::kIvfParallelMode;  // not in FAISS's file
  m.kind = kind == 4   ? VectorIndexKind::kSketch
           : kind == 3 ? VectorIndexKind::kIvf
           : kind == 2 ? VectorIndexKind::kHnsw
                       : VectorIndexKind::kFlat;
  if (m.kind == VectorIndexKind::kSketch) {
    m.sketch.emplace(stored, options.sketch_bits);
    m.sketch->Append(m.Vectors(), n);
  }
  for (std::size_t p = 0; p < n; ++p) {
    if (m.live[p] != 0 && m.live[p] != 1) fail("bad live flag");
    if (!m.live[p]) continue;
    if (!m.position.emplace(m.ids[p], p).second) fail("an id appears twice");
  }
  m.Maintain();
  return index;
}

}  // namespace toolmark::index
