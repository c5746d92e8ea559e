#include "tensor/loss.h"

#include <vector>

#include "ops_cpu/cross_entropy.h"
#include "ops_cuda/cross_entropy.h"
#include "tensor/convert.h"
#include "tensor/creation.h"
#include "tensor/dispatch.h"
#include "tensor/reduce.h"

namespace gs::op {
namespace {

constexpr const char* kOp = "cross_entropy";

// Checks logits and targets; returns the number of valid (not ignored) rows. The target scan
// reads the targets on the host (a copy of N integers for CUDA tensors): kernels cannot report
// an out-of-range index, so it has to happen here.
int64_t check_inputs(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  if (logits.dim() != 2) fail(kOp, "logits must be 2-d [N, V], got ", shape_str(logits.shape()));
  if (!is_floating(logits.dtype())) fail(kOp, "logits must be float32 or float64, got ", dtype_name(logits.dtype()));
  if (targets.dtype() != kInt64) fail(kOp, "targets must be int64, got ", dtype_name(targets.dtype()));
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  if (targets.shape() != Shape{N})
    fail(kOp, "targets must be [N] = [", N, "] for logits ", shape_str(logits.shape()), ", got ",
         shape_str(targets.shape()));
  if (logits.device() != targets.device())
    fail(kOp, "logits on ", device_name(logits.device()), " but targets on ", device_name(targets.device()));
  if (V == 0 && N > 0) fail(kOp, "logits ", shape_str(logits.shape()), " have no classes (V = 0)");
  const std::vector<int64_t> t = targets.to_vector<int64_t>();
  int64_t valid = 0;
  for (int64_t i = 0; i < N; ++i) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= V) fail(kOp, "target ", t[i], " out of range for V = ", V, " (row ", i, ")");
    ++valid;
  }
  return valid;
}

}  // namespace

CrossEntropyResult cross_entropy_forward(const Tensor& logits_in, const Tensor& targets_in, int64_t ignore_index) {
  const int64_t n_valid = check_inputs(logits_in, targets_in, ignore_index);
  Tensor logits = contiguous(logits_in), targets = contiguous(targets_in);
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  Tensor loss_rows = empty({N}, logits.dtype(), logits.device());
  Tensor lse = empty({N}, logits.dtype(), logits.device());
  detail::dispatch_float(kOp, logits.dtype(), [&]<class T>() {
    if (N == 0) return;
    if (logits.device() == Device::CPU)
      cpu::cross_entropy_forward<T>(N, V, logits.data<T>(), targets.data<int64_t>(), ignore_index,
                                    loss_rows.data<T>(), lse.data<T>());
    else
      detail::cuda_call([&] {
        cuda::cross_entropy_forward<T>(N, V, logits.data<T>(), targets.data<int64_t>(), ignore_index,
                                       loss_rows.data<T>(), lse.data<T>());
      });
  });
  return {sum(loss_rows), lse, n_valid};
}

Tensor cross_entropy_backward(const Tensor& logits_in, const Tensor& targets_in, const Tensor& lse_in, double scale,
                              int64_t ignore_index) {
  check_inputs(logits_in, targets_in, ignore_index);
  const int64_t N = logits_in.shape()[0], V = logits_in.shape()[1];
  if (lse_in.shape() != Shape{N} || lse_in.dtype() != logits_in.dtype() || lse_in.device() != logits_in.device())
    fail(kOp, "backward: lse must be [", N, "] ", dtype_name(logits_in.dtype()), " on ",
         device_name(logits_in.device()), ", got ", shape_str(lse_in.shape()), " ", dtype_name(lse_in.dtype()),
         " on ", device_name(lse_in.device()));
  Tensor logits = contiguous(logits_in), targets = contiguous(targets_in), lse = contiguous(lse_in);
  Tensor grad = empty({N, V}, logits.dtype(), logits.device());
  detail::dispatch_float(kOp, logits.dtype(), [&]<class T>() {
    if (N == 0) return;
    const T s = static_cast<T>(scale);
    if (logits.device() == Device::CPU)
      cpu::cross_entropy_backward<T>(N, V, logits.data<T>(), targets.data<int64_t>(), lse.data<T>(), ignore_index, s,
                                     grad.data<T>());
    else
      detail::cuda_call([&] {
        cuda::cross_entropy_backward<T>(N, V, logits.data<T>(), targets.data<int64_t>(), lse.data<T>(), ignore_index,
                                        s, grad.data<T>());
      });
  });
  return grad;
}

CrossEntropyResult cross_entropy_fused_(const Tensor& logits, const Tensor& targets_in, double scale,
                                        int64_t ignore_index) {
  const int64_t n_valid = check_inputs(logits, targets_in, ignore_index);
  if (!logits.is_contiguous())
    fail(kOp, "the in-place form needs contiguous logits, got ", shape_str(logits.shape()), " with strides ",
         shape_str(logits.strides()));
  const Tensor targets = contiguous(targets_in);
  const int64_t N = logits.shape()[0], V = logits.shape()[1];
  Tensor loss_rows = empty({N}, logits.dtype(), logits.device());
  Tensor lse = empty({N}, logits.dtype(), logits.device());
  detail::dispatch_float(kOp, logits.dtype(), [&]<class T>() {
    if (N == 0) return;
    const T s = static_cast<T>(scale);
    T* x = logits.data<T>();
    const int64_t* t = targets.data<int64_t>();
    if (logits.device() == Device::CPU) {
      cpu::cross_entropy_fused<T>(N, V, x, t, ignore_index, s, loss_rows.data<T>(), lse.data<T>());
    } else {
      detail::cuda_call([&] {
        cuda::cross_entropy_forward<T>(N, V, x, t, ignore_index, loss_rows.data<T>(), lse.data<T>());
        cuda::cross_entropy_backward<T>(N, V, x, t, lse.data<T>(), ignore_index, s, x);
      });
    }
  });
  return {sum(loss_rows), lse, n_valid};
}

}  // namespace gs::op
