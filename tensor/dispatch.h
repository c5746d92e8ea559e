#pragma once
// Dispatch helpers used by every tensor op: switch on dtype once, and route CUDA calls so that
// backend failures (including the stub's "no CUDA implementation") surface as gs::Error.
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "tensor/dtype.h"
#include "tensor/error.h"

namespace gs::detail {

// f.template operator()<T>() with T = float / double (int64 rejected naming the op).
template <class F>
decltype(auto) dispatch_float(std::string_view op, DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: fail(op, "expected a floating-point tensor, got ", dtype_name(t));
  }
}

// Same, also accepting int64.
template <class F>
decltype(auto) dispatch_all(DType t, F&& f) {
  switch (t) {
    case DType::Float32: return f.template operator()<float>();
    case DType::Float64: return f.template operator()<double>();
    default: return f.template operator()<int64_t>();
  }
}

// Runs a gs::cuda:: call; std::runtime_error from the backend becomes gs::Error.
template <class F>
decltype(auto) cuda_call(F&& f) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw Error(e.what());
  }
}

}  // namespace gs::detail
