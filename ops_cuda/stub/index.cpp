// Stub backend: linked when gradscope is built without CUDA.
#include "ops_cuda/index.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void concat_into(int64_t, int64_t, int64_t, int64_t, int64_t, const T*, T*) {
  detail::no_cuda("concat");
}

template void concat_into<float>(int64_t, int64_t, int64_t, int64_t, int64_t, const float*, float*);
template void concat_into<double>(int64_t, int64_t, int64_t, int64_t, int64_t, const double*, double*);
template void concat_into<int64_t>(int64_t, int64_t, int64_t, int64_t, int64_t, const int64_t*, int64_t*);

}  // namespace gs::cuda
