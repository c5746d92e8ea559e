#pragma once
// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
// read and written without Python:
//
//   6 bytes   magic "\x93NUMPY"
//   2 bytes   format version major, minor: 1.0 (u16 header length), 2.0 / 3.0 (u32 header length;
//             3.0 only allows a UTF-8 header)
//   header    a Python dict literal, space-padded and ending in '\n':
//               {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   data      prod(shape) elements of descr, C (row-major) order
//
// load_npy reads descr '<f4' (float32), '<f8' (float64), '<i8' (int64) and '<i4' (int32, widened
// to int64); every other dtype ('|u1', '<i2', '<f2', '|b1', '|O', structured dtypes, ...) and every
// big-endian one ('>f4') is rejected naming it, as is fortran_order True. '=' and '|' byte orders
// count as little-endian where NumPy writes them for these dtypes. A 0-d array loads as a
// scalar tensor (shape []), an empty one with its zero-size shape. Every error is a gs::Error
// starting with the path: "<path>: cannot open: ...", "<path>: not a .npy file (bad magic ...)",
// "<path>: bad .npy header: ...", "<path>: truncated: ... holds N bytes of data, shape [...] of
// <f4 needs M", "<path>: ... extra bytes after the data".
//
// save_npy writes format 1.0 (2.0 when the header would not fit), C order, descr '<f4', '<f8' or
// '<i8' by the tensor's dtype, from any device and any strides. Atomic: the bytes go to a temp
// file beside the target that is renamed over it, so a failure leaves the previous file alone.
#include <string>

#include "tensor/tensor.h"

namespace gs::nn {

Tensor load_npy(const std::string& path);
void save_npy(const std::string& path, const Tensor& t);

}  // namespace gs::nn
