// Stub backend: linked when gradscope is built without CUDA.
#include "ops_cuda/embedding.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void embedding_forward(int64_t, int64_t, int64_t, const T*, const int64_t*, T*) {
  detail::no_cuda("embedding");
}
template <class T>
void embedding_backward(int64_t, int64_t, int64_t, const T*, const int64_t*, T*) {
  detail::no_cuda("embedding_backward");
}

template void embedding_forward<float>(int64_t, int64_t, int64_t, const float*, const int64_t*, float*);
template void embedding_forward<double>(int64_t, int64_t, int64_t, const double*, const int64_t*, double*);
template void embedding_backward<float>(int64_t, int64_t, int64_t, const float*, const int64_t*, float*);
template void embedding_backward<double>(int64_t, int64_t, int64_t, const double*, const int64_t*, double*);

}  // namespace gs::cuda
