#include "ops_cpu/linalg_lapack.h"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "ops_cpu/gemm.h"
#include "ops_cpu/threads.h"

namespace gs::cpu {
namespace {

constexpr int64_t kBlock = 64;  // tile edge of the transposing copies

int64_t lapack_error(lapack_int info) { return -1000 - std::abs(static_cast<int64_t>(info)); }

// dst col-major [m, n] (ld m), float64  <-  src row-major [m, n] (row stride lds).
template <class T>
void to_col_major(int64_t m, int64_t n, const T* src, int64_t lds, double* dst) {
  const int64_t mb = (m + kBlock - 1) / kBlock;
#pragma omp parallel for if (m * n > kParallelGrain)
  for (int64_t b = 0; b < mb; ++b) {
    const int64_t i0 = b * kBlock, i1 = std::min(m, i0 + kBlock);
    for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const int64_t j1 = std::min(n, j0 + kBlock);
      for (int64_t j = j0; j < j1; ++j)
        for (int64_t i = i0; i < i1; ++i) dst[i + j * m] = static_cast<double>(src[i * lds + j]);
    }
  }
}

// dst row-major [m, n] (T)  <-  src col-major [m, n] (ld lds), float64.
template <class T>
void from_col_major(int64_t m, int64_t n, const double* src, int64_t lds, T* dst) {
  const int64_t mb = (m + kBlock - 1) / kBlock;
#pragma omp parallel for if (m * n > kParallelGrain)
  for (int64_t b = 0; b < mb; ++b) {
    const int64_t i0 = b * kBlock, i1 = std::min(m, i0 + kBlock);
    for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
      const int64_t j1 = std::min(n, j0 + kBlock);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) dst[i * n + j] = static_cast<T>(src[i + j * lds]);
    }
  }
}

}  // namespace

template <class T>
int64_t orthonormal_basis(int64_t m, int64_t n, const T* A, double rel_tol, T* Q, double* coeffs, double* sv) {
  const int64_t k = std::min(m, n);
  if (k == 0) return 0;
  std::vector<double> a(static_cast<size_t>(m * n));
  to_col_major(m, n, A, n, a.data());
  std::vector<double> tau(static_cast<size_t>(k));
  lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(n), a.data(),
                                   static_cast<lapack_int>(m), tau.data());
  if (info != 0) return lapack_error(info);

  // R: the upper trapezoid of the first k rows, col-major [k, n] (ld k).
  std::vector<double> R(static_cast<size_t>(k * n), 0.0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i <= std::min(j, k - 1); ++i) R[i + j * k] = a[i + j * m];

  // SVD of R (destroys its copy): U [k, k], S [k], VT [k, n], all col-major.
  std::vector<double> Rs = R, U(static_cast<size_t>(k * k)), VT(static_cast<size_t>(k * n));
  info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', static_cast<lapack_int>(k), static_cast<lapack_int>(n), Rs.data(),
                        static_cast<lapack_int>(k), sv, U.data(), static_cast<lapack_int>(k), VT.data(),
                        static_cast<lapack_int>(k));
  if (info != 0) return lapack_error(info);
  int64_t r = 0;
  if (sv[0] > 0)
    while (r < k && sv[r] > rel_tol * sv[0]) ++r;
  if (r == 0) return 0;

  // Q1 [m, k] in place of the reflectors.
  info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, static_cast<lapack_int>(m), static_cast<lapack_int>(k),
                        static_cast<lapack_int>(k), a.data(), static_cast<lapack_int>(m), tau.data());
  if (info != 0) return lapack_error(info);

  if (r == k) {
    from_col_major(m, k, a.data(), m, Q);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < n; ++j) coeffs[i * n + j] = R[i + j * k];
    return r;
  }
  // Q = Q1 U[:, :r], by blocks of rows so that only a block-sized float64 buffer is needed.
  // Row-major view: Q1's col-major storage is Q1^T stored row-major [k, m] (ld m), and U's is
  // U^T stored row-major [k, k] whose first r rows are U[:, :r]^T; so Q_blk = op(A) op(B) with
  // both operands transposed.
  constexpr int64_t kRows = 1024;
  std::vector<double> blk(static_cast<size_t>(std::min(m, kRows) * r));
  for (int64_t i0 = 0; i0 < m; i0 += kRows) {
    const int64_t b = std::min(kRows, m - i0);
    gemm<double>(true, true, b, r, k, 1.0, a.data() + i0, m, U.data(), k, 0.0, blk.data(), r);
    for (int64_t e = 0; e < b * r; ++e) Q[i0 * r + e] = static_cast<T>(blk[e]);
  }
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < n; ++j) coeffs[i * n + j] = sv[i] * VT[i + j * k];
  return r;
}

template <class T>
int64_t svd_values(int64_t m, int64_t n, const T* A, int64_t lda, double* s) {
  const int64_t k = std::min(m, n);
  if (k == 0) return 0;
  // The row-major [m, n] storage read column-major is A^T [n, m]: same singular values.
  std::vector<double> a(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) a[i * n + j] = static_cast<double>(A[i * lda + j]);
  const lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', static_cast<lapack_int>(n), static_cast<lapack_int>(m),
                                         a.data(), static_cast<lapack_int>(n), s, nullptr, 1, nullptr, 1);
  return info == 0 ? 0 : lapack_error(info);
}

int64_t sym_eigenvalues(int64_t n, double* A, int64_t lda, double* w) {
  if (n == 0) return 0;
  // 'N': values only, so dsyevd needs 2n + 1 doubles and one integer of workspace (LAPACKE
  // queries and allocates them).
  const lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', static_cast<lapack_int>(n), A,
                                         static_cast<lapack_int>(lda), w);
  if (info != 0) return lapack_error(info);
  std::reverse(w, w + n);  // LAPACK gives them ascending
  return 0;
}

void syrk_upper(bool trans, int64_t n, int64_t k, const double* A, int64_t lda, double* C, int64_t ldc) {
  if (n == 0 || k == 0) return;
  // Row-major Upper: C[i, j] for i <= j.
  cblas_dsyrk(CblasRowMajor, CblasUpper, trans ? CblasTrans : CblasNoTrans, static_cast<blasint>(n),
              static_cast<blasint>(k), 1.0, A, static_cast<blasint>(std::max<int64_t>(lda, 1)), 1.0, C,
              static_cast<blasint>(ldc));
}

template <class T>
void row_sumsq(int64_t rows, int64_t cols, const T* X, int64_t ld, double* out) {
#pragma omp parallel for if (rows * cols > kParallelGrain)
  for (int64_t i = 0; i < rows; ++i) {
    const T* x = X + i * ld;
    // four partial sums: independent dependency chains the compiler can keep in registers
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) {
      const double a = x[j], b = x[j + 1], c = x[j + 2], d = x[j + 3];
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; j < cols; ++j) s0 += static_cast<double>(x[j]) * x[j];
    out[i] = (s0 + s1) + (s2 + s3);
  }
}

GS_LINALG_LAPACK_INSTANTIATE

}  // namespace gs::cpu
