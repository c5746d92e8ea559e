#include "ops_cuda/linalg_lapack.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
int64_t orthonormal_basis(int64_t, int64_t, const T*, double, T*, double*, double*) {
  detail::no_cuda("orthonormal_basis");
}
template <class T>
int64_t svd_values(int64_t, int64_t, const T*, int64_t, double*) {
  detail::no_cuda("svd_values");
}
template <class T>
void row_sumsq(int64_t, int64_t, const T*, int64_t, double*) {
  detail::no_cuda("row_sumsq");
}

#define GS_LINALG(T)                                                                                   \
  template int64_t orthonormal_basis<T>(int64_t, int64_t, const T*, double, T*, double*, double*);    \
  template int64_t svd_values<T>(int64_t, int64_t, const T*, int64_t, double*);                        \
  template void row_sumsq<T>(int64_t, int64_t, const T*, int64_t, double*);
GS_LINALG(float)
GS_LINALG(double)
#undef GS_LINALG

}  // namespace gs::cuda
