#include "nn/init.h"

#include <cmath>

#include "tensor/creation.h"

namespace gs::nn::init {
namespace {
void fans(const char* op, const Shape& s, double& fan_in, double& fan_out) {
  if (s.size() < 2) fail(op, "needs at least 2 dims [out, in], got ", shape_str(s));
  fan_in = static_cast<double>(s[s.size() - 1]);
  fan_out = static_cast<double>(s[s.size() - 2]);
}
}  // namespace

Tensor normal(const Shape& shape, double std, Generator& gen, DType dtype) { return randn(shape, gen, dtype, 0.0, std); }

Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain, DType dtype) {
  double fi, fo;
  fans("xavier_uniform", shape, fi, fo);
  const double a = gain * std::sqrt(6.0 / (fi + fo));
  return uniform(shape, gen, -a, a, dtype);
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, double gain, DType dtype) {
  double fi, fo;
  fans("kaiming_uniform", shape, fi, fo);
  const double b = gain * std::sqrt(3.0 / fi);
  return uniform(shape, gen, -b, b, dtype);
}

}  // namespace gs::nn::init
