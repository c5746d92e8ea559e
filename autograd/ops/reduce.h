#pragma once
// Differentiable reductions. dims: empty means all dims; negative dims count from the end.
#include <vector>

#include "tensor/tensor.h"

namespace gs {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Max values over one dim; the gradient goes to the first maximum of each slice (NaN, when
// present, is the maximum). Indices without a graph: op::argmax / op::max_with_indices.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);

}  // namespace gs
