// Toolmark's vector index: the shortlist stage of a search. FAISS does the
// work behind this small interface; no FAISS type appears here. Vectors are
// compared by inner product (cosine similarity for the unit-length embeddings
// the comparators produce). Exact (flat) search for small indexes; above a
// size threshold, binary sketches scanned first and their nearest re-ranked
// exactly (or HNSW, or IVF, when chosen). Above a size
// (VectorIndexOptions::whiten_at) vectors and queries are centred and
// whitened by a map fitted on the index's own vectors. Filters (class
// characteristics, jurisdiction scope) run inside the search. The index is
// derived data: it can be saved atomically, is checked on load, and can
// always be rebuilt from the stored embeddings. See docs/search.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace toolmark::index {

using VectorId = std::int64_t;

enum class VectorIndexKind {
  kAuto,  ///< flat up to VectorIndexOptions::approximate_above vectors, sketch above
  kFlat,  ///< exact: every vector compared
  kHnsw,  ///< approximate: hierarchical navigable small-world graph over the full vectors
  /// approximate and compact: PCA to ivf_dims, inverted lists (k-means
  /// cells) of the reduced vectors. Trained once, on the vectors held
  /// when it is built (flat until ivf_min_train vectors).
  kIvf,
  /// approximate, with exact similarities: the full vectors as for flat,
  /// plus a binary sketch of each (sketch_bits sign bits of fixed random
  /// rotations). A search for k scans every sketch by Hamming distance and
  /// re-ranks the nearest max(sketch_rerank, 8k) by exact inner product.
  /// Flat up to sketch_rerank vectors.
  kSketch,
};

/// "auto", "flat", "hnsw", "ivf", "sketch".
const char* VectorIndexKindName(VectorIndexKind kind);
/// Parses a VectorIndexKindName; throws toolmark::Error for anything else.
VectorIndexKind ParseVectorIndexKind(const std::string& name);

struct VectorIndexOptions {
  VectorIndexKind kind = VectorIndexKind::kAuto;
  std::size_t approximate_above = 500000;  ///< kAuto: exact up to this many vectors
  int hnsw_neighbours = 32;                ///< HNSW M: graph links per vector (level 0 has 2M)
  int hnsw_build_depth = 80;               ///< HNSW efConstruction
  int hnsw_search_depth = 256;             ///< HNSW efSearch (raised to k when k is larger)
  int ivf_dims = 128;                      ///< IVF: PCA output dimensions (at most the input's)
  std::size_t ivf_lists = 0;               ///< IVF: inverted lists (0: 4·√n of the training vectors)
  std::size_t ivf_probe = 96;              ///< IVF: lists visited per search (widened for filters)
  std::size_t ivf_min_train = 4096;        ///< IVF: flat below this many vectors
  int sketch_bits = 512;                   ///< sketch: bits a vector (a multiple of 64, 64..4096)
  std::size_t sketch_rerank = 4096;        ///< sketch: nearest sketches re-ranked exactly (at least 8k)
  /// Whitening: once the index holds this many vectors (or is made IVF
  /// before), a centring and partial whitening to whiten_dims dimensions is
  /// fitted on the first whiten_at of them and applied to every stored vector
  /// and every query (similarities are then those of the mapped vectors).
  /// 0: never. Fitted once, like the IVF lists; rebuilt with the index.
  std::size_t whiten_at = 2000;
  int whiten_dims = 256;  ///< whitening's output dimensions (at most the input's)
};

struct VectorHit {
  VectorId id = 0;
  float similarity = 0;  ///< inner product
};

/// Which ids a search may return; evaluated inside the index while it
/// searches, so a filtered search still returns up to k hits. Must be
/// thread-safe and cheap (it may be called for many vectors).
using VectorFilter = std::function<bool(VectorId)>;

class VectorIndex {
 public:
  /// An empty index of `dims`-dimensional vectors. Throws toolmark::Error
  /// for dims < 1 or invalid options.
  explicit VectorIndex(int dims, const VectorIndexOptions& options = {});
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  int dims() const;
  /// Vectors that a search can return (added and not removed).
  std::size_t size() const;
  /// The structure in use now: kFlat, kHnsw, kIvf or kSketch (never kAuto).
  VectorIndexKind kind() const;
  const VectorIndexOptions& options() const;

  /// Adds vectors (ids.size() × dims floats, row by row). An id already in
  /// the index is replaced. Non-finite values throw toolmark::Error and add
  /// nothing. Deterministic: the same adds in the same order give the same
  /// index, whatever the thread count.
  void Add(const std::vector<VectorId>& ids, const std::vector<float>& vectors);
  /// Removes an id; false when it was not there.
  bool Remove(VectorId id);
  bool Contains(VectorId id) const;

  /// The k most similar vectors, best first (ties: smaller id first), only
  /// among ids the filter accepts (all when null). With kIvf the similarity
  /// is that of the reduced vectors (an approximation); with kSketch it is
  /// exact, but a vector whose sketch is far may be missed. Thread-safe for
  /// concurrent searches (not concurrent with Add/Remove).
  std::vector<VectorHit> Search(const float* query, std::size_t k,
                                const VectorFilter* filter = nullptr) const;

  /// Bytes held in memory: vectors, graph and id maps.
  std::size_t MemoryBytes() const;

  /// Writes the index to `path` atomically and durably (temporary file,
  /// fsync, rename): after a crash the file is the old or the new index.
  void Save(const std::string& path) const;
  /// Reads an index written by Save. Throws toolmark::Error (one line) for a
  /// missing, truncated or corrupted file (size, format, SHA-256 checked
  /// before anything is parsed): the caller rebuilds from stored features.
  static VectorIndex Load(const std::string& path, const VectorIndexOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace toolmark::index
