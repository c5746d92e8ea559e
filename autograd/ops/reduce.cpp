// Reductions: forward, vjp and jvp side by side. A vjp broadcasts the reduced gradient back over
// the reduced dims (max: only onto the argmax); a jvp reduces the tangent the same way.
#include "autograd/ops/reduce.h"

#include "autograd/function.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/elementwise.h"
#include "tensor/reduce.h"
#include "tensor/views.h"

namespace gs {
namespace {

// g has the reduced shape (keepdim or not); returns the keepdim shape of x with 1 on reduced dims.
Shape keepdim_shape(const Shape& in, const std::vector<int64_t>& dims) {
  Shape s = in;
  if (dims.empty()) {
    for (auto& d : s) d = 1;
  } else {
    for (int64_t d : dims) s[wrap_dim("sum", d, static_cast<int64_t>(in.size()))] = 1;
  }
  return s;
}

// Gradient of a sum: g spread over the reduced dims, as a dense tensor of the input's shape.
Tensor spread(const Tensor& g, const Shape& in, const std::vector<int64_t>& dims) {
  return op::contiguous(op::expand(op::reshape(g, keepdim_shape(in, dims)), in));
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return record(
      "sum", op::sum(x, dims, keepdim), {x},
      [s = x.shape(), dims](const Tensor& g) { return grads(spread(g, s, dims)); },
      [&](const std::vector<Tensor>& t) { return op::sum(t[0], dims, keepdim); });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = op::mean(x, dims, keepdim);  // validates dims and rejects empty reductions
  const Shape ks = keepdim_shape(x.shape(), dims);
  double count = 1;  // elements per mean
  for (size_t d = 0; d < ks.size(); ++d)
    if (ks[d] == 1) count *= static_cast<double>(x.shape()[d]);
  return record(
      "mean", y, {x},
      [s = x.shape(), dims, count](const Tensor& g) { return grads(spread(op::div(g, count), s, dims)); },
      [&](const std::vector<Tensor>& t) { return op::mean(t[0], dims, keepdim); });
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  op::MaxResult r = op::max_with_indices(x, dim, true);  // keepdim indices for the vjp
  const int64_t d = wrap_dim("max", dim, x.dim());
  Tensor values = keepdim ? r.values : op::squeeze(r.values, d);
  // one-hot along d at the argmax: positions [1, .., n_d, .., 1] == idx [.., 1, ..]
  auto argmax_hit = [d](const Shape& s, const Tensor& idx) {
    Shape pos_shape(s.size(), 1);
    pos_shape[d] = s[d];
    Tensor pos = op::to(op::reshape(arange(s[d]), pos_shape), idx.device());
    return op::eq(pos, idx);
  };
  return record(
      "max", values, {x},
      [s = x.shape(), d, idx = r.indices, argmax_hit](const Tensor& g) {
        Tensor gk = op::reshape(g, idx.shape());
        return grads(op::where(argmax_hit(s, idx), gk, scalar(0, g.dtype(), g.device())));
      },
      // the tangent at each slice's argmax: the same one-hot, summed over d
      [&](const std::vector<Tensor>& t) {
        Tensor picked = op::where(argmax_hit(x.shape(), r.indices), t[0], scalar(0, t[0].dtype(), t[0].device()));
        return op::sum(picked, {d}, keepdim);
      });
}

}  // namespace gs
