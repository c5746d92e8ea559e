#pragma once
// Differentiable concat / split / where / masked_fill.
#include <vector>

#include "tensor/tensor.h"

namespace gs {

// Joins along dim; each input receives its slice of the gradient.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// Pieces of the given sizes along dim, each a differentiable narrow() view of x.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
// cond != 0 ? a : b, broadcast together (cond any dtype, not differentiated).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// value where mask != 0, x elsewhere; mask broadcasts to x's shape. No gradient at filled places.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace gs
