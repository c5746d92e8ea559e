#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace gs {

enum class DType : uint8_t { Float32, Float64, Int64 };
enum class Device : uint8_t { CPU, CUDA };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kInt64 = DType::Int64;

constexpr size_t dtype_size(DType t) { return t == DType::Float32 ? 4 : 8; }
constexpr bool is_floating(DType t) { return t != DType::Int64; }
constexpr std::string_view dtype_name(DType t) {
  return t == DType::Float32 ? "float32" : t == DType::Float64 ? "float64" : "int64";
}
constexpr std::string_view device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::Float32;
  else if constexpr (std::is_same_v<T, double>) return DType::Float64;
  else {
    static_assert(std::is_same_v<T, int64_t>, "gradscope tensors hold float, double or int64_t");
    return DType::Int64;
  }
}

}  // namespace gs
