#include "ops_cuda/elementwise.h"
#include "ops_cuda/stub_message.h"

namespace gs::cuda {

template <class T>
void unary(Unary, int64_t, const T*, T*) { detail::no_cuda("unary"); }
template <class T>
void unary_backward(Unary, int64_t, const T*, const T*, const T*, T*) { detail::no_cuda("unary_backward"); }
template <class T>
void binary(Binary, int, const int64_t*, const T*, const int64_t*, const T*, const int64_t*, T*) {
  detail::no_cuda("binary");
}
template <class C, class T>
void where(int, const int64_t*, const C*, const int64_t*, const T*, const int64_t*, const T*, const int64_t*, T*) {
  detail::no_cuda("where");
}
template <class T>
void axpy(int64_t, T, const T*, T*) { detail::no_cuda("axpy"); }

template void unary<float>(Unary, int64_t, const float*, float*);
template void unary<double>(Unary, int64_t, const double*, double*);
template void unary_backward<float>(Unary, int64_t, const float*, const float*, const float*, float*);
template void unary_backward<double>(Unary, int64_t, const double*, const double*, const double*, double*);
#define GS_BIN(T) \
  template void binary<T>(Binary, int, const int64_t*, const T*, const int64_t*, const T*, const int64_t*, T*);
GS_BIN(float) GS_BIN(double) GS_BIN(int64_t)
#undef GS_BIN
#define GS_WHERE(C, T)                                                                              \
  template void where<C, T>(int, const int64_t*, const C*, const int64_t*, const T*, const int64_t*, \
                            const T*, const int64_t*, T*);
GS_WHERE(float, float) GS_WHERE(float, double) GS_WHERE(float, int64_t)
GS_WHERE(double, float) GS_WHERE(double, double) GS_WHERE(double, int64_t)
GS_WHERE(int64_t, float) GS_WHERE(int64_t, double) GS_WHERE(int64_t, int64_t)
#undef GS_WHERE
template void axpy<float>(int64_t, float, const float*, float*);
template void axpy<double>(int64_t, double, const double*, double*);
template void axpy<int64_t>(int64_t, int64_t, const int64_t*, int64_t*);

}  // namespace gs::cuda
