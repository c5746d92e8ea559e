// Fused softmax cross-entropy on the device (ops_cuda/cross_entropy.h; contracts and edge rows
// in ops_common/cross_entropy.h). Forward: one read of each row of logits, an online max / sum of
// exponentials per thread, merged by a fixed tree (deterministic); only lse and the row losses
// are stored. Backward: one more read of the logits, the gradient written in place or to a
// separate buffer; probabilities are never stored.
#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/cross_entropy.h"
#include "ops_cuda/kernels.cuh"

namespace gs::cuda {
namespace {

// Running (max, sum of exp(x - max)) of the online logsumexp; the sum is kept in double.
template <class T>
struct MaxSum {
  T m;
  double s;
};

// Merge of two partial states, same special-value behaviour as the CPU's serial scan: a NaN
// logit has made s NaN (never m) and stays NaN; a state that saw only -inf has s = 0 and adds
// nothing (its factor is 0, not exp(-inf - -inf)); two +inf maxima give NaN, as on the CPU.
struct MaxSumOp {
  template <class T>
  __device__ MaxSum<T> operator()(MaxSum<T> a, MaxSum<T> b) const {
    if (b.m > a.m) {
      const MaxSum<T> t = a;
      a = b;
      b = t;
    }
    const double f =
        b.m == detail::d_neg_inf<T>() ? 0.0 : exp(static_cast<double>(b.m) - static_cast<double>(a.m));
    return {a.m, a.s + b.s * f};
  }
};

constexpr int kForwardUnroll = 4;  // loads in flight per thread in the forward kernel

// logits: [N, V]; targets, loss_rows, lse: [N]. One block per row (looping over rows).
// lse[i] = log sum_j exp(logits[i, j]); loss_rows[i] = lse[i] - logits[i, t_i] (0 when ignored).
template <class T>
__global__ void ce_forward_kernel(int64_t N, int64_t V, const T* __restrict__ logits, const int64_t* __restrict__ targets,
                                  int64_t ignore_index, T* __restrict__ loss_rows, T* __restrict__ lse) {
  const T neg_inf = detail::d_neg_inf<T>();
  for (int64_t r = blockIdx.x; r < N; r += gridDim.x) {
    const T* row = logits + r * V;
    MaxSum<T> st{neg_inf, 0.0};
    // Thread t visits j = t, t + B, t + 2B, ... (B = blockDim.x) in that order, loading
    // kForwardUnroll of them before using any so that several loads are in flight; padding past
    // the row end is -inf, which the update skips.
    for (int64_t j0 = threadIdx.x; j0 < V; j0 += int64_t{blockDim.x} * kForwardUnroll) {
      T v[kForwardUnroll];
#pragma unroll
      for (int k = 0; k < kForwardUnroll; ++k) {
        const int64_t j = j0 + k * int64_t{blockDim.x};
        v[k] = j < V ? row[j] : neg_inf;
      }
#pragma unroll
      for (int k = 0; k < kForwardUnroll; ++k) {
        if (v[k] > st.m) {
          st.s = st.s * static_cast<double>(detail::d_exp(st.m - v[k])) + 1.0;  // first finite v: 0 * 0 + 1
          st.m = v[k];
        } else if (v[k] != neg_inf) {
          st.s += static_cast<double>(detail::d_exp(v[k] - st.m));  // NaN lands here and poisons s
        }
      }
    }
    st = detail::block_reduce(st, MaxSumOp{});
    if (threadIdx.x == 0) {
      const T l = static_cast<T>(static_cast<double>(st.m) + log(st.s));
      lse[r] = l;
      const int64_t t = targets[r];
      loss_rows[r] = t == ignore_index ? T(0) : l - row[t];
    }
  }
}

constexpr int kBackwardUnroll = 4;  // columns per thread in the backward kernel

// logits, grad: [N, V] (grad may be logits: each entry is read by the thread that writes it,
// before it writes it; hence no __restrict__ on them); targets, lse: [N].
// grad[i, j] = (exp(logits[i, j] - lse[i]) - [j == t_i]) * scale, 0 on ignored rows.
// Grid: x covers V in tiles of blockDim.x * kBackwardUnroll columns, y loops over rows.
template <class T>
__global__ void ce_backward_kernel(int64_t N, int64_t V, const T* logits, const int64_t* __restrict__ targets,
                                   const T* __restrict__ lse, int64_t ignore_index, T scale, T* grad) {
  const int64_t base = blockIdx.x * int64_t{blockDim.x} * kBackwardUnroll + threadIdx.x;
  for (int64_t r = blockIdx.y; r < N; r += gridDim.y) {
    const T* row = logits + r * V;
    T* g = grad + r * V;
    const int64_t t = targets[r];
    if (t == ignore_index) {
#pragma unroll
      for (int k = 0; k < kBackwardUnroll; ++k) {
        const int64_t j = base + k * int64_t{blockDim.x};
        if (j < V) g[j] = T(0);
      }
      continue;
    }
    const T l = lse[r];
    T v[kBackwardUnroll];
#pragma unroll
    for (int k = 0; k < kBackwardUnroll; ++k) {  // all loads first: several in flight per thread
      const int64_t j = base + k * int64_t{blockDim.x};
      v[k] = j < V ? row[j] : T(0);
    }
#pragma unroll
    for (int k = 0; k < kBackwardUnroll; ++k) {
      const int64_t j = base + k * int64_t{blockDim.x};
      if (j < V) {
        T e = detail::d_exp(v[k] - l) * scale;
        if (j == t) e -= scale;
        g[j] = e;
      }
    }
  }
}

}  // namespace

template <class T>
void cross_entropy_forward(int64_t N, int64_t V, const T* logits, const int64_t* targets, int64_t ignore_index,
                           T* loss_rows, T* lse) {
  if (N <= 0) return;
  cudaStream_t st = detail::stream("cross_entropy");
  ce_forward_kernel<T><<<detail::row_blocks(N), detail::row_threads(V), 0, st>>>(N, V, logits, targets, ignore_index,
                                                                                 loss_rows, lse);
  GS_CUDA_CHECK_LAUNCH("cross_entropy", "ce_forward_kernel");
}

template <class T>
void cross_entropy_backward(int64_t N, int64_t V, const T* logits, const int64_t* targets, const T* lse,
                            int64_t ignore_index, T scale, T* grad) {
  if (N <= 0 || V <= 0) return;
  cudaStream_t st = detail::stream("cross_entropy_backward");
  const int64_t tile = int64_t{detail::kThreads} * kBackwardUnroll;
  const dim3 grid(static_cast<unsigned>((V + tile - 1) / tile), static_cast<unsigned>(N < 65535 ? N : 65535));
  ce_backward_kernel<T><<<grid, detail::kThreads, 0, st>>>(N, V, logits, targets, lse, ignore_index, scale, grad);
  GS_CUDA_CHECK_LAUNCH("cross_entropy_backward", "ce_backward_kernel");
}

GS_CROSS_ENTROPY_INSTANTIATE

}  // namespace gs::cuda
