#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gs {

using Shape = std::vector<int64_t>;

// "[4, 3]"; "[]" for a scalar.
std::string shape_str(const Shape& s);
int64_t numel_of(const Shape& s);
// Row-major strides in elements.
Shape contiguous_strides(const Shape& s);
// NumPy broadcasting of two shapes; throws "<op>: shapes [..] and [..] cannot be broadcast".
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);
// Wraps a possibly negative dim into [0, ndim); throws "<op>: dim d out of range for a k-d tensor".
int64_t wrap_dim(std::string_view op, int64_t dim, int64_t ndim);

}  // namespace gs
