// The CUDA backend in a build without CUDA: every kernel entry throws
//   "<op>: no CUDA implementation in this build (configure with -DGRADSCOPE_CUDA=ON)".
// One line per kernel family, generated from the family's contract (ops_common/<family>.h, where
// each entry's <op> is listed), after MLX's mlx/backend/no_gpu/primitives.cpp; then the few entries
// only the CUDA backend has. Device memory and the queries are in memory.cpp.
#include "ops_cuda/copy.h"
#include "ops_cuda/cross_entropy.h"
#include "ops_cuda/elementwise.h"
#include "ops_cuda/embedding.h"
#include "ops_cuda/gemm.h"
#include "ops_cuda/index.h"
#include "ops_cuda/linalg_lapack.h"
#include "ops_cuda/norm.h"
#include "ops_cuda/reduce.h"
#include "ops_cuda/softmax.h"
#include "ops_cuda/stub_message.h"

// A stub ignores its arguments by design.
#pragma GCC diagnostic ignored "-Wunused-parameter"

namespace gs::cuda {

GS_COPY_KERNELS(GS_KERNEL_STUB) GS_COPY_INSTANTIATE
GS_CROSS_ENTROPY_KERNELS(GS_KERNEL_STUB) GS_CROSS_ENTROPY_INSTANTIATE
GS_ELEMENTWISE_KERNELS(GS_KERNEL_STUB) GS_ELEMENTWISE_INSTANTIATE
GS_EMBEDDING_KERNELS(GS_KERNEL_STUB) GS_EMBEDDING_INSTANTIATE
GS_GEMM_KERNELS(GS_KERNEL_STUB) GS_GEMM_INSTANTIATE
GS_INDEX_KERNELS(GS_KERNEL_STUB) GS_INDEX_INSTANTIATE
GS_LINALG_LAPACK_KERNELS(GS_KERNEL_STUB) GS_LINALG_LAPACK_INSTANTIATE
GS_NORM_KERNELS(GS_KERNEL_STUB) GS_NORM_INSTANTIATE
GS_REDUCE_KERNELS(GS_KERNEL_STUB) GS_REDUCE_INSTANTIATE
GS_SOFTMAX_KERNELS(GS_KERNEL_STUB) GS_SOFTMAX_INSTANTIATE

// ---- entries only the CUDA backend has ----
void strided_copy(int, const int64_t*, const void*, const int64_t*, int, void*) { detail::no_cuda("copy"); }
void strided_scatter(int, const int64_t*, const void*, void*, const int64_t*, int) { detail::no_cuda("copy_"); }
template <class Src, class Dst>
void strided_convert(int, const int64_t*, const Src*, const int64_t*, Dst*) { detail::no_cuda("to(dtype)"); }
GS_CUDA_STRIDED_CONVERT_ALL

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

}  // namespace gs::cuda
