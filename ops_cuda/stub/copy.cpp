#include "ops_cuda/copy.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

void strided_copy(int, const int64_t*, const void*, const int64_t*, int, void*) { detail::no_cuda("copy"); }

void strided_scatter(int, const int64_t*, const void*, void*, const int64_t*, int) { detail::no_cuda("copy_"); }

template <class Src, class Dst>
void strided_convert(int, const int64_t*, const Src*, const int64_t*, Dst*) {
  detail::no_cuda("to(dtype)");
}

GS_CUDA_STRIDED_CONVERT_ALL

template <class T>
void fill(int64_t, T, T*) { detail::no_cuda("fill"); }

template void fill<float>(int64_t, float, float*);
template void fill<double>(int64_t, double, double*);
template void fill<int64_t>(int64_t, int64_t, int64_t*);

}  // namespace gs::cuda
