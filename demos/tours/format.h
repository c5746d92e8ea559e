#pragma once
// Number formatting shared by the autodiff tours: small tensors printed with their nesting
// visible, so a [2, 3] gradient reads as two rows of three and never as six numbers in a row.
#include <string>

#include "tensor/tensor.h"

namespace gs::tours {

// 5 significant digits, nested brackets by shape ("0.5" for a 0-d tensor, "[[1], [-3]]" for a
// [2, 1] one), negative zero printed as 0; "(none)" for an undefined tensor.
std::string values(const Tensor& t);
// "W [2, 3] = [[0.2, -0.4, 0.1], [0.7, 0.3, -0.5]]": a label, the shape, the values.
std::string shaped(const std::string& label, const Tensor& t);
// Row-major flat index j of `shape` as a multi-index: "[1, 2]" (or "" for a 0-d shape).
std::string index_of(int64_t j, const Shape& shape);

}  // namespace gs::tours
