// Dense linear algebra on cuSOLVER for the analysis layer (ops_cuda/linalg_lapack.h; contracts
// in ops_common/linalg_lapack.h). Pointers are device pointers (A, Q, coeffs, sv, s, X, out); the
// returned rank / status is a host value, so these calls wait for the stream. Everything is
// factorized in float64 on private column-major copies, as on the CPU. A cuSOLVER failure to
// run (bad status) throws; a factorization that reports info != 0 returns -1000 - |info|.
//
// cuSOLVER's gesvd needs rows >= cols, so the SVD of the wide R [k, n] (k <= n) is taken of its
// transpose: R^T = Ut S VTt, hence R = VTt^T S Ut^T, U_R = VTt^T and V_R^T = Ut^T.
#include <climits>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "ops_cuda/check.h"
#include "ops_cuda/context.h"
#include "ops_cuda/kernels.cuh"
#include "ops_cuda/linalg_lapack.h"

namespace gs::cuda {
namespace {

int64_t solver_error(int info) { return -1000 - std::abs(static_cast<int64_t>(info)); }

void check_int(const char* op, std::initializer_list<int64_t> dims) {
  for (int64_t d : dims)
    if (d > INT_MAX)
      throw std::runtime_error(std::string(op) + ": dimension " + std::to_string(d) +
                               " exceeds the 32-bit cuSOLVER interface");
}

int read_info(const char* op, const int* dev_info, cudaStream_t st) {
  int info = 0;
  GS_CUDA_CHECK(op, cudaMemcpyAsync(&info, dev_info, sizeof(int), cudaMemcpyDeviceToHost, st));
  GS_CUDA_CHECK(op, cudaStreamSynchronize(st));
  return info;
}

#define GS_GRID_2D(i, j, rows, cols)                                                                  \
  for (int64_t i = blockIdx.y; i < (rows); i += gridDim.y)                                           \
    for (int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; j < (cols); j += int64_t{gridDim.x} * blockDim.x)

inline dim3 grid_2d(int64_t rows, int64_t cols) {
  return dim3(detail::grid_for(cols), static_cast<unsigned>(rows < 65535 ? (rows > 0 ? rows : 1) : 65535));
}

// src: row-major [m, n] (row stride lds), T; dst: column-major [m, n] (ld m), double.
// Grid: y over rows i, x over columns j (reads coalesced).
template <class T>
__global__ void to_col_major_kernel(int64_t m, int64_t n, const T* __restrict__ src, int64_t lds,
                                    double* __restrict__ dst) {
  GS_GRID_2D(i, j, m, n) dst[i + j * m] = static_cast<double>(src[i * lds + j]);
}

// src: row-major [m, n] (row stride lds), T; dst: the same matrix row-major, double, packed (ld n).
template <class T>
__global__ void to_double_rows_kernel(int64_t m, int64_t n, const T* __restrict__ src, int64_t lds,
                                      double* __restrict__ dst) {
  GS_GRID_2D(i, j, m, n) dst[i * n + j] = static_cast<double>(src[i * lds + j]);
}

// src: column-major [m, k] (ld m), double; dst: row-major [m, k], T. Grid: y over columns c,
// x over rows i (reads coalesced).
template <class T>
__global__ void from_col_major_kernel(int64_t m, int64_t k, const double* __restrict__ src, T* __restrict__ dst) {
  GS_GRID_2D(c, i, k, m) dst[i * k + c] = static_cast<T>(src[i + c * m]);
}

// qr: the geqrf output, column-major [m, n] (ld m); R (upper trapezoid of its first k rows)
// written row-major [k, n]: R[i * n + j] = i <= j ? qr[i + j * m] : 0. Grid: y over i, x over j.
__global__ void extract_r_kernel(int64_t m, int64_t n, int64_t k, const double* __restrict__ qr,
                                 double* __restrict__ R) {
  GS_GRID_2D(i, j, k, n) R[i * n + j] = i <= j ? qr[i + j * m] : 0.0;
}

// coeffs[i * n + j] = sv[i] * Ut[j + i * n] for i < r: S_r V^T[:r, :] with V^T = Ut^T, where Ut is
// gesvd's left factor of R^T, column-major [n, k] (ld n). coeffs: row-major [r, n].
__global__ void scaled_vt_kernel(int64_t r, int64_t n, const double* __restrict__ sv, const double* __restrict__ Ut,
                                 double* __restrict__ coeffs) {
  GS_GRID_2D(i, j, r, n) coeffs[i * n + j] = sv[i] * Ut[j + i * n];
}

// x: [n] double -> y: [n] T.
template <class T>
__global__ void convert_kernel(int64_t n, const double* __restrict__ x, T* __restrict__ y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    y[i] = static_cast<T>(x[i]);
}

// out[i] = sum_j X[i, j]^2 in double. X: [rows, cols] (row stride ld); out: [rows]. One block per
// row, fixed tree (deterministic).
template <class T>
__global__ void row_sumsq_kernel(int64_t rows, int64_t cols, const T* __restrict__ X, int64_t ld,
                                 double* __restrict__ out) {
  for (int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const T* x = X + i * ld;
    double s = 0;
    for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += static_cast<double>(x[j]) * x[j];
    s = detail::block_reduce(s, detail::SumOp{});
    if (threadIdx.x == 0) out[i] = s;
  }
}

#undef GS_GRID_2D

}  // namespace

template <class T>
int64_t orthonormal_basis(int64_t m, int64_t n, const T* A, double rel_tol, T* Q, double* coeffs, double* sv) {
  const char* op = "orthonormal_basis";
  const int64_t k = m < n ? m : n;
  if (k == 0) return 0;
  check_int(op, {m, n});
  cudaStream_t st = detail::stream(op);
  cusolverDnHandle_t h = detail::cusolver(op);
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);

  detail::DeviceBuffer a(op, static_cast<size_t>(m * n) * sizeof(double));  // col-major [m, n], ld m
  detail::DeviceBuffer tau(op, static_cast<size_t>(k) * sizeof(double));
  detail::DeviceBuffer dinfo(op, sizeof(int));
  double* pa = a.as<double>();
  to_col_major_kernel<T><<<grid_2d(m, n), detail::kThreads, 0, st>>>(m, n, A, n, pa);
  GS_CUDA_CHECK_LAUNCH(op, "to_col_major_kernel");

  // 1. Householder QR: A = Q1 R.
  int lwork = 0;
  GS_CUSOLVER_CHECK(op, cusolverDnDgeqrf_bufferSize(h, mi, ni, pa, mi, &lwork));
  {
    detail::DeviceBuffer work(op, static_cast<size_t>(lwork > 0 ? lwork : 1) * sizeof(double));
    GS_CUSOLVER_CHECK(op, cusolverDnDgeqrf(h, mi, ni, pa, mi, tau.as<double>(), work.as<double>(), lwork,
                                           dinfo.as<int>()));
  }
  if (const int info = read_info(op, dinfo.as<int>(), st); info != 0) return solver_error(info);

  // 2. R row-major [k, n] into coeffs (it is the answer when r == k); its copy Rt, read
  //    column-major, is R^T [n, k] (ld n), which gesvd factorizes (and destroys).
  extract_r_kernel<<<grid_2d(k, n), detail::kThreads, 0, st>>>(m, n, k, pa, coeffs);
  GS_CUDA_CHECK_LAUNCH(op, "extract_r_kernel");
  detail::DeviceBuffer Rt(op, static_cast<size_t>(k * n) * sizeof(double));
  detail::DeviceBuffer Ut(op, static_cast<size_t>(n * k) * sizeof(double));   // col-major [n, k]
  detail::DeviceBuffer VTt(op, static_cast<size_t>(k * k) * sizeof(double));  // col-major [k, k]
  GS_CUDA_CHECK(op, cudaMemcpyAsync(Rt.get(), coeffs, static_cast<size_t>(k * n) * sizeof(double),
                                    cudaMemcpyDeviceToDevice, st));
  GS_CUSOLVER_CHECK(op, cusolverDnDgesvd_bufferSize(h, ni, ki, &lwork));
  {
    detail::DeviceBuffer work(op, static_cast<size_t>(lwork > 0 ? lwork : 1) * sizeof(double));
    GS_CUSOLVER_CHECK(op, cusolverDnDgesvd(h, 'S', 'S', ni, ki, Rt.as<double>(), ni, sv, Ut.as<double>(), ni,
                                           VTt.as<double>(), ki, work.as<double>(), lwork, nullptr, dinfo.as<int>()));
  }
  if (const int info = read_info(op, dinfo.as<int>(), st); info != 0) return solver_error(info);

  // 3. Numerical rank from the singular values (descending).
  std::vector<double> s(static_cast<size_t>(k));
  GS_CUDA_CHECK(op, cudaMemcpyAsync(s.data(), sv, static_cast<size_t>(k) * sizeof(double), cudaMemcpyDeviceToHost, st));
  GS_CUDA_CHECK(op, cudaStreamSynchronize(st));
  int64_t r = 0;
  if (s[0] > 0)
    while (r < k && s[r] > rel_tol * s[0]) ++r;
  if (r == 0) return 0;

  // 4. Q1 [m, k] in place of the reflectors.
  GS_CUSOLVER_CHECK(op, cusolverDnDorgqr_bufferSize(h, mi, ki, ki, pa, mi, tau.as<double>(), &lwork));
  {
    detail::DeviceBuffer work(op, static_cast<size_t>(lwork > 0 ? lwork : 1) * sizeof(double));
    GS_CUSOLVER_CHECK(op, cusolverDnDorgqr(h, mi, ki, ki, pa, mi, tau.as<double>(), work.as<double>(), lwork,
                                           dinfo.as<int>()));
  }
  if (const int info = read_info(op, dinfo.as<int>(), st); info != 0) return solver_error(info);

  if (r == k) {  // Q = Q1, coeffs = R (already written)
    from_col_major_kernel<T><<<grid_2d(k, m), detail::kThreads, 0, st>>>(m, k, pa, Q);
    GS_CUDA_CHECK_LAUNCH(op, "from_col_major_kernel");
    return r;
  }
  // 5. Q = Q1 U[:, :r] with U = VTt^T, computed transposed so it lands row-major:
  //    Q^T [r, m] (col-major, ld r) = VTt[:r, :] (col-major rows of VTt, ld k) * Q1^T.
  cublasHandle_t hb = detail::cublas(op);  // float64 product: the TF32 switch does not apply
  const double one = 1.0, zero = 0.0;
  const int ri = static_cast<int>(r);
  if constexpr (std::is_same_v<T, double>) {
    GS_CUBLAS_CHECK(op, cublasDgemm(hb, CUBLAS_OP_N, CUBLAS_OP_T, ri, mi, ki, &one, VTt.as<double>(), ki, pa, mi,
                                    &zero, Q, ri));
  } else {
    detail::DeviceBuffer q(op, static_cast<size_t>(m * r) * sizeof(double));
    GS_CUBLAS_CHECK(op, cublasDgemm(hb, CUBLAS_OP_N, CUBLAS_OP_T, ri, mi, ki, &one, VTt.as<double>(), ki, pa, mi,
                                    &zero, q.as<double>(), ri));
    convert_kernel<T><<<detail::grid_for(m * r), detail::kThreads, 0, st>>>(m * r, q.as<double>(), Q);
    GS_CUDA_CHECK_LAUNCH(op, "convert_kernel");
  }
  // coeffs = S_r V^T[:r, :] with V^T = Ut^T.
  scaled_vt_kernel<<<grid_2d(r, n), detail::kThreads, 0, st>>>(r, n, sv, Ut.as<double>(), coeffs);
  GS_CUDA_CHECK_LAUNCH(op, "scaled_vt_kernel");
  return r;
}

template <class T>
int64_t svd_values(int64_t m, int64_t n, const T* A, int64_t lda, double* s) {
  const char* op = "svd_values";
  const int64_t k = m < n ? m : n;
  if (k == 0) return 0;
  check_int(op, {m, n});
  cudaStream_t st = detail::stream(op);
  cusolverDnHandle_t h = detail::cusolver(op);
  // gesvd needs rows >= cols: factorize A itself (column-major [m, n]) when m >= n, else A^T,
  // which is the packed row-major storage of A read column-major ([n, m], ld n).
  const bool tall = m >= n;
  const int64_t rows = tall ? m : n, cols = tall ? n : m;
  detail::DeviceBuffer a(op, static_cast<size_t>(m * n) * sizeof(double));
  if (tall) {
    to_col_major_kernel<T><<<grid_2d(m, n), detail::kThreads, 0, st>>>(m, n, A, lda, a.as<double>());
    GS_CUDA_CHECK_LAUNCH(op, "to_col_major_kernel");
  } else {
    to_double_rows_kernel<T><<<grid_2d(m, n), detail::kThreads, 0, st>>>(m, n, A, lda, a.as<double>());
    GS_CUDA_CHECK_LAUNCH(op, "to_double_rows_kernel");
  }
  const int ri = static_cast<int>(rows), ci = static_cast<int>(cols);
  int lwork = 0;
  GS_CUSOLVER_CHECK(op, cusolverDnDgesvd_bufferSize(h, ri, ci, &lwork));
  detail::DeviceBuffer work(op, static_cast<size_t>(lwork > 0 ? lwork : 1) * sizeof(double));
  detail::DeviceBuffer dinfo(op, sizeof(int));
  GS_CUSOLVER_CHECK(op, cusolverDnDgesvd(h, 'N', 'N', ri, ci, a.as<double>(), ri, s, nullptr, ri, nullptr, ci,
                                         work.as<double>(), lwork, nullptr, dinfo.as<int>()));
  const int info = read_info(op, dinfo.as<int>(), st);
  return info == 0 ? 0 : solver_error(info);
}

template <class T>
void row_sumsq(int64_t rows, int64_t cols, const T* X, int64_t ld, double* out) {
  if (rows <= 0) return;
  cudaStream_t st = detail::stream("row_sumsq");
  row_sumsq_kernel<T><<<detail::row_blocks(rows), detail::row_threads(cols), 0, st>>>(rows, cols, X, ld, out);
  GS_CUDA_CHECK_LAUNCH("row_sumsq", "row_sumsq_kernel");
}

GS_LINALG_LAPACK_INSTANTIATE

}  // namespace gs::cuda
