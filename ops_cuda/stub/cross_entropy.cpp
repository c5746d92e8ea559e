// Stub backend for ops_cuda/cross_entropy.h: linked when gradscope is built without CUDA.
#include "ops_cuda/cross_entropy.h"

#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void cross_entropy_forward(int64_t, int64_t, const T*, const int64_t*, int64_t, T*, T*) {
  detail::no_cuda("cross_entropy");
}

template <class T>
void cross_entropy_backward(int64_t, int64_t, const T*, const int64_t*, const T*, int64_t, T, T*) {
  detail::no_cuda("cross_entropy_backward");
}

template void cross_entropy_forward<float>(int64_t, int64_t, const float*, const int64_t*, int64_t,
                                           float*, float*);
template void cross_entropy_forward<double>(int64_t, int64_t, const double*, const int64_t*,
                                            int64_t, double*, double*);
template void cross_entropy_backward<float>(int64_t, int64_t, const float*, const int64_t*,
                                            const float*, int64_t, float, float*);
template void cross_entropy_backward<double>(int64_t, int64_t, const double*, const int64_t*,
                                             const double*, int64_t, double, double*);

}  // namespace gs::cuda
