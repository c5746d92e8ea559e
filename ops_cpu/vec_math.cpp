#include "ops_cpu/vec_math.h"

#include <bit>
#include <cstdint>
#include <limits>
#include <string_view>

#include "ops_common/unary_ref.h"

namespace gs::cpu::vec {
namespace {

#define GS_INLINE inline __attribute__((always_inline))

// exp(x) by Cody-Waite range reduction: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by its
// Taylor polynomial to degree 7 (truncation error r^8/8! < 5.2e-9, below half an ulp), and
// 2^n built in the exponent bits. 2^n is applied as two factors 2^(n/2) 2^(n - n/2) so that
// n = 128 (x just below ln FLT_MAX) does not overflow the exponent field.
GS_INLINE float exp1(float x) {
  constexpr float kHi = 88.72283172607422f;   // largest float whose exp is finite
  constexpr float kLo = -87.33654022216797f;  // smallest float whose exp is a normal float
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // 9 significant bits: n * kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float xc = x < kLo ? kLo : (x > kHi ? kHi : x);  // NaN passes through unchanged
  const float fn = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - fn * kLn2Hi) - fn * kLn2Lo;
  float p = 1.0f / 5040.0f + r * (1.0f / 40320.0f);
  p = 1.0f / 720.0f + r * p;
  p = 1.0f / 120.0f + r * p;
  p = 1.0f / 24.0f + r * p;
  p = 1.0f / 6.0f + r * p;
  p = 0.5f + r * p;
  p = 1.0f + r * p;
  p = 1.0f + r * p;
  const int32_t n = static_cast<int32_t>(fn == fn ? fn : 0.0f);  // NaN would be UB to convert
  const int32_t n1 = n >> 1, n2 = n - n1;                        // both in [-63, 64]
  const float y = p * std::bit_cast<float>((n1 + 127) << 23) * std::bit_cast<float>((n2 + 127) << 23);
  return x < kLo ? 0.0f : (x > kHi ? std::numeric_limits<float>::infinity() : y);
}

// tanh(u) = 1 - 2 / (exp(2u) + 1): the vectorised exp1 instead of a libm call per element.
GS_INLINE float tanh1(float u) { return 1.0f - 2.0f / (exp1(2.0f * u) + 1.0f); }

// GELU's formula around tanh is the scalar reference's (ops_common/unary_ref.h), always inlined,
// so only t = tanh(u) differs from the scalar path: 0.5 x (1 + t) and its derivative, with
// u = k (x + c x^3), in the same order of operations.
using Gelu = kernel::UnaryRef<kernel::Unary::gelu>;

// ---- loop bodies, each compiled once per instruction set below ----------------------------

GS_INLINE void exp_body(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp1(x[i]);
}

// Lane-wise maxima: each lane is an independent `x > m ? x : m` chain, so the loop vectorises
// without reassociation and every instruction set gets the same answer.
constexpr int kLanes = 16;

GS_INLINE float max_body(int64_t n, const float* x) {
  float m[kLanes];
  for (int k = 0; k < kLanes; ++k) m[k] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
  for (int k = 0; i < n; ++i, ++k) m[k] = x[i] > m[k] ? x[i] : m[k];
  float r = m[0];
  for (int k = 1; k < kLanes; ++k) r = m[k] > r ? m[k] : r;
  return r;
}

// Exponentials go through a block buffer (or straight into y), then into kLanes double
// accumulators: the float exp loop and the double adds each vectorise on their own.
GS_INLINE double sum_exp_body(int64_t n, const float* x, float shift, float* y) {
  constexpr int64_t kBlock = 1024;
  float buf[kBlock];
  double acc[kLanes] = {};
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t len = n - b < kBlock ? n - b : kBlock;
    float* e = y ? y + b : buf;
    for (int64_t i = 0; i < len; ++i) e[i] = exp1(x[b + i] - shift);
    int64_t i = 0;
    for (; i + kLanes <= len; i += kLanes)
      for (int k = 0; k < kLanes; ++k) acc[k] += static_cast<double>(e[i + k]);
    for (int k = 0; i < len; ++i, ++k) acc[k] += static_cast<double>(e[i]);
  }
  double s = 0;
  for (int k = 0; k < kLanes; ++k) s += acc[k];
  return s;
}

GS_INLINE void exp_scale_body(int64_t n, const float* x, float shift, float scale, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp1(x[i] - shift) * scale;
}

GS_INLINE void gelu_body(int64_t n, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = Gelu::f_from_tanh(v, tanh1(Gelu::u(v)));
  }
}

GS_INLINE void gelu_backward_body(int64_t n, const float* x, const float* gy, float* gx) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    gx[i] = gy[i] * Gelu::df_from_tanh(v, tanh1(Gelu::u(v)));
  }
}

// ---- one copy per instruction set, chosen once ----------------------------------------------

enum class Isa { baseline, avx2, avx512 };

Isa detect() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2")) return Isa::avx2;
  return Isa::baseline;
}

Isa& chosen_isa() {
  static Isa chosen = detect();
  return chosen;
}

Isa isa() { return chosen_isa(); }

// GS_VARIANTS(ret, name, (params), (args)) defines name_avx512 / name_avx2 / name_baseline
// around name_body and a dispatching gs::cpu::vec::name.
#define GS_VARIANTS(RET, NAME, PARAMS, ARGS)                                                   \
  __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512")))       \
  RET NAME##_avx512 PARAMS { return NAME##_body ARGS; }                                        \
  __attribute__((target("avx2"))) RET NAME##_avx2 PARAMS { return NAME##_body ARGS; }          \
  RET NAME##_baseline PARAMS { return NAME##_body ARGS; }

GS_VARIANTS(void, exp, (int64_t n, const float* x, float* y), (n, x, y))
GS_VARIANTS(float, max, (int64_t n, const float* x), (n, x))
GS_VARIANTS(double, sum_exp, (int64_t n, const float* x, float shift, float* y), (n, x, shift, y))
GS_VARIANTS(void, exp_scale, (int64_t n, const float* x, float shift, float scale, float* y),
            (n, x, shift, scale, y))
GS_VARIANTS(void, gelu, (int64_t n, const float* x, float* y), (n, x, y))
GS_VARIANTS(void, gelu_backward, (int64_t n, const float* x, const float* gy, float* gx), (n, x, gy, gx))
#undef GS_VARIANTS

}  // namespace

#define GS_DISPATCH(NAME, ARGS)                         \
  switch (isa()) {                                      \
    case Isa::avx512: return NAME##_avx512 ARGS;        \
    case Isa::avx2: return NAME##_avx2 ARGS;            \
    case Isa::baseline: break;                          \
  }                                                     \
  return NAME##_baseline ARGS;

void exp(int64_t n, const float* x, float* y) { GS_DISPATCH(exp, (n, x, y)) }
float max(int64_t n, const float* x) { GS_DISPATCH(max, (n, x)) }
double sum_exp(int64_t n, const float* x, float shift, float* y) { GS_DISPATCH(sum_exp, (n, x, shift, y)) }
void exp_scale(int64_t n, const float* x, float shift, float scale, float* y) {
  GS_DISPATCH(exp_scale, (n, x, shift, scale, y))
}
void gelu(int64_t n, const float* x, float* y) { GS_DISPATCH(gelu, (n, x, y)) }
void gelu_backward(int64_t n, const float* x, const float* gy, float* gx) {
  GS_DISPATCH(gelu_backward, (n, x, gy, gx))
}
#undef GS_DISPATCH

bool use_isa_for_testing(const char* name) {
  const std::string_view n = name ? name : "";
  const Isa best = detect();
  Isa want;
  if (n == "avx512") want = Isa::avx512;
  else if (n == "avx2") want = Isa::avx2;
  else if (n == "baseline") want = Isa::baseline;
  else return false;
  if (static_cast<int>(want) > static_cast<int>(best)) return false;
  chosen_isa() = want;
  return true;
}

const char* isa_name() {
  switch (isa()) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::baseline: break;
  }
  return "baseline";
}

}  // namespace gs::cpu::vec
