#pragma once
// Vectorised float32 building blocks for the kernels whose time goes into exp and tanh
// (softmax, log_softmax, cross-entropy, GELU). The library is built for generic x86-64 (SSE2),
// so each routine is compiled three times (AVX-512, AVX2, baseline) and the widest one the CPU
// supports is picked once at run time. Every variant runs the same IEEE operations in the same
// order (no FMA contraction under -std=c++20, explicit lane accumulators instead of reassociated
// sums), so results are bit-identical whichever variant runs.
//
// exp accuracy: within 2 ulp of the exact value for x in [-87.33, 88.72]; exp(x) = 0 below
// -87.33 (ln of the smallest normal float: no denormal results), +inf above 88.72 and for
// +inf, NaN for NaN. Double-precision kernels keep std::exp.
#include <cstdint>

namespace gs::cpu::vec {

// y[i] = exp(x[i]), i < n.
void exp(int64_t n, const float* x, float* y);

// max_i x[i] with a -inf start (NaN entries are skipped, as in `x > m ? x : m`).
float max(int64_t n, const float* x);

// sum_i exp(x[i] - shift), accumulated in double. When y is not null, also y[i] = exp(x[i] - shift)
// (y may alias x).
double sum_exp(int64_t n, const float* x, float shift, float* y);

// y[i] = exp(x[i] - shift) * scale (y may alias x).
void exp_scale(int64_t n, const float* x, float shift, float scale, float* y);

// GELU, tanh form: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), and its backward
// gx = gy * dy/dx: the scalar reference UnaryRef<Unary::gelu> (ops_common/unary_ref.h) with tanh(u)
// computed as 1 - 2 / (exp(2u) + 1), whose absolute error stays at a few float ulps of 1, which is
// what 1 + tanh(u) needs. tests/test_kernels_vec_math.cpp bounds the distance to the reference.
void gelu(int64_t n, const float* x, float* y);
void gelu_backward(int64_t n, const float* x, const float* gy, float* gx);

// Which variant runs here: "avx512", "avx2" or "baseline" (for benchmarks and reports).
const char* isa_name();

// Tests only: run the named variant from now on ("avx512", "avx2", "baseline"). Returns false,
// changing nothing, for an unknown name or one this CPU cannot run. Not thread-safe.
bool use_isa_for_testing(const char* name);

}  // namespace gs::cpu::vec
