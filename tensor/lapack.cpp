#include "tensor/lapack.h"

#include <cfloat>
#include <cmath>

#include "ops_cpu/gemm.h"
#include "ops_cpu/linalg_lapack.h"
#include "ops_cuda/gemm.h"
#include "ops_cuda/linalg_lapack.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs::op {
namespace {

void check_matrix(const char* op, const Tensor& A) {
  if (A.dim() != 2) fail(op, "expected a 2-d matrix, got ", shape_str(A.shape()));
  if (!is_floating(A.dtype())) fail(op, "expected a floating-point matrix, got ", dtype_name(A.dtype()));
}

void check_solver(const char* op, const Tensor& A, int64_t code) {
  if (code < 0) fail(op, A.device() == Device::CPU ? "LAPACK" : "cuSOLVER", " failed (code ", code, ")");
}

// NaN or Inf anywhere in A makes sum(A * 0) NaN; finite entries give exactly 0 whatever their
// size (a sum of squares would overflow for float64 entries above ~1e154). Checked before
// factorizing: LAPACKE refuses NaN input with a bare code, and cuSOLVER would return NaN factors
// or fail to converge; either way the user should see this message. One scalar comes back.
void check_finite(const char* op, const Tensor& A) {
  const double z = sum(mul(A, zeros({1}, A.dtype(), A.device()))).item<double>();
  if (!std::isfinite(z)) fail(op, "A ", shape_str(A.shape()), " has NaN or Inf entries");
}

}  // namespace

// CPU tensors: LAPACK on the host (ops_cpu/linalg_lapack.h). CUDA tensors: cuSOLVER on the
// device (ops_cuda/linalg_lapack.h), the same four steps; only the rank, the singular values and
// the small coeffs [rank, n] come back to the host.
OrthonormalBasis orthonormal_basis(const Tensor& A_in, double rel_tol) {
  const char* op = "orthonormal_basis";
  check_matrix(op, A_in);
  check_finite(op, A_in);
  const Device dev = A_in.device();
  const Tensor A = contiguous(A_in);
  const int64_t m = A.shape()[0], n = A.shape()[1], k = std::min(m, n);
  OrthonormalBasis out;
  out.rel_tol = rel_tol >= 0 ? rel_tol : static_cast<double>(std::max(m, n)) * DBL_EPSILON;
  Tensor qbuf = empty({m, k}, A.dtype(), dev);
  Tensor coeffs = zeros({k, n}, kFloat64, dev);
  Tensor sv = zeros({k}, kFloat64, dev);
  detail::dispatch_float(op, A.dtype(), [&]<class T>() {
    int64_t r = 0;
    if (dev == Device::CPU) {
      r = cpu::orthonormal_basis<T>(m, n, A.data<T>(), out.rel_tol, qbuf.data<T>(), coeffs.data<double>(),
                                    sv.data<double>());
    } else {
      r = detail::cuda_call([&] {
        return cuda::orthonormal_basis<T>(m, n, A.data<T>(), out.rel_tol, qbuf.data<T>(), coeffs.data<double>(),
                                          sv.data<double>());
      });
    }
    check_solver(op, A, r);
    out.rank = r;
  });
  out.singular_values = to(sv, Device::CPU).to_vector<double>();
  const int64_t r = out.rank;
  out.Q = r == k ? qbuf : view(narrow(flatten(qbuf), 0, 0, m * r), {m, r});
  out.coeffs = to(narrow(coeffs, 0, 0, r), Device::CPU);
  return out;
}

std::vector<double> svd_values(const Tensor& A_in) {
  const char* op = "svd_values";
  check_matrix(op, A_in);
  check_finite(op, A_in);
  const Device dev = A_in.device();
  const Tensor A = contiguous(A_in);
  const int64_t m = A.shape()[0], n = A.shape()[1];
  Tensor s = zeros({std::min(m, n)}, kFloat64, dev);
  detail::dispatch_float(op, A.dtype(), [&]<class T>() {
    if (dev == Device::CPU) {
      check_solver(op, A, cpu::svd_values<T>(m, n, A.data<T>(), n, s.data<double>()));
    } else {
      check_solver(op, A, detail::cuda_call([&] { return cuda::svd_values<T>(m, n, A.data<T>(), n, s.data<double>()); }));
    }
  });
  return to(s, Device::CPU).to_vector<double>();
}

namespace {

// The eigenvalues of A, factorizing `work` (a contiguous float64 CPU tensor holding A, destroyed).
std::vector<double> sym_eigenvalues_host(const char* op, const Tensor& A, const Tensor& work) {
  const int64_t n = work.shape()[0];
  double* a = work.data<double>();
  // The finiteness check reads the host copy directly: no n x n temporary (check_finite would
  // make one), and LAPACKE would refuse a NaN with a bare code.
  for (int64_t e = 0; e < n * n; ++e)
    if (!std::isfinite(a[e])) fail(op, "A ", shape_str(A.shape()), " has NaN or Inf entries");
  std::vector<double> w(static_cast<size_t>(n));
  const int64_t code = cpu::sym_eigenvalues(n, a, n, w.data());
  if (code < 0) fail(op, "LAPACK failed (code ", code, ")");
  return w;
}

void check_square(const char* op, const Tensor& A) {
  check_matrix(op, A);
  if (A.shape()[0] != A.shape()[1]) fail(op, "expected a square matrix, got ", shape_str(A.shape()));
}

}  // namespace

std::vector<double> sym_eigenvalues(const Tensor& A) {
  const char* op = "sym_eigenvalues";
  check_square(op, A);
  // clone: a private contiguous copy even when A is already float64 on the CPU
  return sym_eigenvalues_host(op, A, clone(to(to(A, Device::CPU), kFloat64)));
}

std::vector<double> sym_eigenvalues_(const Tensor& A) {
  const char* op = "sym_eigenvalues";
  check_square(op, A);
  // to() and contiguous() return A itself when it is already a contiguous float64 CPU tensor
  return sym_eigenvalues_host(op, A, contiguous(to(to(A, Device::CPU), kFloat64)));
}

void syrk_(const Tensor& C, const Tensor& A_in, bool trans) {
  const char* op = "syrk_";
  if (C.dim() != 2 || C.shape()[0] != C.shape()[1] || C.dtype() != kFloat64 || !C.is_contiguous())
    fail(op, "C must be a contiguous float64 [n, n] matrix, got ", dtype_name(C.dtype()), " ", shape_str(C.shape()));
  const int64_t n = C.shape()[0];
  if (A_in.dim() != 2 || A_in.dtype() != kFloat64 || A_in.shape()[trans ? 1 : 0] != n)
    fail(op, "A ", dtype_name(A_in.dtype()), " ", shape_str(A_in.shape()), (trans ? "^T" : ""), " does not give C ",
         shape_str(C.shape()));
  if (A_in.device() != C.device()) fail(op, "operands on different devices");
  if (C.device() != Device::CPU) {
    addmm_(C, A_in, A_in, trans, !trans);  // cuBLAS: the full product
    return;
  }
  const Tensor A = contiguous(A_in);
  const int64_t k = A.shape()[trans ? 0 : 1];
  cpu::syrk_upper(trans, n, k, A.data<double>(), A.shape()[1], C.data<double>(), n);
}

Tensor row_sumsq(const Tensor& X_in) {
  const char* op = "row_sumsq";
  check_matrix(op, X_in);
  const int64_t rows = X_in.shape()[0], cols = X_in.shape()[1];
  Tensor out = empty({rows}, kFloat64, X_in.device());  // on X's device: no [rows, cols] copy to the host
  // rows read in place when the last dim is contiguous (a narrow() of rows or columns is fine)
  const bool direct = X_in.strides()[1] == 1 && (rows <= 1 || X_in.strides()[0] >= cols);
  const Tensor X = direct ? X_in : contiguous(X_in);
  const int64_t ld = direct ? std::max<int64_t>(X.strides()[0], cols) : cols;
  detail::dispatch_float(op, X.dtype(), [&]<class T>() {
    if (rows == 0) return;
    if (X.device() == Device::CPU) cpu::row_sumsq<T>(rows, cols, X.data<T>(), ld, out.data<double>());
    else detail::cuda_call([&] { cuda::row_sumsq<T>(rows, cols, X.data<T>(), ld, out.data<double>()); });
  });
  return out;
}

void addmm_(const Tensor& C, const Tensor& A_in, const Tensor& B_in, bool trans_a, bool trans_b, double alpha,
            double beta) {
  const char* op = "addmm_";
  if (C.dim() != 2 || A_in.dim() != 2 || B_in.dim() != 2)
    fail(op, "operands must be 2-d, got ", shape_str(C.shape()), ", ", shape_str(A_in.shape()), " and ",
         shape_str(B_in.shape()));
  if (A_in.dtype() != C.dtype() || B_in.dtype() != C.dtype())
    fail(op, "dtype mismatch: ", dtype_name(C.dtype()), ", ", dtype_name(A_in.dtype()), " and ",
         dtype_name(B_in.dtype()));
  if (A_in.device() != C.device() || B_in.device() != C.device()) fail(op, "operands on different devices");
  if (!C.is_contiguous()) fail(op, "the output must be contiguous");
  const int64_t M = C.shape()[0], N = C.shape()[1];
  const int64_t am = A_in.shape()[trans_a ? 1 : 0], K = A_in.shape()[trans_a ? 0 : 1];
  const int64_t bk = B_in.shape()[trans_b ? 1 : 0], bn = B_in.shape()[trans_b ? 0 : 1];
  if (am != M || bn != N || bk != K)
    fail(op, "shapes ", shape_str(A_in.shape()), (trans_a ? "^T" : ""), " and ", shape_str(B_in.shape()),
         (trans_b ? "^T" : ""), " do not give ", shape_str(C.shape()));
  if (M == 0 || N == 0) return;
  const Tensor A = contiguous(A_in), B = contiguous(B_in);
  const int64_t lda = A.shape()[1], ldb = B.shape()[1];
  detail::dispatch_float(op, C.dtype(), [&]<class T>() {
    const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
    if (C.device() == Device::CPU) {
      cpu::gemm<T>(trans_a, trans_b, M, N, K, a, A.data<T>(), std::max<int64_t>(lda, 1), B.data<T>(),
                   std::max<int64_t>(ldb, 1), b, C.data<T>(), N);
    } else {
      detail::cuda_call([&] {
        cuda::gemm<T>(trans_a, trans_b, M, N, K, a, A.data<T>(), std::max<int64_t>(lda, 1), B.data<T>(),
                      std::max<int64_t>(ldb, 1), b, C.data<T>(), N);
      });
    }
  });
}

}  // namespace gs::op
