// Host emulator of the CUDA backend (GRADSCOPE_CUDA=EMULATE, a test double): every gs::cuda
// kernel entry forwards to the gs::cpu kernel of the same contract, on "device" pointers that are
// host memory (memory.cpp here). The tensor layer's CUDA paths -- dispatch, device placement,
// device buffers, the cuSOLVER-side contracts, nn::to_device, --device cuda -- then run and are
// tested on a machine without a GPU; the CUDA kernels themselves are not (they need a device).
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "ops_cpu/copy.h"
#include "ops_cpu/cross_entropy.h"
#include "ops_cpu/elementwise.h"
#include "ops_cpu/embedding.h"
#include "ops_cpu/gemm.h"
#include "ops_cpu/index.h"
#include "ops_cpu/linalg_lapack.h"
#include "ops_cpu/norm.h"
#include "ops_cpu/reduce.h"
#include "ops_cpu/softmax.h"
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

namespace gs::cuda {
namespace {

// The two backends declare the same enumerators in the same order (elementwise.h of each).
static_assert(static_cast<int>(Unary::abs) == static_cast<int>(cpu::Unary::abs) && static_cast<int>(Unary::abs) == 9);
static_assert(static_cast<int>(Binary::gt) == static_cast<int>(cpu::Binary::gt) && static_cast<int>(Binary::gt) == 9);
cpu::Unary host(Unary op) { return static_cast<cpu::Unary>(static_cast<int>(op)); }
cpu::Binary host(Binary op) { return static_cast<cpu::Binary>(static_cast<int>(op)); }

std::atomic<bool> g_tf32{false};  // recorded only: the host kernels never use TF32

}  // namespace

// ---- copy.h ----
void strided_copy(int ndim, const int64_t* shape, const void* src, const int64_t* src_strides, int elem_size,
                  void* dst) {
  switch (elem_size) {  // copies move bits: any type of the element's size will do
    case 4: return cpu::strided_copy<float, float>(ndim, shape, static_cast<const float*>(src), src_strides,
                                                   static_cast<float*>(dst));
    case 8: return cpu::strided_copy<int64_t, int64_t>(ndim, shape, static_cast<const int64_t*>(src), src_strides,
                                                       static_cast<int64_t*>(dst));
    default: throw std::runtime_error("copy: element size " + std::to_string(elem_size) + " is not supported");
  }
}
void strided_scatter(int ndim, const int64_t* shape, const void* src, void* dst, const int64_t* dst_strides,
                     int elem_size) {
  switch (elem_size) {
    case 4: return cpu::strided_scatter<float>(ndim, shape, static_cast<const float*>(src), static_cast<float*>(dst),
                                               dst_strides);
    case 8: return cpu::strided_scatter<int64_t>(ndim, shape, static_cast<const int64_t*>(src),
                                                 static_cast<int64_t*>(dst), dst_strides);
    default: throw std::runtime_error("copy_: element size " + std::to_string(elem_size) + " is not supported");
  }
}
template <class Src, class Dst>
void strided_convert(int ndim, const int64_t* shape, const Src* src, const int64_t* src_strides, Dst* dst) {
  cpu::strided_copy<Src, Dst>(ndim, shape, src, src_strides, dst);
}
template <class T>
void fill(int64_t n, T value, T* dst) { cpu::fill<T>(n, value, dst); }

// ---- elementwise.h ----
template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) { cpu::unary<T>(host(op), n, x, y); }
template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  cpu::unary_backward<T>(host(op), n, x, y, gy, gx);
}
template <class T>
void binary(Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* as, const T* b, const int64_t* bs,
            T* out) {
  cpu::binary<T>(host(op), ndim, shape, a, as, b, bs, out);
}
template <class C, class T>
void where(int ndim, const int64_t* shape, const C* cond, const int64_t* cs, const T* a, const int64_t* as,
           const T* b, const int64_t* bs, T* out) {
  cpu::where<C, T>(ndim, shape, cond, cs, a, as, b, bs, out);
}
template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) { cpu::axpy<T>(n, alpha, x, y); }

// ---- reduce.h, softmax.h, cross_entropy.h, norm.h, embedding.h, index.h ----
template <class T>
void sum_rows(int64_t outer, int64_t inner, const T* x, T* y) { cpu::sum_rows<T>(outer, inner, x, y); }
template <class T>
void sum_middle(int64_t outer, int64_t mid, int64_t inner, const T* x, T* y) {
  cpu::sum_middle<T>(outer, mid, inner, x, y);
}
template <class T>
void max_rows(int64_t outer, int64_t inner, const T* x, T* y, int64_t* idx) { cpu::max_rows<T>(outer, inner, x, y, idx); }
template <class T>
void softmax_rows(int64_t r, int64_t c, const T* x, T* y) { cpu::softmax_rows<T>(r, c, x, y); }
template <class T>
void log_softmax_rows(int64_t r, int64_t c, const T* x, T* y) { cpu::log_softmax_rows<T>(r, c, x, y); }
template <class T>
void softmax_backward_rows(int64_t r, int64_t c, const T* y, const T* gy, T* gx) {
  cpu::softmax_backward_rows<T>(r, c, y, gy, gx);
}
template <class T>
void log_softmax_backward_rows(int64_t r, int64_t c, const T* y, const T* gy, T* gx) {
  cpu::log_softmax_backward_rows<T>(r, c, y, gy, gx);
}
template <class T>
void cross_entropy_forward(int64_t N, int64_t V, const T* logits, const int64_t* targets, int64_t ignore_index,
                           T* loss_rows, T* lse) {
  cpu::cross_entropy_forward<T>(N, V, logits, targets, ignore_index, loss_rows, lse);
}
template <class T>
void cross_entropy_backward(int64_t N, int64_t V, const T* logits, const int64_t* targets, const T* lse,
                            int64_t ignore_index, T scale, T* grad) {
  cpu::cross_entropy_backward<T>(N, V, logits, targets, lse, ignore_index, scale, grad);
}
template <class T>
void layer_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, const T* beta, T eps, T* y, T* mean,
                        T* rstd) {
  cpu::layer_norm_forward<T>(rows, D, x, gamma, beta, eps, y, mean, rstd);
}
template <class T>
void layer_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* mean, const T* rstd,
                         const T* gamma, T* gx, T* ggamma, T* gbeta) {
  cpu::layer_norm_backward<T>(rows, D, gy, x, mean, rstd, gamma, gx, ggamma, gbeta);
}
template <class T>
void rms_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, T eps, T* y, T* rstd) {
  cpu::rms_norm_forward<T>(rows, D, x, gamma, eps, y, rstd);
}
template <class T>
void rms_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* rstd, const T* gamma, T* gx,
                       T* ggamma) {
  cpu::rms_norm_backward<T>(rows, D, gy, x, rstd, gamma, gx, ggamma);
}
template <class T>
void embedding_forward(int64_t n_idx, int64_t V, int64_t D, const T* weight, const int64_t* idx, T* out) {
  cpu::embedding_forward<T>(n_idx, V, D, weight, idx, out);
}
template <class T>
void embedding_backward(int64_t n_idx, int64_t V, int64_t D, const T* grad_out, const int64_t* idx, T* grad_weight) {
  cpu::embedding_backward<T>(n_idx, V, D, grad_out, idx, grad_weight);
}
template <class T>
void concat_into(int64_t outer, int64_t inner, int64_t len, int64_t total, int64_t offset, const T* src, T* dst) {
  cpu::concat_into<T>(outer, inner, len, total, offset, src, dst);
}

// ---- gemm.h ----
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  cpu::gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
template <class T>
void gemm_naive(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                int64_t ldb, T beta, T* C, int64_t ldc) {
  cpu::gemm_naive<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
template <class T>
void gemm_batched(int64_t batch, bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                  int64_t sa, const T* B, int64_t ldb, int64_t sb, T beta, T* C, int64_t ldc, int64_t sc) {
  cpu::gemm_batched<T>(batch, ta, tb, M, N, K, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc);
}
bool allow_tf32(bool allow) {
  return g_tf32.exchange(allow);
}
bool tf32_allowed() { return g_tf32; }

// ---- linalg_lapack.h (cuSOLVER's contract is LAPACK's: ops_cpu/linalg_lapack.h) ----
template <class T>
int64_t orthonormal_basis(int64_t m, int64_t n, const T* A, double rel_tol, T* Q, double* coeffs, double* sv) {
  return cpu::orthonormal_basis<T>(m, n, A, rel_tol, Q, coeffs, sv);
}
template <class T>
int64_t svd_values(int64_t m, int64_t n, const T* A, int64_t lda, double* s) {
  return cpu::svd_values<T>(m, n, A, lda, s);
}
template <class T>
void row_sumsq(int64_t rows, int64_t cols, const T* X, int64_t ld, double* out) {
  cpu::row_sumsq<T>(rows, cols, X, ld, out);
}

// ---- explicit instantiations: the types the tensor layer calls ----
GS_CUDA_STRIDED_CONVERT_ALL

#define GS_EMU_WHERE(C, T)                                                                             \
  template void where<C, T>(int, const int64_t*, const C*, const int64_t*, const T*, const int64_t*, \
                            const T*, const int64_t*, T*);
#define GS_EMU_WHERE_ON(C) GS_EMU_WHERE(C, float) GS_EMU_WHERE(C, double) GS_EMU_WHERE(C, int64_t)
GS_EMU_WHERE_ON(float)
GS_EMU_WHERE_ON(double)
GS_EMU_WHERE_ON(int64_t)

// float, double and int64_t
#define GS_EMU_ALL(T)                                                                                 \
  template void fill<T>(int64_t, T, T*);                                                             \
  template void binary<T>(Binary, int, const int64_t*, const T*, const int64_t*, const T*, const int64_t*, T*); \
  template void axpy<T>(int64_t, T, const T*, T*);                                                   \
  template void sum_rows<T>(int64_t, int64_t, const T*, T*);                                          \
  template void sum_middle<T>(int64_t, int64_t, int64_t, const T*, T*);                               \
  template void max_rows<T>(int64_t, int64_t, const T*, T*, int64_t*);                                \
  template void concat_into<T>(int64_t, int64_t, int64_t, int64_t, int64_t, const T*, T*);
GS_EMU_ALL(float)
GS_EMU_ALL(double)
GS_EMU_ALL(int64_t)

// float and double
#define GS_EMU_FLOAT(T)                                                                                       \
  template void unary<T>(Unary, int64_t, const T*, T*);                                                      \
  template void unary_backward<T>(Unary, int64_t, const T*, const T*, const T*, T*);                         \
  template void softmax_rows<T>(int64_t, int64_t, const T*, T*);                                              \
  template void log_softmax_rows<T>(int64_t, int64_t, const T*, T*);                                          \
  template void softmax_backward_rows<T>(int64_t, int64_t, const T*, const T*, T*);                           \
  template void log_softmax_backward_rows<T>(int64_t, int64_t, const T*, const T*, T*);                       \
  template void cross_entropy_forward<T>(int64_t, int64_t, const T*, const int64_t*, int64_t, T*, T*);       \
  template void cross_entropy_backward<T>(int64_t, int64_t, const T*, const int64_t*, const T*, int64_t, T, T*); \
  template void layer_norm_forward<T>(int64_t, int64_t, const T*, const T*, const T*, T, T*, T*, T*);         \
  template void layer_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, const T*, T*, \
                                       T*, T*);                                                               \
  template void rms_norm_forward<T>(int64_t, int64_t, const T*, const T*, T, T*, T*);                         \
  template void rms_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);       \
  template void embedding_forward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, T*);                \
  template void embedding_backward<T>(int64_t, int64_t, int64_t, const T*, const int64_t*, T*);               \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, T*, \
                        int64_t);                                                                             \
  template void gemm_naive<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, \
                              T, T*, int64_t);                                                                \
  template void gemm_batched<T>(int64_t, bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, int64_t, \
                                const T*, int64_t, int64_t, T, T*, int64_t, int64_t);                         \
  template int64_t orthonormal_basis<T>(int64_t, int64_t, const T*, double, T*, double*, double*);            \
  template int64_t svd_values<T>(int64_t, int64_t, const T*, int64_t, double*);                               \
  template void row_sumsq<T>(int64_t, int64_t, const T*, int64_t, double*);
GS_EMU_FLOAT(float)
GS_EMU_FLOAT(double)

}  // namespace gs::cuda
