#pragma once
// Contract of layer norm and RMS norm over the last dimension, shared by gs::cpu and gs::cuda
// (ops_common/contract.h explains the list). All arrays are contiguous, row-major.
// x, y, gy, gx: [rows, D]; gamma, beta, ggamma, gbeta: [D] (gamma/beta may be nullptr = none);
// mean, rstd: [rows]. Statistics are computed in double for float inputs. T: float, double.
//
// layer_norm_forward   mean[r] = mean(x[r, :]); rstd[r] = 1 / sqrt(var(x[r, :]) + eps) (biased
//                      variance); y[r, j] = (x[r, j] - mean[r]) * rstd[r] * gamma[j] + beta[j]
// layer_norm_backward  xhat = (x - mean) * rstd, g = gy * gamma (gamma == nullptr: g = gy)
//                      gx[r, :] = rstd[r] * (g - mean(g) - xhat * mean(g * xhat))   (always written)
//                      ggamma[j] = sum_r gy[r, j] * xhat[r, j]; gbeta[j] = sum_r gy[r, j] (written,
//                      not accumulated; skipped when nullptr). The sums over rows run in a fixed
//                      order: results do not depend on threads or scheduling.
// rms_norm_forward     rstd[r] = 1 / sqrt(mean(x[r, :]^2) + eps); y[r, j] = x[r, j] * rstd[r] * gamma[j]
// rms_norm_backward    xhat = x * rstd, g = gy * gamma (gamma == nullptr: g = gy)
//                      gx[r, :] = rstd[r] * (g - xhat * mean(g * xhat));
//                      ggamma[j] = sum_r gy[r, j] * xhat[r, j] (written, skipped when nullptr;
//                      fixed order as in layer_norm_backward).
#include <cstdint>

#include "ops_common/contract.h"

#define GS_NORM_KERNELS_OF(X, T)                                                                           \
  X((class T), void, layer_norm_forward, "layer_norm",                                                    \
    (int64_t rows, int64_t D, const T* x, const T* gamma, const T* beta, T eps, T* y, T* mean, T* rstd))   \
  X((class T), void, layer_norm_backward, "layer_norm_backward",                                          \
    (int64_t rows, int64_t D, const T* gy, const T* x, const T* mean, const T* rstd, const T* gamma, T* gx, \
     T* ggamma, T* gbeta))                                                                                 \
  X((class T), void, rms_norm_forward, "rms_norm",                                                        \
    (int64_t rows, int64_t D, const T* x, const T* gamma, T eps, T* y, T* rstd))                          \
  X((class T), void, rms_norm_backward, "rms_norm_backward",                                              \
    (int64_t rows, int64_t D, const T* gy, const T* x, const T* rstd, const T* gamma, T* gx, T* ggamma))

#define GS_NORM_KERNELS(X) GS_NORM_KERNELS_OF(X, T)
#define GS_NORM_INSTANTIATE_FOR(T) GS_NORM_KERNELS_OF(GS_KERNEL_INSTANTIATE, T)
#define GS_NORM_INSTANTIATE GS_FLOAT_TYPES(GS_NORM_INSTANTIATE_FOR)
