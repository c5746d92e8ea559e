// Views and layout changes: each vjp maps the gradient back onto the input's layout; each jvp
// applies the same view to the tangent.
#include "autograd/ops/shape.h"

#include "autograd/function.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs {
namespace {

// Gradient of a view that picks a sub-block of x: zeros shaped like x with g written through
// the same view.
template <class ViewFn>
Tensor scatter_into_zeros(const Tensor& g, const Shape& in_shape, ViewFn view) {
  Tensor z = zeros(in_shape, g.dtype(), g.device());
  op::copy_(view(z), g);
  return z;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Tensor y = op::reshape(x, shape);
  return record(
      "reshape", y, {x}, [s = x.shape()](const Tensor& g) { return grads(op::reshape(g, s)); },
      [&](const std::vector<Tensor>& t) { return op::reshape(t[0], y.shape()); });
}

Tensor flatten(const Tensor& x) { return reshape(x, {x.numel()}); }

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  return record(
      "transpose", op::transpose(x, d0, d1), {x}, [d0, d1](const Tensor& g) { return grads(op::transpose(g, d0, d1)); },
      [&](const std::vector<Tensor>& t) { return op::transpose(t[0], d0, d1); });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor y = op::permute(x, dims);  // validates dims
  std::vector<int64_t> inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[dims[i] < 0 ? dims[i] + x.dim() : dims[i]] = static_cast<int64_t>(i);
  return record(
      "permute", y, {x}, [inv](const Tensor& g) { return grads(op::permute(g, inv)); },
      [&](const std::vector<Tensor>& t) { return op::permute(t[0], dims); });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  return record(
      "narrow", op::narrow(x, dim, start, length), {x},
      [s = x.shape(), dim, start, length](const Tensor& g) {
        return grads(scatter_into_zeros(g, s, [&](const Tensor& z) { return op::narrow(z, dim, start, length); }));
      },
      [&](const std::vector<Tensor>& t) { return op::narrow(t[0], dim, start, length); });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return record(
      "slice", op::slice(x, dim, start, end, step), {x},
      [s = x.shape(), dim, start, end, step](const Tensor& g) {
        return grads(scatter_into_zeros(g, s, [&](const Tensor& z) { return op::slice(z, dim, start, end, step); }));
      },
      [&](const std::vector<Tensor>& t) { return op::slice(t[0], dim, start, end, step); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  Tensor y = op::expand(x, shape);
  return record(
      "expand", y, {x}, [s = x.shape()](const Tensor& g) { return grads(op::sum_to(g, s)); },
      [&](const std::vector<Tensor>& t) { return op::expand(t[0], y.shape()); });
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  return record(
      "squeeze", op::squeeze(x, dim), {x}, [s = x.shape()](const Tensor& g) { return grads(op::reshape(g, s)); },
      [&](const std::vector<Tensor>& t) { return op::squeeze(t[0], dim); });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  return record(
      "unsqueeze", op::unsqueeze(x, dim), {x}, [s = x.shape()](const Tensor& g) { return grads(op::reshape(g, s)); },
      [&](const std::vector<Tensor>& t) { return op::unsqueeze(t[0], dim); });
}

Tensor contiguous(const Tensor& x) {
  return record(
      "contiguous", op::contiguous(x), {x}, [](const Tensor& g) { return grads(g); },
      [](const std::vector<Tensor>& t) { return op::contiguous(t[0]); });
}

Tensor to(const Tensor& x, DType dtype) {
  return record(
      "to_dtype", op::to(x, dtype), {x}, [from = x.dtype()](const Tensor& g) { return grads(op::to(g, from)); },
      // an integer result has no tangent (zero): rounding a tangent would not be a derivative
      [&](const std::vector<Tensor>& t) { return is_floating(dtype) ? op::to(t[0], dtype) : Tensor(); });
}

}  // namespace gs
