// Reductions on the device (ops_cuda/reduce.h; contracts in ops_common/reduce.h).
// Deterministic: every sum is a fixed tree whose shape depends only on the sizes (block sizes,
// chunk counts), never on scheduling; there are no atomics. Floats accumulate in double.
#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/kernels.cuh"
#include "ops_cuda/reduce.h"

namespace gs::cuda {
namespace {

using detail::Acc;

// Rows longer than this, when there are too few rows to fill the device, are split into chunks
// of this many elements reduced by separate blocks (stage 1), then the chunk partials of each
// row are reduced in order by one block (stage 2).
constexpr int64_t kRowChunk = 1 << 15;
constexpr int64_t kFewRows = 1024;
// Rows this short are summed by one thread each, serially.
constexpr int64_t kShortRow = 32;

// y[o] = sum_i x[o * inner + i] (Out = T, or Acc for partials). x: [outer, inner].
// One block per row (looping over rows), thread t sums i = t, t + blockDim, ..., then a tree.
template <class In, class Out>
__global__ void sum_rows_kernel(int64_t outer, int64_t inner, const In* __restrict__ x, Out* __restrict__ y) {
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const In* row = x + o * inner;
    Acc<In> acc = 0;
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) acc += static_cast<Acc<In>>(row[i]);
    acc = detail::block_reduce(acc, detail::SumOp{});
    if (threadIdx.x == 0) y[o] = static_cast<Out>(acc);
  }
}

// y[o] = sum_i x[o * inner + i], one thread per row, serial left-to-right. x: [outer, inner].
template <class T>
__global__ void sum_short_rows_kernel(int64_t outer, int64_t inner, const T* __restrict__ x, T* __restrict__ y) {
  for (int64_t o = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; o < outer; o += int64_t{gridDim.x} * blockDim.x) {
    const T* row = x + o * inner;
    Acc<T> acc = 0;
    for (int64_t i = 0; i < inner; ++i) acc += static_cast<Acc<T>>(row[i]);
    y[o] = static_cast<T>(acc);
  }
}

// Stage 1 of a chunked row sum. x: [outer, inner]; part: [outer, chunks] (Acc), chunk c of row o
// covers i in [c * kRowChunk, min(inner, (c + 1) * kRowChunk)). Grid: x = chunks, y loops rows.
template <class T>
__global__ void sum_chunks_kernel(int64_t outer, int64_t inner, int64_t chunks, const T* __restrict__ x,
                                  Acc<T>* __restrict__ part) {
  const int64_t c = blockIdx.x;
  const int64_t b = c * kRowChunk, e = b + kRowChunk < inner ? b + kRowChunk : inner;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    const T* row = x + o * inner;
    Acc<T> acc = 0;
    for (int64_t i = b + threadIdx.x; i < e; i += blockDim.x) acc += static_cast<Acc<T>>(row[i]);
    acc = detail::block_reduce(acc, detail::SumOp{});
    if (threadIdx.x == 0) part[o * chunks + c] = acc;
  }
}

// y[o * inner + i] = sum_{m in [m0, m1)} x[(o * mid + m) * inner + i], one thread per output
// column (o, i), m ascending. x: [outer, mid, inner]; y: [outer, inner] (Out = T or Acc).
// Chunked form: blockIdx.y = chunk c of chunk_rows mids, output part[(c * outer + o) * inner + i].
template <class T, class Out>
__global__ void sum_middle_kernel(int64_t outer, int64_t mid, int64_t inner, int64_t chunk_rows,
                                  const T* __restrict__ x, Out* __restrict__ y) {
  const int64_t cols = outer * inner;
  const int64_t c = blockIdx.y;
  const int64_t m0 = c * chunk_rows, m1 = m0 + chunk_rows < mid ? m0 + chunk_rows : mid;
  for (int64_t q = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; q < cols; q += int64_t{gridDim.x} * blockDim.x) {
    const int64_t o = q / inner, i = q - o * inner;
    const T* p = x + (o * mid + m0) * inner + i;
    Acc<T> acc = 0;
    for (int64_t m = m0; m < m1; ++m, p += inner) acc += static_cast<Acc<T>>(*p);
    y[c * cols + q] = static_cast<Out>(acc);
  }
}

// y[q] = sum_c part[c * cols + q], c ascending. part: [chunks, cols] (Acc); y: [cols].
template <class T>
__global__ void sum_partials_kernel(int64_t cols, int64_t chunks, const Acc<T>* __restrict__ part, T* __restrict__ y) {
  for (int64_t q = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; q < cols; q += int64_t{gridDim.x} * blockDim.x) {
    Acc<T> acc = 0;
    for (int64_t c = 0; c < chunks; ++c) acc += part[c * cols + q];
    y[q] = static_cast<T>(acc);
  }
}

// (value, index) pair of the max scan: NaN beats everything (first NaN wins), otherwise the
// larger value, ties to the smaller index. Associative and commutative, so the tree gives the
// CPU's left-to-right answer exactly.
template <class T>
struct ArgMax {
  T v;
  int64_t i;
};
struct ArgMaxOp {
  template <class T>
  __device__ ArgMax<T> operator()(ArgMax<T> a, ArgMax<T> b) const {
    const bool an = detail::d_isnan(a.v), bn = detail::d_isnan(b.v);
    if (an || bn) {
      if (an && bn) return a.i <= b.i ? a : b;
      return an ? a : b;
    }
    if (a.v > b.v) return a;
    if (b.v > a.v) return b;
    return a.i <= b.i ? a : b;
  }
};

// y[o] = max_i x[o, i], idx[o] = first arg (idx may be nullptr). x: [outer, inner], inner >= 1.
// One block per row. Threads with no element (t >= inner) carry (row[0], inner): thread 0 holds
// row[0] itself or something that beats it, and ties go to the smaller index, so a placeholder
// never survives the tree.
template <class T>
__global__ void max_rows_kernel(int64_t outer, int64_t inner, const T* __restrict__ x, T* __restrict__ y,
                                int64_t* __restrict__ idx) {
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    const T* row = x + o * inner;
    ArgMax<T> best{row[0], inner};
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
      const ArgMax<T> cand{row[i], i};
      best = best.i == inner ? cand : ArgMaxOp{}(best, cand);
    }
    best = detail::block_reduce(best, ArgMaxOp{});
    if (threadIdx.x == 0) {
      y[o] = best.v;
      if (idx) idx[o] = best.i;
    }
  }
}

}  // namespace

template <class T>
void sum_rows(int64_t outer, int64_t inner, const T* x, T* y) {
  const char* op = "sum";
  if (outer <= 0) return;
  cudaStream_t st = detail::stream(op);
  if (inner <= 0) {
    GS_CUDA_CHECK(op, cudaMemsetAsync(y, 0, static_cast<size_t>(outer) * sizeof(T), st));  // 0 bits = 0
    return;
  }
  if (inner <= kShortRow) {
    sum_short_rows_kernel<T><<<detail::grid_for(outer), detail::kThreads, 0, st>>>(outer, inner, x, y);
    GS_CUDA_CHECK_LAUNCH(op, "sum_short_rows_kernel");
    return;
  }
  if (inner > kRowChunk && outer < kFewRows) {
    const int64_t chunks = (inner + kRowChunk - 1) / kRowChunk;
    detail::DeviceBuffer part(op, static_cast<size_t>(outer * chunks) * sizeof(Acc<T>));
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(outer));
    sum_chunks_kernel<T><<<grid, detail::kMaxRowThreads, 0, st>>>(outer, inner, chunks, x, part.as<Acc<T>>());
    GS_CUDA_CHECK_LAUNCH(op, "sum_chunks_kernel");
    sum_rows_kernel<Acc<T>, T><<<detail::row_blocks(outer), detail::row_threads(chunks), 0, st>>>(
        outer, chunks, part.as<Acc<T>>(), y);
    GS_CUDA_CHECK_LAUNCH(op, "sum_rows_kernel");
    return;
  }
  sum_rows_kernel<T, T><<<detail::row_blocks(outer), detail::row_threads(inner), 0, st>>>(outer, inner, x, y);
  GS_CUDA_CHECK_LAUNCH(op, "sum_rows_kernel");
}

template <class T>
void sum_middle(int64_t outer, int64_t mid, int64_t inner, const T* x, T* y) {
  const char* op = "sum";
  if (outer <= 0 || inner <= 0) return;
  if (inner == 1) {
    sum_rows(outer, mid, x, y);  // [outer, mid, 1]: a plain row sum
    return;
  }
  cudaStream_t st = detail::stream(op);
  if (mid <= 0) {
    GS_CUDA_CHECK(op, cudaMemsetAsync(y, 0, static_cast<size_t>(outer * inner) * sizeof(T), st));
    return;
  }
  const int64_t cols = outer * inner;
  // Few output columns over a long mid axis (e.g. a bias gradient [N, D] -> [D]): split mid into
  // at most 256 chunks of >= 64 rows so enough threads run; the chunk count depends on sizes only.
  if (cols < (int64_t{1} << 14) && mid > 128) {
    int64_t chunk_rows = (mid + 255) / 256;
    if (chunk_rows < 64) chunk_rows = 64;
    const int64_t chunks = (mid + chunk_rows - 1) / chunk_rows;
    detail::DeviceBuffer part(op, static_cast<size_t>(chunks * cols) * sizeof(Acc<T>));
    const dim3 grid(detail::grid_for(cols), static_cast<unsigned>(chunks));
    sum_middle_kernel<T, Acc<T>><<<grid, detail::kThreads, 0, st>>>(outer, mid, inner, chunk_rows, x,
                                                                     part.as<Acc<T>>());
    GS_CUDA_CHECK_LAUNCH(op, "sum_middle_kernel");
    sum_partials_kernel<T><<<detail::grid_for(cols), detail::kThreads, 0, st>>>(cols, chunks, part.as<Acc<T>>(), y);
    GS_CUDA_CHECK_LAUNCH(op, "sum_partials_kernel");
    return;
  }
  const dim3 grid(detail::grid_for(cols), 1);
  sum_middle_kernel<T, T><<<grid, detail::kThreads, 0, st>>>(outer, mid, inner, mid, x, y);
  GS_CUDA_CHECK_LAUNCH(op, "sum_middle_kernel");
}

template <class T>
void max_rows(int64_t outer, int64_t inner, const T* x, T* y, int64_t* idx) {
  const char* op = "max";
  if (outer <= 0 || inner <= 0) return;
  cudaStream_t st = detail::stream(op);
  max_rows_kernel<T><<<detail::row_blocks(outer), detail::row_threads(inner), 0, st>>>(outer, inner, x, y, idx);
  GS_CUDA_CHECK_LAUNCH(op, "max_rows_kernel");
}

GS_REDUCE_INSTANTIATE

}  // namespace gs::cuda
