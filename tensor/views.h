#pragma once
// Views: new shape/strides/offset over the same Storage, no data copied.
// (reshape copies only when the strides cannot express the new shape; view() never copies.)
#include <vector>

#include "tensor/tensor.h"

namespace gs::op {

Tensor view(const Tensor& x, const Shape& shape);     // throws if not expressible without a copy
Tensor reshape(const Tensor& x, const Shape& shape);  // a view when possible, else a copy
Tensor flatten(const Tensor& x);                      // [numel]
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);   // NumPy rules; expanded dims get stride 0
Tensor squeeze(const Tensor& x, int64_t dim);         // dim must have size 1
Tensor squeeze(const Tensor& x);                      // all size-1 dims
Tensor unsqueeze(const Tensor& x, int64_t dim);       // dim in [-(n+1), n]

}  // namespace gs::op
