#pragma once
// Internal helper for kernels: walks a row-major index space of ndim dims and calls
// body(offsets...) once per innermost row, where each offset is the element offset of that
// row's first element in one operand. Shapes: shape[ndim]; strides[k][ndim] per operand.
#include <array>
#include <cstdint>

namespace gs::cpu::detail {

template <int K, class Body>
void for_each_row(int ndim, const int64_t* shape, const std::array<const int64_t*, K>& strides,
                  Body&& body) {
  // ndim == 0: a single scalar "row" of length 1.
  if (ndim == 0) {
    std::array<int64_t, K> off{};
    body(off, int64_t{1});
    return;
  }
  const int64_t inner = shape[ndim - 1];
  int64_t rows = 1;
  for (int d = 0; d < ndim - 1; ++d) rows *= shape[d];
  if (inner == 0 || rows == 0) return;
  int64_t idx[16] = {0};
  std::array<int64_t, K> off{};
  for (int64_t r = 0; r < rows; ++r) {
    body(off, inner);
    // increment the multi-index over dims [0, ndim-1), updating every operand's offset
    for (int d = ndim - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        for (int k = 0; k < K; ++k) off[k] += strides[k][d];
        break;
      }
      for (int k = 0; k < K; ++k) off[k] -= strides[k][d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace gs::cpu::detail
