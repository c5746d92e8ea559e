// Stub backend for ops_cuda/softmax.h: linked when gradscope is built without CUDA.
#include "ops_cuda/softmax.h"

#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void softmax_rows(int64_t, int64_t, const T*, T*) {
  detail::no_cuda("softmax");
}

template <class T>
void log_softmax_rows(int64_t, int64_t, const T*, T*) {
  detail::no_cuda("log_softmax");
}

template <class T>
void softmax_backward_rows(int64_t, int64_t, const T*, const T*, T*) {
  detail::no_cuda("softmax_backward");
}

template <class T>
void log_softmax_backward_rows(int64_t, int64_t, const T*, const T*, T*) {
  detail::no_cuda("log_softmax_backward");
}

template void softmax_rows<float>(int64_t, int64_t, const float*, float*);
template void softmax_rows<double>(int64_t, int64_t, const double*, double*);
template void log_softmax_rows<float>(int64_t, int64_t, const float*, float*);
template void log_softmax_rows<double>(int64_t, int64_t, const double*, double*);
template void softmax_backward_rows<float>(int64_t, int64_t, const float*, const float*, float*);
template void softmax_backward_rows<double>(int64_t, int64_t, const double*, const double*,
                                            double*);
template void log_softmax_backward_rows<float>(int64_t, int64_t, const float*, const float*,
                                               float*);
template void log_softmax_backward_rows<double>(int64_t, int64_t, const double*, const double*,
                                                double*);

}  // namespace gs::cuda
