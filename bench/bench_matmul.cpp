// Engine matmul vs raw cblas_sgemm in the same process, float32, row-major.
//
//   squares  A [n, n] @ B [n, n],               n = 512, 1024, 2048
//   head     H [4096, 256] @ W^T, W [32768, 256] (op::matmul(H, W, false, true): no copy)
//
// Columns: median ms over repetitions (after warm-up), GFLOP/s = 2 M N K / time, and the ratio
// raw_time / engine_time (engine throughput as a fraction of raw OpenBLAS; target >= 0.95 at
// n >= 1024). Engine and raw calls alternate inside every repetition so that load from other
// processes hits both alike.
//
//   raw          cblas_sgemm into a C buffer allocated once, before timing
//   raw+alloc    cblas_sgemm into a freshly allocated 64-byte-aligned buffer each call (what any
//                op that returns a new tensor must pay: allocation + first-touch page faults)
//   raw+THP      the same with the fresh buffer 2 MiB-aligned and madvise(MADV_HUGEPAGE): how much
//                of the allocation cost transparent huge pages would remove (diagnostic only)
//   engine       gs::op::matmul (checks, output allocation, dispatch, cpu::gemm)
//
// A second table times the differentiable gs::matmul forward + backward (y = A B, backward with
// an upstream gradient G: dA = G B^T, dB = A^T G) against the same three raw sgemm calls into
// preallocated buffers.
//
// Environment: GS_BENCH_REPS (squares; default 9 forward, 7 autograd), GS_BENCH_HEAD_REPS (head;
// default 5 forward, 3 autograd), GS_BENCH_SKIP_HEAD=1, GS_BENCH_SKIP_AUTOGRAD=1.
#include <cblas.h>
#include <sys/mman.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/ops.h"

namespace {

using namespace gs;
using gs::bench::keep;
using gs::bench::median;
using gs::bench::time_once;

struct Case {
  std::string name;
  int64_t M, N, K;
  bool head;  // B stored [N, K] and used transposed
};

void raw_sgemm(const Case& c, const float* A, const float* B, float* C) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, c.head ? CblasTrans : CblasNoTrans, (blasint)c.M, (blasint)c.N,
              (blasint)c.K, 1.0f, A, (blasint)c.K, B, (blasint)(c.head ? c.K : c.N), 0.0f, C, (blasint)c.N);
}

double max_abs_diff(const float* a, const float* b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

void forward_table(const std::vector<Case>& cases) {
  std::printf("\n## forward: gs::op::matmul vs cblas_sgemm (float32)\n");
  std::printf("%-28s %4s %9s %9s %9s %9s %8s %8s %8s %7s %7s %8s\n", "case", "reps", "raw ms", "raw+al ms",
              "raw+THP", "engine ms", "raw GF/s", "eng GF/s", "eng/raw", "paired", "al/raw", "maxdiff");
  for (const Case& c : cases) {
    Generator gen(1234);
    Tensor A = randn({c.M, c.K}, gen);
    Tensor B = c.head ? randn({c.N, c.K}, gen) : randn({c.K, c.N}, gen);
    Tensor Craw = zeros({c.M, c.N});
    const float* pa = A.data<float>();
    const float* pb = B.data<float>();
    float* pc = Craw.data<float>();
    const size_t cbytes = static_cast<size_t>(c.M * c.N) * sizeof(float);

    auto raw = [&] { raw_sgemm(c, pa, pb, pc); };
    auto raw_alloc = [&] {
      float* p = static_cast<float*>(std::aligned_alloc(64, ((cbytes + 63) / 64) * 64));
      raw_sgemm(c, pa, pb, p);
      keep(p[0]);
      std::free(p);
    };
    auto raw_thp = [&] {
      const size_t huge = size_t(2) << 20;
      const size_t n = ((cbytes + huge - 1) / huge) * huge;
      float* p = static_cast<float*>(std::aligned_alloc(huge, n));
      madvise(p, n, MADV_HUGEPAGE);
      raw_sgemm(c, pa, pb, p);
      keep(p[0]);
      std::free(p);
    };
    auto engine = [&] {
      Tensor out = op::matmul(A, B, false, c.head);
      keep(out);
    };

    const int reps = static_cast<int>(c.head ? gs::bench::env_int("GS_BENCH_HEAD_REPS", 5) : gs::bench::env_int("GS_BENCH_REPS", 9));
    const int warm = c.head ? 1 : 2;
    for (int i = 0; i < warm; ++i) {
      raw();
      raw_alloc();
      raw_thp();
      engine();
    }
    std::vector<double> tr, ta, th, te, ratio;
    for (int r = 0; r < reps; ++r) {
      // rotate the order so no variant always runs right after another's allocation
      double a = 0, b = 0, h = 0, e = 0;
      if (r % 3 == 0) {
        a = time_once(raw), b = time_once(raw_alloc), h = time_once(raw_thp), e = time_once(engine);
      } else if (r % 3 == 1) {
        e = time_once(engine), a = time_once(raw), b = time_once(raw_alloc), h = time_once(raw_thp);
      } else {
        h = time_once(raw_thp), b = time_once(raw_alloc), e = time_once(engine), a = time_once(raw);
      }
      tr.push_back(a), ta.push_back(b), th.push_back(h), te.push_back(e), ratio.push_back(a / e);
    }
    Tensor check = op::matmul(A, B, false, c.head);
    const double diff = max_abs_diff(check.data<float>(), pc, c.M * c.N);
    const double flop = 2.0 * c.M * c.N * c.K;
    const double mr = median(tr), ma = median(ta), mh = median(th), me = median(te);
    std::printf("%-28s %4d %9.2f %9.2f %9.2f %9.2f %8.1f %8.1f %8.3f %7.3f %7.3f %8.1e\n", c.name.c_str(), reps,
                mr * 1e3, ma * 1e3, mh * 1e3, me * 1e3, flop / mr * 1e-9, flop / me * 1e-9, mr / me, median(ratio),
                mr / ma, diff);
    std::fflush(stdout);
  }
  std::printf("(eng/raw = median raw ms / median engine ms; paired = median over reps of raw/engine in the same rep;\n"
              " al/raw = median raw ms / median raw+alloc ms, the best an op returning a fresh tensor can do;\n"
              " maxdiff = max |engine - raw| over C, expected 0: same BLAS call)\n");
}

void autograd_table(const std::vector<Case>& cases) {
  std::printf("\n## forward + backward: gs::matmul (autograd) vs 3 x cblas_sgemm (float32)\n");
  std::printf("%-28s %5s %10s %10s %9s %9s %8s %8s %9s\n", "case", "reps", "raw ms", "engine ms", "raw GF/s",
              "eng GF/s", "eng/raw", "paired", "maxdiff");
  for (const Case& c : cases) {
    Generator gen(99);
    Tensor A = requires_grad(randn({c.M, c.K}, gen));
    Tensor B = requires_grad(c.head ? randn({c.N, c.K}, gen) : randn({c.K, c.N}, gen));
    Tensor G = randn({c.M, c.N}, gen);
    Tensor C = zeros({c.M, c.N}), dA = zeros({c.M, c.K}), dB = zeros(B.shape());
    const float *pa = A.data<float>(), *pb = B.data<float>(), *pg = G.data<float>();
    const blasint M = (blasint)c.M, N = (blasint)c.N, K = (blasint)c.K;

    auto raw = [&] {
      raw_sgemm(c, pa, pb, C.data<float>());
      if (c.head) {
        // dH [M,K] = G [M,N] W [N,K];  dW [N,K] = G^T [N,M] H [M,K]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, pg, N, pb, K, 0.0f, dA.data<float>(), K);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, K, M, 1.0f, pg, N, pa, K, 0.0f, dB.data<float>(), K);
      } else {
        // dA [M,K] = G [M,N] B^T [N,K];  dB [K,N] = A^T [K,M] G [M,N]
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, pg, N, pb, N, 0.0f, dA.data<float>(), K);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, pa, K, pg, N, 0.0f, dB.data<float>(), N);
      }
    };
    auto engine = [&] {
      zero_grad(A);
      zero_grad(B);
      Tensor y = c.head ? gs::matmul(A, gs::transpose(B, 0, 1)) : gs::matmul(A, B);
      gs::backward(y, G);
      keep(y);
    };
    const int reps = static_cast<int>(c.head ? gs::bench::env_int("GS_BENCH_HEAD_REPS", 3) : gs::bench::env_int("GS_BENCH_REPS", 7));
    raw();
    engine();
    std::vector<double> tr, te, ratio;
    for (int r = 0; r < reps; ++r) {
      double a = 0, e = 0;
      if (r % 2 == 0) {
        a = time_once(raw), e = time_once(engine);
      } else {
        e = time_once(engine), a = time_once(raw);
      }
      tr.push_back(a), te.push_back(e), ratio.push_back(a / e);
    }
    const std::vector<float> ga = grad_of(A).to_vector<float>(), gb = grad_of(B).to_vector<float>();
    const double diff = std::max(max_abs_diff(ga.data(), dA.data<float>(), dA.numel()),
                                 max_abs_diff(gb.data(), dB.data<float>(), dB.numel()));
    const double flop = 3 * 2.0 * c.M * c.N * c.K;
    const double mr = median(tr), me = median(te);
    std::printf("%-28s %5d %10.2f %10.2f %9.1f %9.1f %8.3f %8.3f %9.1e\n", c.name.c_str(), reps, mr * 1e3,
                me * 1e3, flop / mr * 1e-9, flop / me * 1e-9, mr / me, median(ratio), diff);
    std::fflush(stdout);
  }
  std::printf("(flops = 3 x 2MNK; maxdiff = max |engine grad - raw grad| over dA and dB)\n");
}

}  // namespace

int main() {
  gs::bench::print_env_header("bench_matmul: engine matmul vs raw cblas_sgemm (float32)");
  std::printf("#   openblas: %s | core %s | threads %d\n", openblas_get_config(), openblas_get_corename(),
              openblas_get_num_threads());
  std::vector<Case> cases = {{"square 512", 512, 512, 512, false},
                             {"square 1024", 1024, 1024, 1024, false},
                             {"square 2048", 2048, 2048, 2048, false}};
  if (!gs::bench::env_int("GS_BENCH_SKIP_HEAD", 0)) cases.push_back({"head 4096x256 @ (32768x256)^T", 4096, 32768, 256, true});
  forward_table(cases);
  if (!gs::bench::env_int("GS_BENCH_SKIP_AUTOGRAD", 0)) autograd_table(cases);
  return 0;
}
