#include "tensor/tensor.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "tensor/convert.h"
#include "tensor/dispatch.h"

namespace gs {

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim("size", d, dim())]; }

bool Tensor::is_contiguous() const {
  const auto& s = shape();
  const auto& st = strides();
  int64_t expected = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == 1) continue;  // a size-1 dim's stride never matters
    if (st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const auto& im = checked();
  return static_cast<char*>(im.storage->data()) + im.offset * static_cast<int64_t>(dtype_size(im.dtype));
}

template <class T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>())
    fail("data", "tensor holds ", dtype_name(dtype()), ", requested ", dtype_name(dtype_of<T>()));
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = op::contiguous(op::to(op::to(*this, Device::CPU), dtype_of<T>()));
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

template <class T>
T Tensor::item() const {
  if (numel() != 1) fail("item", "tensor of shape ", shape_str(shape()), " has ", numel(), " elements, not 1");
  return to_vector<T>()[0];
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;

namespace {
// edge_items < 0: every element; otherwise a dim longer than 2 * edge_items shows its first and
// last edge_items entries around "...".
void print_rec(std::ostream& os, const std::vector<double>& v, const Shape& s, size_t d, int64_t base,
               int64_t edge_items, bool is_int, int indent) {
  if (d == s.size()) {
    if (is_int) os << static_cast<int64_t>(v[base]);
    else os << std::setprecision(6) << v[base];
    return;
  }
  int64_t inner = 1;
  for (size_t k = d + 1; k < s.size(); ++k) inner *= s[k];
  os << "[";
  const int64_t n = s[d];
  const bool cut = edge_items >= 0 && n > 2 * edge_items;
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == edge_items) {
      os << (d + 1 == s.size() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - edge_items;
    }
    print_rec(os, v, s, d + 1, base + i * inner, edge_items, is_int, indent + 1);
    if (i + 1 < n) os << (d + 1 == s.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << "]";
}
}  // namespace

std::string Tensor::to_string(int64_t threshold, int64_t edge_items) const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  const int64_t edges = numel() > threshold ? std::max<int64_t>(edge_items, 1) : -1;
  print_rec(os, to_vector<double>(), shape(), 0, 0, edges, dtype() == DType::Int64, 7);
  os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
  if (device() != Device::CPU) os << ", device=" << device_name(device());
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace gs
