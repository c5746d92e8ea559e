#include "tensor/index.h"

#include "ops_cpu/index.h"
#include "ops_cuda/index.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/elementwise.h"
#include "tensor/views.h"

namespace gs::op {

Tensor concat(const std::vector<Tensor>& xs, int64_t dim_in) {
  const char* op = "concat";
  if (xs.empty()) fail(op, "needs at least one tensor");
  const Tensor& first = xs[0];
  if (first.dim() == 0) fail(op, "cannot concatenate scalars");
  const int64_t dim = wrap_dim(op, dim_in, first.dim());
  Shape out_shape = first.shape();
  out_shape[dim] = 0;
  for (const Tensor& t : xs) {
    if (t.dtype() != first.dtype())
      fail(op, "dtype mismatch: ", dtype_name(first.dtype()), " ", shape_str(first.shape()), " and ",
           dtype_name(t.dtype()), " ", shape_str(t.shape()));
    if (t.device() != first.device())
      fail(op, "tensors on different devices: ", device_name(first.device()), " ", shape_str(first.shape()), " and ",
           device_name(t.device()), " ", shape_str(t.shape()));
    bool ok = t.dim() == first.dim();
    for (int64_t d = 0; ok && d < t.dim(); ++d)
      if (d != dim && t.shape()[d] != first.shape()[d]) ok = false;
    if (!ok) fail(op, "shapes ", shape_str(first.shape()), " and ", shape_str(t.shape()), " differ outside dim ", dim);
    out_shape[dim] += t.shape()[dim];
  }
  Tensor out = empty(out_shape, first.dtype(), first.device());
  if (out.numel() == 0) return out;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= out_shape[d];
  for (int64_t d = dim + 1; d < first.dim(); ++d) inner *= out_shape[d];
  const int64_t total = out_shape[dim];
  int64_t offset = 0;
  for (const Tensor& t_in : xs) {
    const int64_t len = t_in.shape()[dim];
    if (len == 0) continue;
    Tensor t = contiguous(t_in);
    detail::dispatch_all(t.dtype(), [&]<class T>() {
      if (t.device() == Device::CPU) cpu::concat_into<T>(outer, inner, len, total, offset, t.data<T>(), out.data<T>());
      else detail::cuda_call([&] { cuda::concat_into<T>(outer, inner, len, total, offset, t.data<T>(), out.data<T>()); });
    });
    offset += len;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim_in) {
  const char* op = "split";
  if (x.dim() == 0) fail(op, "cannot split a scalar");
  const int64_t dim = wrap_dim(op, dim_in, x.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) fail(op, "negative size ", s, " for ", shape_str(x.shape()));
    total += s;
  }
  if (total != x.shape()[dim])
    fail(op, "sizes ", shape_str(sizes), " sum to ", total, " but dim ", dim, " of ", shape_str(x.shape()), " has size ",
         x.shape()[dim]);
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, dim, start, s));
    start += s;
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  const char* op = "masked_fill";
  if (broadcast_shapes(op, x.shape(), mask.shape()) != x.shape())
    fail(op, "mask shape ", shape_str(mask.shape()), " is not broadcastable to input ", shape_str(x.shape()));
  if (mask.device() != x.device())
    fail(op, "mask ", shape_str(mask.shape()), " on ", device_name(mask.device()), " but input ", shape_str(x.shape()),
         " on ", device_name(x.device()));
  return where(mask, scalar(value, x.dtype(), x.device()), x);
}

}  // namespace gs::op
