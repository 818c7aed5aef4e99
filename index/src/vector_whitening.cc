// See vector_whitening.h.
#include "vector_whitening.h"

#include <faiss/VectorTransform.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>

#include "single_omp_thread.h"
#include "toolmark/engine/check.h"

namespace toolmark::index::detail {
namespace {

constexpr float kEigenPower = -0.25f;  ///< half-way to full whitening (−0.5)
constexpr float kFloorShare = 0.01f;   ///< added to every eigenvalue, as a share of the largest

}  // namespace

Whitening::Whitening() = default;
Whitening::~Whitening() = default;
Whitening::Whitening(Whitening&&) noexcept = default;
Whitening& Whitening::operator=(Whitening&&) noexcept = default;

Whitening Whitening::Fit(const float* rows, std::size_t n, int dims, int out) {
  Check(n >= 2 && dims >= 1 && out >= 1, "vector index: whitening needs at least 2 vectors");
  SingleOmpThread single;
  Whitening w;
  w.pca_ = std::make_unique<faiss::PCAMatrix>(dims, std::min(dims, out), kEigenPower, false);
  // Every row is used (FAISS would otherwise sample at random above 1,000 a dimension).
  w.pca_->max_points_per_d =
      std::max<std::size_t>(w.pca_->max_points_per_d, n / static_cast<std::size_t>(dims) + 1);
  w.pca_->train(static_cast<faiss::Index::idx_t>(n), rows);
  const float largest = w.pca_->eigenvalues.empty() ? 0.0f : std::max(0.0f, w.pca_->eigenvalues.front());
  w.pca_->epsilon = std::max(kFloorShare * largest, 1e-12f);
  w.pca_->prepare_Ab();
  return w;
}

int Whitening::out_dims() const { return pca_ ? pca_->d_out : 0; }

std::vector<float> Whitening::Apply(const float* rows, std::size_t n) const {
  // Plain loops in a fixed order, not BLAS: a vector maps to the same floats
  // whether it comes alone or in a batch (BLAS kernels differ in the last
  // bits between one row and many), so an index grown one item at a time and
  // one rebuilt in one go hold the same numbers.
  const auto in = static_cast<std::size_t>(pca_->d_in), out = static_cast<std::size_t>(pca_->d_out);
  std::vector<float> y(n * out);
  std::vector<double> row(out);
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = rows + i * in;
    double norm = 0;
    for (std::size_t o = 0; o < out; ++o) {
      const float* a = pca_->A.data() + o * in;
      // Four running sums (the one-sum loop waited on each addition: 4× slower).
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      std::size_t d = 0;
      for (; d + 4 <= in; d += 4) {
        s0 += double{a[d]} * x[d];
        s1 += double{a[d + 1]} * x[d + 1];
        s2 += double{a[d + 2]} * x[d + 2];
        s3 += double{a[d + 3]} * x[d + 3];
      }
      for (; d < in; ++d) s0 += double{a[d]} * x[d];
      const double sum = pca_->b[o] + ((s0 + s1) + (s2 + s3));
      row[o] = sum;
      norm += sum * sum;
    }
    if (!(norm > 0) || !std::isfinite(norm)) continue;  // stays all zeros
    const double scale = 1.0 / std::sqrt(norm);
    for (std::size_t o = 0; o < out; ++o) y[i * out + o] = static_cast<float>(row[o] * scale);
  }
  return y;
}

std::size_t Whitening::MemoryBytes() const {
  return pca_ ? (pca_->A.size() + pca_->b.size() + pca_->mean.size() + pca_->PCAMat.size() +
                 pca_->eigenvalues.size()) *
                    sizeof(float)
              : 0;
}

std::string Whitening::Serialize() const {
  faiss::VectorIOWriter writer;
  faiss::write_VectorTransform(pca_.get(), &writer);
  return std::string(writer.data.begin(), writer.data.end());
}

Whitening Whitening::Deserialize(const std::string& bytes, int dims) {
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  std::unique_ptr<faiss::VectorTransform> t;
  try {
    t.reset(faiss::read_VectorTransform(&reader));
  } catch (const std::exception& e) {
    throw Error(std::string("whitening unreadable: ") + e.what());
  }
  auto* pca = dynamic_cast<faiss::PCAMatrix*>(t.get());
  Check(pca != nullptr && pca->d_in == dims && pca->d_out >= 1 && pca->d_out <= dims && pca->is_trained &&
            pca->A.size() == static_cast<std::size_t>(pca->d_in) * pca->d_out &&
            pca->b.size() == static_cast<std::size_t>(pca->d_out),
        "whitening does not match the index");
  for (float v : pca->A) Check(std::isfinite(v), "whitening has a non-finite value");
  for (float v : pca->b) Check(std::isfinite(v), "whitening has a non-finite value");
  Whitening w;
  t.release();
  w.pca_.reset(pca);
  return w;
}

}  // namespace toolmark::index::detail
