// Stub backend for ops_cuda/reduce.h: linked when gradscope is built without CUDA.
#include "ops_cuda/reduce.h"

#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void sum_rows(int64_t, int64_t, const T*, T*) {
  detail::no_cuda("sum");
}

template <class T>
void sum_middle(int64_t, int64_t, int64_t, const T*, T*) {
  detail::no_cuda("sum");
}

template <class T>
void max_rows(int64_t, int64_t, const T*, T*, int64_t*) {
  detail::no_cuda("max");
}

template void sum_rows<float>(int64_t, int64_t, const float*, float*);
template void sum_rows<double>(int64_t, int64_t, const double*, double*);
template void sum_rows<int64_t>(int64_t, int64_t, const int64_t*, int64_t*);
template void sum_middle<float>(int64_t, int64_t, int64_t, const float*, float*);
template void sum_middle<double>(int64_t, int64_t, int64_t, const double*, double*);
template void sum_middle<int64_t>(int64_t, int64_t, int64_t, const int64_t*, int64_t*);
template void max_rows<float>(int64_t, int64_t, const float*, float*, int64_t*);
template void max_rows<double>(int64_t, int64_t, const double*, double*, int64_t*);
template void max_rows<int64_t>(int64_t, int64_t, const int64_t*, int64_t*, int64_t*);

}  // namespace gs::cuda
