#include "tensor/reduce.h"

#include <algorithm>

#include "ops_cpu/reduce.h"
#include "ops_cuda/reduce.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

namespace gs::op {
namespace {

std::vector<bool> reduced_mask(const char* op, const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<bool> red(x.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(op, d, x.dim());
    if (red[w]) fail(op, "dim ", d, " repeated");
    red[w] = true;
  }
  return red;
}

Shape reduced_shape(const Tensor& x, const std::vector<bool>& red, bool keepdim) {
  Shape s;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (!red[d]) s.push_back(x.shape()[d]);
    else if (keepdim) s.push_back(1);
  }
  return s;
}

}  // namespace

Tensor sum(const Tensor& x_in, const std::vector<int64_t>& dims, bool keepdim) {
  const std::vector<bool> red = reduced_mask("sum", x_in, dims);
  const Shape out_shape = reduced_shape(x_in, red, keepdim);
  // Reduced dims form one consecutive block [first, last] -> [outer, mid, inner] without a permute.
  int64_t first = -1, last = -1;
  for (int64_t d = 0; d < x_in.dim(); ++d)
    if (red[d]) {
      if (first < 0) first = d;
      last = d;
    }
  Tensor x = x_in;
  bool block = true;
  for (int64_t d = first; d >= 0 && d <= last; ++d) block = block && red[d];
  if (!block) {
    std::vector<int64_t> perm;
    for (int64_t d = 0; d < x.dim(); ++d)
      if (!red[d]) perm.push_back(d);
    for (int64_t d = 0; d < x.dim(); ++d)
      if (red[d]) perm.push_back(d);
    x = permute(x, perm);
    first = x.dim() - static_cast<int64_t>(std::count(red.begin(), red.end(), true));
    last = x.dim() - 1;
  }
  x = contiguous(x);
  int64_t outer = 1, mid = 1, inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (first >= 0 && d < first) outer *= x.shape()[d];
    else if (first >= 0 && d <= last) mid *= x.shape()[d];
    else if (first >= 0) inner *= x.shape()[d];
    else outer *= x.shape()[d];  // nothing reduced (0-d input)
  }
  Tensor out = empty(out_shape, x.dtype(), x.device());
  detail::dispatch_all(x.dtype(), [&]<class T>() {
    if (x.device() == Device::CPU) {
      if (inner == 1) cpu::sum_rows<T>(outer, mid, x.data<T>(), out.data<T>());
      else cpu::sum_middle<T>(outer, mid, inner, x.data<T>(), out.data<T>());
    } else {
      detail::cuda_call([&] { cuda::sum_middle<T>(outer, mid, inner, x.data<T>(), out.data<T>()); });
    }
  });
  return out;
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  if (!is_floating(x.dtype())) fail("mean", "expected a floating-point tensor, got ", dtype_name(x.dtype()));
  const std::vector<bool> red = reduced_mask("mean", x, dims);
  int64_t count = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (red[d]) count *= x.shape()[d];
  if (count == 0) fail("mean", "mean over an empty set of elements in ", shape_str(x.shape()));
  return div(sum(x, dims, keepdim), static_cast<double>(count));
}

MaxResult max_with_indices(const Tensor& x_in, int64_t dim, bool keepdim) {
  dim = wrap_dim("max", dim, x_in.dim());
  if (x_in.shape()[dim] == 0) fail("max", "reduction over an empty dim ", dim, " of ", shape_str(x_in.shape()));
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < x_in.dim(); ++d)
    if (d != dim) perm.push_back(d);
  perm.push_back(dim);
  Tensor x = contiguous(permute(x_in, perm));
  const int64_t inner = x_in.shape()[dim], outer = x.numel() / inner;
  std::vector<bool> red(x_in.dim(), false);
  red[dim] = true;
  const Shape out_shape = reduced_shape(x_in, red, keepdim);
  MaxResult r{empty(out_shape, x.dtype(), x.device()), empty(out_shape, kInt64, x.device())};
  detail::dispatch_all(x.dtype(), [&]<class T>() {
    if (x.device() == Device::CPU)
      cpu::max_rows<T>(outer, inner, x.data<T>(), r.values.data<T>(), r.indices.data<int64_t>());
    else
      detail::cuda_call(
          [&] { cuda::max_rows<T>(outer, inner, x.data<T>(), r.values.data<T>(), r.indices.data<int64_t>()); });
  });
  return r;
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) { return max_with_indices(x, dim, keepdim).values; }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return max_with_indices(x, dim, keepdim).indices; }

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  if (lead < 0) fail("sum_to", "shape ", shape_str(shape), " is not broadcastable to ", shape_str(x.shape()));
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const int64_t want = shape[d - lead], have = x.shape()[d];
    if (want == have) continue;
    if (want != 1) fail("sum_to", "shape ", shape_str(shape), " is not broadcastable to ", shape_str(x.shape()));
    dims.push_back(d);
  }
  if (dims.empty()) return reshape(x, shape);
  return reshape(sum(x, dims, true), shape);
}

}  // namespace gs::op
