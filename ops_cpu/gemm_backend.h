#pragma once
// Which library runs the CPU float32 matrix products (gemm and gemm_batched of ops_cpu/gemm.h).
//
//   openblas  cblas_sgemm (OpenBLAS, which the project is built on; LAPACK stays there).
//   onednn    dnnl_sgemm (oneDNN, when the build found it: GRADSCOPE_ONEDNN in CMakeLists.txt). Its
//             JIT picks the CPU's instruction set itself, where OpenBLAS 0.3.21 needs
//             OPENBLAS_CORETYPE on some virtual CPUs.
//
// float64 products always run on OpenBLAS: oneDNN has no double-precision gemm. The default is
// onednn where it is compiled in (faster at every shape measured: docs/PERFORMANCE.md, "GEMM
// backend"), openblas otherwise. The environment variable GRADSCOPE_GEMM=openblas|onednn, read at
// the first product, or set_gemm_backend() overrides it; asking for onednn in a build without it
// is an error, never a silent fallback.
#include <string>

namespace gs::cpu {

enum class GemmBackend { openblas, onednn };

// True when this build links oneDNN.
bool onednn_available();

// The backend float32 products use now (reads GRADSCOPE_GEMM on the first call; throws
// std::invalid_argument naming the variable when its value is not a backend of this build).
GemmBackend gemm_backend();

// Selects the backend; throws std::invalid_argument for onednn in a build without it.
void set_gemm_backend(GemmBackend b);

// "openblas" / "onednn", and back (parse throws std::invalid_argument naming `what` and the valid
// values).
const char* gemm_backend_name(GemmBackend b);
GemmBackend parse_gemm_backend(const std::string& name, const std::string& what = "gemm backend");

}  // namespace gs::cpu
