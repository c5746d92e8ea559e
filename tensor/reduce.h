#pragma once
// Reductions over axes. No graph: see autograd/ops.h for the differentiable versions.
#include <vector>

#include "tensor/tensor.h"

namespace gs::op {

// Sum over `dims` (empty: all dims). keepdim keeps reduced dims as size 1.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Max over one dim (values) and the index of the first maximum (int64).
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// Both at once (one pass).
struct MaxResult {
  Tensor values, indices;
};
MaxResult max_with_indices(const Tensor& x, int64_t dim, bool keepdim = false);

// Sums a broadcast result back to `shape` (the one central undo of broadcasting, used by every
// vjp of a broadcasting op). "sum_to: shape [3] is not broadcastable to [2, 4]".
Tensor sum_to(const Tensor& x, const Shape& shape);

}  // namespace gs::op
