// The CPU float32 gemm libraries against each other, then the engine's matmul against the raw call
// of the library it uses (GRADSCOPE_GEMM; default oneDNN where compiled in), in the same process.
//
// Table 1, backends: raw cblas_sgemm (OpenBLAS) vs raw dnnl_sgemm (oneDNN) vs the engine's
// cpu::gemm, at the shapes a GPT training step runs (2048 tokens, d_model 256, MLP 1024, vocab
// 8192 and 50257, attention 64 x [128 x 128] per-head products) and the reference shapes;
// GFLOP/s medians over repetitions that alternate the three. This table decides the default
// backend (docs/PERFORMANCE.md, "GEMM backend").
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
#include <omp.h>
#include <sys/mman.h>
#ifdef GRADSCOPE_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "ops_cpu/gemm.h"
#include "ops_cpu/gemm_backend.h"
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

// One raw library call, row-major: C[M, N] = op(A) op(B), A [M, K] (or [K, M] with ta), B [K, N] (or
// [N, K] with tb), packed.
void raw_call(cpu::GemmBackend lib, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, const float* B,
              float* C) {
  const int64_t lda = ta ? M : K, ldb = tb ? K : N;
#ifdef GRADSCOPE_HAVE_ONEDNN
  if (lib == cpu::GemmBackend::onednn) {
    if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N) != dnnl_success)
      std::abort();
    return;
  }
#else
  (void)lib;
#endif
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N,
              (blasint)K, 1.0f, A, (blasint)lda, B, (blasint)ldb, 0.0f, C, (blasint)N);
}

// The raw call of the library the engine uses now, for the engine-overhead tables.
void raw_sgemm(const Case& c, const float* A, const float* B, float* C) {
  raw_call(cpu::gemm_backend(), false, c.head, c.M, c.N, c.K, A, B, C);
}

struct Shape {
  const char* name;
  int64_t batch, M, N, K;
  bool ta, tb;
};

// Table 1. A batch > 1 is `batch` products of the same shape on consecutive matrices, run three
// ways: each library's product in a serial loop (each product threaded by the library), and oneDNN
// with the batch spread over the OpenMP team (each product on one thread: oneDNN runs on the
// calling thread inside a parallel region).
void backends_table() {
  const Shape shapes[] = {
      {"qkv fwd  2048x768x256 NT", 1, 2048, 768, 256, false, true},
      {"attn-out 2048x256x256 NT", 1, 2048, 256, 256, false, true},
      {"fc1 fwd  2048x1024x256 NT", 1, 2048, 1024, 256, false, true},
      {"fc2 fwd  2048x256x1024 NT", 1, 2048, 256, 1024, false, true},
      {"fc1 dX   2048x256x1024 NN", 1, 2048, 256, 1024, false, false},
      {"fc1 dW   1024x256x2048 TN", 1, 1024, 256, 2048, true, false},
      {"q dW     256x256x2048 TN", 1, 256, 256, 2048, true, false},
      {"q dX     2048x256x256 NN", 1, 2048, 256, 256, false, false},
      {"head fwd 2048x8192x256 NT", 1, 2048, 8192, 256, false, true},
      {"head dW  8192x256x2048 TN", 1, 8192, 256, 2048, true, false},
      {"head fwd 2048x50257x256 NT", 1, 2048, 50257, 256, false, true},
      {"ref 2048x50257x128 NT", 1, 2048, 50257, 128, false, true},
      {"ref 2048^3 NN", 1, 2048, 2048, 2048, false, false},
      {"ref 128x128x64 NN", 1, 128, 128, 64, false, false},
      {"attn QK^T 64 x 128x128x64 NT", 64, 128, 128, 64, false, true},
      {"attn PV   64 x 128x64x128 NN", 64, 128, 64, 128, false, false},
  };
  std::printf("\n## backends: raw OpenBLAS vs raw oneDNN vs engine cpu::gemm (float32, GFLOP/s, median)\n");
  std::printf("%-30s %5s %9s %9s %11s %9s %8s\n", "shape", "reps", "openblas", "onednn", "onednn-par", "engine",
              "best");
  const int reps = static_cast<int>(gs::bench::env_int("GS_BENCH_BACKEND_REPS", 7));
  for (const Shape& s : shapes) {
    Generator gen(7);
    const int64_t sa = s.M * s.K, sb = s.K * s.N, sc = s.M * s.N;
    Tensor A = randn({s.batch * sa}, gen), B = randn({s.batch * sb}, gen), C = zeros({s.batch * sc});
    const float *pa = A.data<float>(), *pb = B.data<float>();
    float* pc = C.data<float>();
    auto loop = [&](cpu::GemmBackend lib) {
      return [&, lib] {
        for (int64_t b = 0; b < s.batch; ++b) raw_call(lib, s.ta, s.tb, s.M, s.N, s.K, pa + b * sa, pb + b * sb, pc + b * sc);
      };
    };
    auto par = [&] {
#pragma omp parallel for schedule(static)
      for (int64_t b = 0; b < s.batch; ++b)
        raw_call(cpu::GemmBackend::onednn, s.ta, s.tb, s.M, s.N, s.K, pa + b * sa, pb + b * sb, pc + b * sc);
    };
    auto engine = [&] {
      if (s.batch == 1)
        cpu::gemm<float>(s.ta, s.tb, s.M, s.N, s.K, 1.0f, pa, s.ta ? s.M : s.K, pb, s.tb ? s.K : s.N, 0.0f, pc, s.N);
      else
        cpu::gemm_batched<float>(s.batch, s.ta, s.tb, s.M, s.N, s.K, 1.0f, pa, s.ta ? s.M : s.K, sa, pb,
                                 s.tb ? s.K : s.N, sb, 0.0f, pc, s.N, sc);
    };
    const bool dnn = cpu::onednn_available(), batched = s.batch > 1;
    auto ob = loop(cpu::GemmBackend::openblas), od = loop(cpu::GemmBackend::onednn);
    ob(), engine();
    if (dnn) od(), par();
    std::vector<double> t_ob, t_od, t_par, t_eng;
    for (int r = 0; r < reps; ++r) {
      t_ob.push_back(time_once(ob));
      if (dnn) t_od.push_back(time_once(od));
      if (dnn && batched) t_par.push_back(time_once(par));
      t_eng.push_back(time_once(engine));
    }
    const double gf = 2.0 * s.batch * s.M * s.N * s.K * 1e-9;
    const double g_ob = gf / median(t_ob), g_od = dnn ? gf / median(t_od) : 0, g_par = dnn && batched ? gf / median(t_par) : 0;
    const char* best = g_od > g_ob ? (g_par > g_od ? "onednn-par" : "onednn") : (g_par > g_ob ? "onednn-par" : "openblas");
    std::printf("%-30s %5d %9.1f %9.1f %11.1f %9.1f %8s\n", s.name, reps, g_ob, g_od, g_par, gf / median(t_eng), best);
    std::fflush(stdout);
  }
  std::printf("(0.0: not run; onednn-par only for batches. engine = cpu::gemm / gemm_batched on GRADSCOPE_GEMM's backend)\n");
}

double max_abs_diff(const float* a, const float* b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

void forward_table(const std::vector<Case>& cases) {
  std::printf("\n## forward: gs::op::matmul vs the raw call of its library (float32)\n");
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
              " maxdiff = max |engine - raw| over C, expected 0: the same library call)\n");
}

void autograd_table(const std::vector<Case>& cases) {
  std::printf("\n## forward + backward: gs::matmul (autograd) vs 3 raw calls of its library (float32)\n");
  std::printf("%-28s %5s %10s %10s %9s %9s %8s %8s %9s\n", "case", "reps", "raw ms", "engine ms", "raw GF/s",
              "eng GF/s", "eng/raw", "paired", "maxdiff");
  for (const Case& c : cases) {
    Generator gen(99);
    Tensor A = requires_grad(randn({c.M, c.K}, gen));
    Tensor B = requires_grad(c.head ? randn({c.N, c.K}, gen) : randn({c.K, c.N}, gen));
    Tensor G = randn({c.M, c.N}, gen);
    Tensor C = zeros({c.M, c.N}), dA = zeros({c.M, c.K}), dB = zeros(B.shape());
    const float *pa = A.data<float>(), *pb = B.data<float>(), *pg = G.data<float>();
    const int64_t M = c.M, N = c.N, K = c.K;
    const cpu::GemmBackend lib = cpu::gemm_backend();

    auto raw = [&] {
      raw_sgemm(c, pa, pb, C.data<float>());
      if (c.head) {
        // dH [M,K] = G [M,N] W [N,K];  dW [N,K] = G^T [N,M] H [M,K]
        raw_call(lib, false, false, M, K, N, pg, pb, dA.data<float>());
        raw_call(lib, true, false, N, K, M, pg, pa, dB.data<float>());
      } else {
        // dA [M,K] = G [M,N] B^T [N,K];  dB [K,N] = A^T [K,M] G [M,N]
        raw_call(lib, false, true, M, K, N, pg, pb, dA.data<float>());
        raw_call(lib, true, false, K, N, M, pa, pg, dB.data<float>());
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
  gs::bench::print_env_header("bench_matmul: OpenBLAS vs oneDNN, engine matmul vs its raw library call (float32)");
  std::printf("#   openblas: %s | core %s | threads %d\n", openblas_get_config(), openblas_get_corename(),
              openblas_get_num_threads());
  std::vector<Case> cases = {{"square 512", 512, 512, 512, false},
                             {"square 1024", 1024, 1024, 1024, false},
                             {"square 2048", 2048, 2048, 2048, false}};
  if (!gs::bench::env_int("GS_BENCH_SKIP_BACKENDS", 0)) backends_table();
  if (gs::bench::env_int("GS_BENCH_ONLY_BACKENDS", 0)) return 0;
  if (!gs::bench::env_int("GS_BENCH_SKIP_HEAD", 0)) cases.push_back({"head 4096x256 @ (32768x256)^T", 4096, 32768, 256, true});
  forward_table(cases);
  if (!gs::bench::env_int("GS_BENCH_SKIP_AUTOGRAD", 0)) autograd_table(cases);
  return 0;
}
