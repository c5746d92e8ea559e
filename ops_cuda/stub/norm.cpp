// Stub backend: linked when gradscope is built without CUDA.
#include "ops_cuda/norm.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void layer_norm_forward(int64_t, int64_t, const T*, const T*, const T*, T, T*, T*, T*) {
  detail::no_cuda("layer_norm");
}
template <class T>
void layer_norm_backward(int64_t, int64_t, const T*, const T*, const T*, const T*, const T*, T*, T*, T*) {
  detail::no_cuda("layer_norm_backward");
}
template <class T>
void rms_norm_forward(int64_t, int64_t, const T*, const T*, T, T*, T*) {
  detail::no_cuda("rms_norm");
}
template <class T>
void rms_norm_backward(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*) {
  detail::no_cuda("rms_norm_backward");
}

#define GS_NORM(T)                                                                                  \
  template void layer_norm_forward<T>(int64_t, int64_t, const T*, const T*, const T*, T, T*, T*, T*); \
  template void layer_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*,    \
                                       const T*, T*, T*, T*);                                       \
  template void rms_norm_forward<T>(int64_t, int64_t, const T*, const T*, T, T*, T*);               \
  template void rms_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);
GS_NORM(float)
GS_NORM(double)
#undef GS_NORM

}  // namespace gs::cuda
