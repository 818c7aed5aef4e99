// Private to toolmark::index: FAISS builds with one OpenMP thread.
#pragma once

#include <omp.h>

namespace toolmark::index::detail {

/// Runs FAISS calls with one OpenMP thread in this thread (deterministic
/// builds: graphs, PCA, k-means), restoring the previous setting.
class SingleOmpThread {
 public:
  SingleOmpThread() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleOmpThread() { omp_set_num_threads(previous_); }
  SingleOmpThread(const SingleOmpThread&) = delete;
  SingleOmpThread& operator=(const SingleOmpThread&) = delete;

 private:
  int previous_;
};

}  // namespace toolmark::index::detail
