#pragma once
// CUDA mirror of ops_cpu/elementwise.h (same enums, same signatures; pointers are device pointers).
// Elementwise kernels. Outputs are contiguous; inputs of binary/ternary kernels are strided so
// the tensor layer can pass broadcast operands (stride 0) without materialising them.
#include <cstdint>

namespace gs::cuda {

enum class Unary { neg, exp, log, sqrt, tanh, sigmoid, relu, gelu, silu, abs };
enum class Binary { add, sub, mul, div, pow, maximum, minimum, eq, lt, gt };

// y[i] = f(x[i]), x, y: [n] contiguous. T: float, double.
template <class T>
void unary(Unary op, int64_t n, const T* x, T* y);

// gx[i] = gy[i] * f'(x[i]) for op in {tanh, sigmoid, relu, gelu, silu, exp, log, sqrt, abs, neg}.
// y = f(x) is passed as well because some derivatives are cheapest from the output.
// x, y, gy, gx: [n] contiguous.
template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx);

// out[i] = a[i] (op) b[i] over the row-major index space `shape` (ndim <= 16); a and b are read
// through their own element strides (0 on broadcast dims); out is contiguous.
// Comparisons (eq, lt, gt) write 1 or 0. T: float, double, int64_t (pow: float/double only).
template <class T>
void binary(Binary op, int ndim, const int64_t* shape, const T* a, const int64_t* a_strides,
            const T* b, const int64_t* b_strides, T* out);

// out[i] = cond[i] != 0 ? a[i] : b[i], all three strided as in binary(). Cond has its own type.
template <class C, class T>
void where(int ndim, const int64_t* shape, const C* cond, const int64_t* c_strides, const T* a,
           const int64_t* a_strides, const T* b, const int64_t* b_strides, T* out);

// y[i] += alpha * x[i] (in-place accumulation used for gradient sums and optimisers). [n].
template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y);

}  // namespace gs::cuda
