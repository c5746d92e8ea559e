#pragma once
// Layer norm and RMS norm over the last dimension. All arrays are contiguous, row-major.
// x, y, gy, gx: [rows, D]; gamma, beta, ggamma, gbeta: [D] (gamma/beta may be nullptr = none);
// mean, rstd: [rows]. Statistics are computed in double for float inputs.
// T: float, double.
#include <cstdint>

namespace gs::cpu {

// mean[r] = mean(x[r, :]); rstd[r] = 1 / sqrt(var(x[r, :]) + eps)  (biased variance)
// y[r, j] = (x[r, j] - mean[r]) * rstd[r] * gamma[j] + beta[j]
template <class T>
void layer_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, const T* beta, T eps,
                        T* y, T* mean, T* rstd);

// xhat = (x - mean) * rstd, g = gy * gamma (gamma == nullptr: g = gy)
// gx[r, :] = rstd[r] * (g - mean(g) - xhat * mean(g * xhat))            (always written)
// ggamma[j] = sum_r gy[r, j] * xhat[r, j]; gbeta[j] = sum_r gy[r, j]     (written, not accumulated;
// skipped when nullptr). The sums over rows run in row order: results do not depend on threads.
template <class T>
void layer_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* mean,
                         const T* rstd, const T* gamma, T* gx, T* ggamma, T* gbeta);

// rstd[r] = 1 / sqrt(mean(x[r, :]^2) + eps); y[r, j] = x[r, j] * rstd[r] * gamma[j]
template <class T>
void rms_norm_forward(int64_t rows, int64_t D, const T* x, const T* gamma, T eps, T* y, T* rstd);

// xhat = x * rstd, g = gy * gamma (gamma == nullptr: g = gy)
// gx[r, :] = rstd[r] * (g - xhat * mean(g * xhat)); ggamma[j] = sum_r gy[r, j] * xhat[r, j]
// (ggamma written, skipped when nullptr; row order as in layer_norm_backward).
template <class T>
void rms_norm_backward(int64_t rows, int64_t D, const T* gy, const T* x, const T* rstd,
                       const T* gamma, T* gx, T* ggamma);

}  // namespace gs::cpu
