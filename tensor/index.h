#pragma once
// Concatenation, split and masked fill. No graph: see autograd/ops/index.h.
#include <vector>

#include "tensor/tensor.h"

namespace gs::op {

// Joins tensors of one dtype and device that agree on every dim but `dim` (negative counts from
// the end). "concat: shapes [2, 3] and [3, 3] differ outside dim 1".
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
// Views of x (op::narrow) of the given sizes along dim; sizes must sum to x's size there.
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
// x where mask == 0, value where mask != 0. mask (any dtype) broadcasts to x's shape.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace gs::op
