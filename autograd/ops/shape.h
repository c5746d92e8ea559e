#pragma once
// Differentiable views and layout changes. Views share storage with their input.
#include <vector>

#include "tensor/tensor.h"

namespace gs {

Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor contiguous(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);  // gradient converted back to x's dtype

}  // namespace gs
