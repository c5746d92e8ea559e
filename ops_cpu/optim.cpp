#include "ops_cpu/optim.h"

#include <cmath>

#include "ops_cpu/threads.h"

namespace gs::cpu {

template <class T>
void adam_update(int64_t n, T* p, const T* g, T* m, T* v, const AdamCoeffs<T>& c) {
  parallel_blocks(n, kParallelGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T pi = p[i], gi = g[i];
      if (c.has_decay) {
        if (c.decoupled) pi = pi * c.decay;
        else gi = gi + pi * c.weight_decay;
      }
      const T mi = m[i] * c.beta1 + c.one_minus_beta1 * gi;
      const T vi = v[i] * c.beta2 + c.one_minus_beta2 * (gi * gi);
      m[i] = mi;
      v[i] = vi;
      p[i] = pi + c.neg_step * (mi / (std::sqrt(vi) / c.sqrt_bc2 + c.eps));
    }
  });
}

template void adam_update<float>(int64_t, float*, const float*, float*, float*, const AdamCoeffs<float>&);
template void adam_update<double>(int64_t, double*, const double*, double*, double*, const AdamCoeffs<double>&);

}  // namespace gs::cpu
