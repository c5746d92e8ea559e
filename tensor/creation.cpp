#include "tensor/creation.h"

#include <algorithm>
#include <cmath>

#include "ops_cpu/copy.h"
#include "ops_cuda/copy.h"
#include "tensor/convert.h"
#include "tensor/dispatch.h"

namespace gs {

Tensor empty(const Shape& shape, DType dtype, Device device) {
  // The product of the dimensions (zeros counted as 1, as the strides count them) must fit in
  // int64, even for a tensor with no elements: the strides are computed from it.
  int64_t extent = 1, nbytes = 0;
  bool has_zero = false;
  for (int64_t d : shape) {
    if (d < 0) fail("empty", "negative dimension in shape ", shape_str(shape));
    has_zero = has_zero || d == 0;
    if (__builtin_mul_overflow(extent, std::max<int64_t>(d, 1), &extent))
      fail("empty", "shape ", shape_str(shape), " is too large: the product of its dimensions exceeds 2^63");
  }
  const int64_t numel = has_zero ? 0 : extent;
  // a wrapped byte count would allocate a small block for a huge tensor
  if (__builtin_mul_overflow(numel, static_cast<int64_t>(dtype_size(dtype)), &nbytes))
    fail("empty", "shape ", shape_str(shape), " of ", dtype_name(dtype), " needs more than 2^63 bytes");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = detail::cuda_call([&] { return Storage::allocate(nbytes, device); });
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  detail::dispatch_all(dtype, [&]<class T>() {
    if (device == Device::CPU) cpu::fill<T>(t.numel(), static_cast<T>(value), t.data<T>());
    // a kernel queued on the stream: no host copy and no wait (scalars of every `x * 0.5`)
    else detail::cuda_call([&] { cuda::fill<T>(t.numel(), static_cast<T>(value), t.data<T>()); });
  });
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }

Tensor arange(double start, double end, double step, DType dtype) {
  if (step == 0) fail("arange", "step must be nonzero");
  const double span = (end - start) / step;
  const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
  Tensor t = empty({n}, dtype);
  detail::dispatch_all(dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + static_cast<double>(i) * step);
  });
  return t;
}

Tensor arange(int64_t n, DType dtype) { return arange(0.0, static_cast<double>(n), 1.0, dtype); }

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  if (numel_of(shape) != static_cast<int64_t>(values.size()))
    fail("from_vector", values.size(), " values do not fill shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);

Tensor tensor(std::initializer_list<double> values, DType dtype) {
  return op::to(from_vector(std::vector<double>(values)), dtype);
}

Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, DType dtype) {
  std::vector<double> flat;
  const int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& r : rows) {
    if (static_cast<int64_t>(r.size()) != cols)
      fail("tensor", "ragged nested initializer list: rows of ", cols, " and ", r.size(), " values");
    flat.insert(flat.end(), r.begin(), r.end());
  }
  return op::to(from_vector(flat, {static_cast<int64_t>(rows.size()), cols}), dtype);
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype, double mean, double std) {
  Tensor t = empty(shape, dtype);
  detail::dispatch_float("randn", dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(mean + std * gen.normal());
  });
  return t;
}

Tensor uniform(const Shape& shape, Generator& gen, double low, double high, DType dtype) {
  Tensor t = empty(shape, dtype);
  detail::dispatch_float("uniform", dtype, [&]<class T>() {
    T* p = t.data<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(low + (high - low) * gen.uniform());
  });
  return t;
}

Tensor randint(const Shape& shape, int64_t high, Generator& gen) {
  if (high <= 0) fail("randint", "high must be positive, got ", high);
  Tensor t = empty(shape, kInt64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = gen.randint(high);
  return t;
}

}  // namespace gs
