#include "tensor/embedding.h"

#include "ops_cpu/embedding.h"
#include "ops_cuda/embedding.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"

namespace gs::op {
namespace {

// idx: int64, every entry in [0, V). Reads the indices on the host (a copy for CUDA tensors).
void check_indices(const char* op, const Tensor& idx, int64_t V) {
  if (idx.dtype() != kInt64)
    fail(op, "indices must be int64, got ", dtype_name(idx.dtype()), " ", shape_str(idx.shape()));
  const std::vector<int64_t> v = idx.to_vector<int64_t>();
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] < 0 || v[i] >= V) fail(op, "index ", v[i], " out of range for ", V, " rows (position ", i, ")");
}

}  // namespace

Tensor embedding(const Tensor& weight_in, const Tensor& idx_in) {
  const char* op = "embedding";
  if (weight_in.dim() != 2) fail(op, "weight must be 2-d [V, D], got ", shape_str(weight_in.shape()));
  if (weight_in.device() != idx_in.device())
    fail(op, "weight ", shape_str(weight_in.shape()), " on ", device_name(weight_in.device()), " but indices ",
         shape_str(idx_in.shape()), " on ", device_name(idx_in.device()));
  const int64_t V = weight_in.shape()[0], D = weight_in.shape()[1];
  check_indices(op, idx_in, V);
  Tensor weight = contiguous(weight_in), idx = contiguous(idx_in);
  Shape out_shape = idx.shape();
  out_shape.push_back(D);
  Tensor out = empty(out_shape, weight.dtype(), weight.device());
  detail::dispatch_float(op, weight.dtype(), [&]<class T>() {
    auto args = [&](auto fn) { fn(idx.numel(), V, D, weight.data<T>(), idx.data<int64_t>(), out.data<T>()); };
    if (weight.device() == Device::CPU) args(cpu::embedding_forward<T>);
    else detail::cuda_call([&] { args(cuda::embedding_forward<T>); });
  });
  return out;
}

Tensor embedding_backward(const Tensor& grad_in, const Tensor& idx_in, int64_t V) {
  const char* op = "embedding_backward";
  if (V < 0) fail(op, "number of rows must be non-negative, got ", V);
  if (grad_in.dim() != idx_in.dim() + 1 || !std::equal(idx_in.shape().begin(), idx_in.shape().end(), grad_in.shape().begin()))
    fail(op, "gradient shape ", shape_str(grad_in.shape()), " is not the index shape ", shape_str(idx_in.shape()),
         " plus one dim");
  if (grad_in.device() != idx_in.device())
    fail(op, "gradient ", shape_str(grad_in.shape()), " on ", device_name(grad_in.device()), " but indices ",
         shape_str(idx_in.shape()), " on ", device_name(idx_in.device()));
  check_indices(op, idx_in, V);
  Tensor grad = contiguous(grad_in), idx = contiguous(idx_in);
  const int64_t D = grad.shape().back();
  Tensor out = empty({V, D}, grad.dtype(), grad.device());
  detail::dispatch_float(op, grad.dtype(), [&]<class T>() {
    auto args = [&](auto fn) { fn(idx.numel(), V, D, grad.data<T>(), idx.data<int64_t>(), out.data<T>()); };
    if (grad.device() == Device::CPU) args(cpu::embedding_backward<T>);
    else detail::cuda_call([&] { args(cuda::embedding_backward<T>); });
  });
  return out;
}

}  // namespace gs::op
