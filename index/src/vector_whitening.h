// The vector index's whitening (see docs/search.md, "The vector index"): a
// linear map fitted on the vectors an index holds, applied to every vector
// it stores and to every query before the inner product. Internal to
// toolmark::index.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct PCAMatrix;
}

namespace toolmark::index::detail {

/// Centring, principal axes and partial whitening, then unit length:
/// y = normalise(Λ_k^(-1/4) U_kᵀ (x − μ)) with μ the mean and U_k, Λ_k the
/// `out` leading eigenvectors and eigenvalues of the covariance of the
/// vectors it was fitted on (each eigenvalue raised by a hundredth of the
/// largest, so that no weak axis is blown up).
///
/// Why: the comparators' embeddings share a large common component (for
/// "cmc" the rings' power spectrum, the same shape on every scan), so raw
/// cosine similarities between unrelated items are high and vary with how
/// a scan was made, and a query's true match can sit below thousands of
/// unrelated items. Removing the mean and evening the axes' variances makes
/// the inner product measure what distinguishes items.
class Whitening {
 public:
  Whitening();
  ~Whitening();
  Whitening(Whitening&&) noexcept;
  Whitening& operator=(Whitening&&) noexcept;

  /// Fitted on the n rows of `rows` (dims floats each); deterministic (one
  /// OpenMP thread). Throws toolmark::Error when n < 2.
  static Whitening Fit(const float* rows, std::size_t n, int dims, int out);

  int out_dims() const;
  /// n rows of the fitted dimensions → n rows of out_dims(), each of unit length (all
  /// zeros when the transformed vector is 0).
  std::vector<float> Apply(const float* rows, std::size_t n) const;
  /// Bytes held in memory.
  std::size_t MemoryBytes() const;

  /// FAISS's serialisation of the map.
  std::string Serialize() const;
  /// Throws toolmark::Error for anything Serialize did not write for `dims`.
  static Whitening Deserialize(const std::string& bytes, int dims);

 private:
  std::unique_ptr<faiss::PCAMatrix> pca_;
};

}  // namespace toolmark::index::detail
