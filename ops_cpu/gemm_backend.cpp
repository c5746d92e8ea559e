#include "ops_cpu/gemm_backend.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace gs::cpu {
namespace {

// -1: not chosen yet (the first gemm_backend() call reads GRADSCOPE_GEMM).
std::atomic<int> g_backend{-1};

GemmBackend default_backend() { return onednn_available() ? GemmBackend::onednn : GemmBackend::openblas; }

void check_available(GemmBackend b, const std::string& what) {
  if (b == GemmBackend::onednn && !onednn_available())
    throw std::invalid_argument(what + ": onednn is not compiled into this build (configure with "
                                       "-DGRADSCOPE_ONEDNN=ON after installing libdnnl-dev); use openblas");
}

}  // namespace

bool onednn_available() {
#ifdef GRADSCOPE_HAVE_ONEDNN
  return true;
#else
  return false;
#endif
}

const char* gemm_backend_name(GemmBackend b) { return b == GemmBackend::onednn ? "onednn" : "openblas"; }

GemmBackend parse_gemm_backend(const std::string& name, const std::string& what) {
  if (name == "openblas") return GemmBackend::openblas;
  if (name == "onednn") return GemmBackend::onednn;
  throw std::invalid_argument(what + ": '" + name + "' is not a gemm backend (valid: openblas, onednn)");
}

GemmBackend gemm_backend() {
  int b = g_backend.load(std::memory_order_relaxed);
  if (b >= 0) return static_cast<GemmBackend>(b);
  GemmBackend chosen = default_backend();
  if (const char* env = std::getenv("GRADSCOPE_GEMM"); env && *env) {
    chosen = parse_gemm_backend(env, "GRADSCOPE_GEMM");
    check_available(chosen, "GRADSCOPE_GEMM");
  }
  g_backend.store(static_cast<int>(chosen), std::memory_order_relaxed);
  return chosen;
}

void set_gemm_backend(GemmBackend b) {
  check_available(b, "set_gemm_backend");
  g_backend.store(static_cast<int>(b), std::memory_order_relaxed);
}

}  // namespace gs::cpu
