#include "ops_cuda/gemm.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void gemm(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, int64_t) {
  detail::no_cuda("matmul");
}
template <class T>
void gemm_naive(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, int64_t) {
  detail::no_cuda("matmul");
}
template <class T>
void gemm_batched(int64_t, bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, int64_t, const T*, int64_t,
                  int64_t, T, T*, int64_t, int64_t) {
  detail::no_cuda("matmul");
}

// No device, so no TF32 either: the switch is remembered but has no effect.
namespace {
bool g_tf32 = false;
}
bool allow_tf32(bool allow) {
  const bool old = g_tf32;
  g_tf32 = allow;
  return old;
}
bool tf32_allowed() { return g_tf32; }

#define GS_GEMM(T)                                                                                 \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*,     \
                        int64_t, T, T*, int64_t);                                                  \
  template void gemm_naive<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t,         \
                              const T*, int64_t, T, T*, int64_t);                                  \
  template void gemm_batched<T>(int64_t, bool, bool, int64_t, int64_t, int64_t, T, const T*,       \
                                int64_t, int64_t, const T*, int64_t, int64_t, T, T*, int64_t, int64_t);
GS_GEMM(float)
GS_GEMM(double)
#undef GS_GEMM

}  // namespace gs::cuda
