#pragma once
// Helpers of the CUDA-vs-CPU tests (test_cuda_parity.cpp: op families; test_cuda_model.cpp: the
// tiny models, the head metrics, allocator and device errors; test_cuda_cli.cpp: the CLI with
// --device cuda). Tolerances are explained at the top of test_cuda_parity.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "nn/lm.h"
#include "tensor/ops.h"

namespace gs::testing {

// True when a CUDA device can run the test; otherwise a visible warning and a pass.
inline bool cuda_or_skip() {
  if (cuda_available()) {
    if (cuda_emulated())
      WARN("CUDA emulated on the host (GRADSCOPE_CUDA=EMULATE): the CUDA kernels are not under test here, "
           "only the code around them");
    return true;
  }
  WARN("no CUDA device: test skipped ("
       << (cuda_built() ? "this build has the CUDA backend, but the machine has no usable device"
                        : "this build has no CUDA backend: configure with -DGRADSCOPE_CUDA=ON")
       << ")");
  SUCCEED("skipped: no CUDA device");
  return false;
}

struct Tol {
  double abs, rel;
};
constexpr Tol kExact{0, 0};
constexpr Tol kMath32{5e-6, 1e-5}, kMath64{1e-14, 1e-12};
constexpr Tol kSum32{1e-12, 1e-6}, kSum64{1e-14, 1e-12};

inline Tol pick(DType dt, Tol f32, Tol f64) { return dt == kFloat32 ? f32 : f64; }

inline bool same_special(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0));
}

// Element-wise |got - ref| <= abs + rel |ref|; got must live on the device and ref on the CPU
// (a silent host fallback would make the comparison vacuous).
inline void require_close(const Tensor& got, const Tensor& ref, Tol tol, const std::string& what) {
  INFO(what);
  REQUIRE(got.defined() == ref.defined());
  if (!ref.defined()) return;
  REQUIRE(got.device() == Device::CUDA);
  REQUIRE(ref.device() == Device::CPU);
  REQUIRE(shape_str(got.shape()) == shape_str(ref.shape()));
  REQUIRE(dtype_name(got.dtype()) == dtype_name(ref.dtype()));
  const std::vector<double> a = got.to_vector<double>(), b = ref.to_vector<double>();
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (same_special(a[i], b[i])) continue;
    if (!(std::abs(a[i] - b[i]) <= tol.abs + tol.rel * std::abs(b[i]))) {
      if (bad++ == 0) first = i;
    }
  }
  if (bad > 0)
    INFO(bad << " of " << a.size() << " elements outside |diff| <= " << tol.abs << " + " << tol.rel
              << " |cpu|; first at " << first << ": cuda " << a[first] << ", cpu " << b[first]);
  CHECK(bad == 0);
}

using Outs = std::vector<Tensor>;
using Fn = std::function<Outs(const std::vector<Tensor>&)>;

inline std::vector<Tensor> to_cuda(const std::vector<Tensor>& xs) {
  std::vector<Tensor> out;
  for (const Tensor& t : xs) out.push_back(t.defined() ? op::to(t, Device::CUDA) : Tensor());
  return out;
}

// f on the CPU inputs and on their device copies; every output compared.
inline void parity(const std::string& what, const std::vector<Tensor>& inputs, const Fn& f, Tol tol) {
  const Outs ref = f(inputs);
  const Outs got = f(to_cuda(inputs));
  REQUIRE(got.size() == ref.size());
  for (size_t i = 0; i < ref.size(); ++i) require_close(got[i], ref[i], tol, what + ", output " + std::to_string(i));
}

inline const DType kFloats[] = {kFloat32, kFloat64};

// A tiny language model of the given backbone (transformer | gru | ssm) for whole-model parity.
inline nn::LMConfig tiny_config(const std::string& backbone) {
  nn::LMConfig cfg;
  cfg.backbone = nn::parse_backbone(backbone);
  cfg.vocab = 37;
  cfg.d_model = 16;
  cfg.n_layer = 2;
  cfg.n_head = 2;
  cfg.context = 8;
  cfg.seed = 11;
  return cfg;
}

}  // namespace gs::testing
