#include "ops_cpu/copy.h"

#include <cstring>
#include <limits>
#include <type_traits>

#include "ops_cpu/strided.h"
#include "ops_cpu/threads.h"

namespace gs::cpu {
namespace {

// One element converted; floating -> int64 as documented in copy.h (2^63 is exact in float and
// double, so the comparisons are exact).
template <class Dst, class Src>
Dst convert(Src x) {
  if constexpr (std::is_floating_point_v<Src> && std::is_integral_v<Dst>) {
    if (x != x) return 0;
    if (x >= static_cast<Src>(9223372036854775808.0)) return std::numeric_limits<Dst>::max();
    if (x < static_cast<Src>(-9223372036854775808.0)) return std::numeric_limits<Dst>::min();
  }
  return static_cast<Dst>(x);
}

}  // namespace

template <class Src, class Dst>
void strided_copy(int ndim, const int64_t* shape, const Src* src, const int64_t* src_strides, Dst* dst) {
  const int64_t inner_stride = ndim > 0 ? src_strides[ndim - 1] : 1;
  Dst* out = dst;
  detail::for_each_row<1>(ndim, shape, {src_strides}, [&](const auto& off, int64_t inner) {
    const Src* s = src + off[0];
    if constexpr (std::is_same_v<Src, Dst>) {
      if (inner_stride == 1) {
        std::memcpy(out, s, static_cast<size_t>(inner) * sizeof(Dst));
        out += inner;
        return;
      }
    }
    for (int64_t i = 0; i < inner; ++i) out[i] = convert<Dst>(s[i * inner_stride]);
    out += inner;
  });
}

template <class T>
void strided_scatter(int ndim, const int64_t* shape, const T* src, T* dst, const int64_t* dst_strides) {
  const int64_t inner_stride = ndim > 0 ? dst_strides[ndim - 1] : 1;
  const T* in = src;
  detail::for_each_row<1>(ndim, shape, {dst_strides}, [&](const auto& off, int64_t inner) {
    T* d = dst + off[0];
    for (int64_t i = 0; i < inner; ++i) d[i * inner_stride] = in[i];
    in += inner;
  });
}

template <class T>
void fill(int64_t n, T value, T* dst) {
#pragma omp parallel for if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) dst[i] = value;
}

#define GS_COPY(S, D) template void strided_copy<S, D>(int, const int64_t*, const S*, const int64_t*, D*);
#define GS_COPY_FROM(S) GS_COPY(S, float) GS_COPY(S, double) GS_COPY(S, int64_t)
GS_COPY_FROM(float)
GS_COPY_FROM(double)
GS_COPY_FROM(int64_t)
#undef GS_COPY_FROM
#undef GS_COPY
template void strided_scatter<float>(int, const int64_t*, const float*, float*, const int64_t*);
template void strided_scatter<double>(int, const int64_t*, const double*, double*, const int64_t*);
template void strided_scatter<int64_t>(int, const int64_t*, const int64_t*, int64_t*, const int64_t*);
GS_COPY_INSTANTIATE

}  // namespace gs::cpu
