#pragma once
// Copies and conversions: contiguous(), dtype and device moves, clone, in-place copy.
#include "tensor/tensor.h"

namespace gs::op {

// The tensor itself when already contiguous (no copy), else a packed row-major copy.
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);  // always a new contiguous buffer
Tensor to(const Tensor& x, DType dtype);    // same tensor when the dtype already matches
Tensor to(const Tensor& x, Device device);  // same tensor when already there
// A new TensorImpl over the same storage with no autograd metadata (what detach() returns).
Tensor alias(const Tensor& x);
// dst <- src elementwise (src broadcast to dst's shape, converted to dst's dtype). dst may be a
// view (e.g. a slice of a zero buffer in slice's vjp) but not an expanded one (stride 0).
// The only in-place write; used by optimisers and vjps that scatter into a view.
void copy_(const Tensor& dst, const Tensor& src);

}  // namespace gs::op
