// Fused softmax cross-entropy vs composites built from differentiable gs ops, float32 logits
// [N, V] (a leaf that requires grad), int64 targets [N], mean reduction.
//
//   fused     gs::cross_entropy(logits, targets): forward keeps one logsumexp per row; backward
//             writes (softmax - onehot) / N straight into the gradient (no N x V intermediates)
//   gather    lp = gs::log_softmax(logits); loss = -sum(gs::embedding(reshape(lp, [N*V, 1]),
//             row * V + target)) / N   (a gather: what nll_loss(log_softmax(x)) does)
//   one-hot   lp = gs::log_softmax(logits); onehot [N, V] built with op::eq (inside the timed
//             forward, no graph); loss = -sum(lp * onehot) / N
//
// Times: median over repetitions of forward (to the 0-d loss), backward (backward(loss), the
// gradient accumulated into logits.grad) and their sum. Peak: Storage::peak_bytes() over forward
// + backward minus live bytes before the forward (logits and targets already live, logits.grad
// cleared), i.e. everything the loss allocated; it includes the N x V gradient of the logits
// itself, which every variant must produce.
// Environment: GS_BENCH_REPS (default 5), GS_BENCH_SMALL_ONLY=1.
//
// The fused head (run first, so that the process's peak RSS after it is its own):
//   fused     gs::linear_cross_entropy(H, W, targets): per chunk of rows the logits, loss and G in
//             one [chunk, V] buffer, dH = G W and dW += G^T H accumulated in the forward; the
//             backward scales them. Chunk rows from the op's default 64 MiB budget.
//   unfused   gs::cross_entropy(gs::matmul(H, W^T), targets): [N, V] logits saved for the
//             backward, which makes the [N, V] G and then dH = G W, dW = G^T H.
// at N = 2048, V = 50257 (GPT-2), D = 256, float32; H [N, D] (standing in for the backbone's
// output) and W [V, D] are leaves that require grad. Peak: Storage::peak_bytes() over forward +
// backward minus the live bytes before H, W and the targets were made, so it counts the inputs,
// every temporary, and the gradients left in H.grad and W.grad. Bound (what a chunked head must stay within):
// (chunk V + 3 V D) x 4 bytes (the chunk buffer; W, dW stored and dW returned) plus the
// "activations" 3 N D x 4 (H, dH stored and dH returned), no process baseline (tensor bytes only).
// RSS: ru_maxrss after each variant minus the RSS before the inputs were made (KiB precision).
// Environment: GS_BENCH_HEAD_REPS (default 3), GS_BENCH_SKIP_HEAD=1; with GS_BENCH_SMALL_ONLY=1
// the head case runs at N = 512.
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "bench/timing.h"
#include "tensor/ops.h"

namespace {

using namespace gs;
using gs::bench::median;
using gs::bench::now_s;

struct Result {
  double fwd_ms, bwd_ms, tot_ms;
  int64_t peak;
  double loss;
  std::vector<float> grad;
};

using LossFn = std::function<Tensor(const Tensor& logits)>;

// One warm-up and `reps` timed forward (loss_fn) + backward passes, the leaves' gradients zeroed
// before each. Peak: the most tensor bytes above `base` (base < 0: the live bytes at the start of
// each pass). Medians in ms.
struct Timed {
  double fwd_ms, bwd_ms, tot_ms;
  int64_t peak;
  double loss;
};
Timed time_loss(const std::function<Tensor()>& loss_fn, const std::vector<Tensor>& leaves, int reps, int64_t base) {
  std::vector<double> tf, tb, tt;
  int64_t peak = 0;
  double loss_value = 0;
  for (int r = -1; r < reps; ++r) {  // r = -1: warm-up, not recorded
    for (const Tensor& t : leaves) zero_grad(t);
    const int64_t b = base >= 0 ? base : Storage::live_bytes();
    Storage::reset_peak();
    const double t0 = now_s();
    Tensor loss = loss_fn();
    const double t1 = now_s();
    gs::backward(loss);
    const double t2 = now_s();
    peak = std::max(peak, Storage::peak_bytes() - b);
    loss_value = loss.item<double>();
    if (r >= 0) tf.push_back(t1 - t0), tb.push_back(t2 - t1), tt.push_back(t2 - t0);
  }
  return {median(tf) * 1e3, median(tb) * 1e3, median(tt) * 1e3, peak, loss_value};
}

Result run(const LossFn& loss_fn, const Tensor& logits, int reps) {
  const Timed t = time_loss([&] { return loss_fn(logits); }, {logits}, reps, -1);
  return {t.fwd_ms, t.bwd_ms, t.tot_ms, t.peak, t.loss, grad_of(logits).to_vector<float>()};
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

void bench_size(int64_t N, int64_t V, int reps) {
  Generator gen(42);
  const Tensor logits = requires_grad(randn({N, V}, gen, kFloat32, 0.0, 2.0));
  const Tensor targets = randint({N}, V, gen);
  // row * V + target: flat positions of the target logits (precomputed, N int64s)
  const Tensor flat_idx = op::add(op::mul(arange(N), static_cast<double>(V)), targets);
  const Tensor classes = op::reshape(op::to(arange(V), kFloat32), {1, V});
  const Tensor targets_f = op::reshape(op::to(targets, kFloat32), {N, 1});
  const double inv_n = -1.0 / static_cast<double>(N);

  LossFn fused = [&](const Tensor& x) { return gs::cross_entropy(x, targets); };
  LossFn gather = [&](const Tensor& x) {
    Tensor lp = gs::log_softmax(x);
    Tensor picked = gs::embedding(gs::reshape(lp, {N * V, 1}), flat_idx);
    return gs::mul(gs::sum(picked), inv_n);
  };
  LossFn onehot = [&](const Tensor& x) {
    Tensor lp = gs::log_softmax(x);
    Tensor oh = op::eq(classes, targets_f);  // [N, V] of 0/1, no graph
    return gs::mul(gs::sum(gs::mul(lp, oh)), inv_n);
  };

  const Result rf = run(fused, logits, reps);
  const Result rg = run(gather, logits, reps);
  const Result ro = run(onehot, logits, reps);

  const double nv_mib = mib(N * V * 4);
  std::printf("\n## N = %ld, V = %ld (logits %.0f MiB float32), %d reps + 1 warm-up\n", (long)N, (long)V, nv_mib,
              reps);
  std::printf("%-10s %9s %9s %9s %11s %11s %9s %9s %11s %10s\n", "variant", "fwd ms", "bwd ms", "total ms",
              "peak MiB", "peak/(NV*4)", "time/fused", "peak/fused", "loss", "grad diff");
  for (const auto& [name, r] : {std::pair<const char*, const Result*>{"fused", &rf}, {"gather", &rg}, {"one-hot", &ro}}) {
    std::printf("%-10s %9.1f %9.1f %9.1f %11.1f %11.2f %9.2f %9.2f %11.6f %10.1e\n", name, r->fwd_ms, r->bwd_ms,
                r->tot_ms, mib(r->peak), mib(r->peak) / nv_mib, r->tot_ms / rf.tot_ms,
                static_cast<double>(r->peak) / static_cast<double>(rf.peak), r->loss, max_abs_diff(r->grad, rf.grad));
  }
  std::fflush(stdout);
}

// ---- the fused head: linear_cross_entropy vs matmul + cross_entropy ----

// Resident set size now, in bytes (/proc/self/statm: pages).
int64_t rss_now() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  f >> pages_total >> pages_resident;
  return static_cast<int64_t>(pages_resident) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

// Peak resident set size of the process so far, in bytes.
int64_t rss_peak() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;  // KiB on Linux
}

struct HeadResult {
  double fwd_ms, bwd_ms, tot_ms;
  int64_t peak, rss_growth;
  double loss;
  Tensor dH, dW;
};

// base: live tensor bytes before H, W and the targets were made; rss0: RSS at that point.
HeadResult run_head(const std::function<Tensor()>& loss_fn, const Tensor& H, const Tensor& W, int reps, int64_t base,
                    int64_t rss0) {
  const Timed t = time_loss(loss_fn, {H, W}, reps, base);
  return {t.fwd_ms, t.bwd_ms, t.tot_ms, t.peak, rss_peak() - rss0, t.loss, op::clone(grad_of(H)), op::clone(grad_of(W))};
}

// ||a - b||_F / ||b||_F, accumulated in double.
double rel_diff(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
  double d = 0, n = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    d += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    n += static_cast<double>(y[i]) * y[i];
  }
  return n > 0 ? std::sqrt(d / n) : std::sqrt(d);
}

void bench_head(int64_t N, int64_t V, int64_t D, int reps) {
  const int64_t base = Storage::live_bytes();
  const int64_t rss0 = rss_now();
  Generator gen(43);
  const Tensor H = requires_grad(randn({N, D}, gen, kFloat32, 0.0, 1.0));
  const Tensor W = requires_grad(randn({V, D}, gen, kFloat32, 0.0, 1.0 / std::sqrt(static_cast<double>(D))));
  const Tensor targets = randint({N}, V, gen);
  const LinearCrossEntropyOptions opt;  // the default budget
  const int64_t chunk = linear_cross_entropy_chunk_rows(N, V, kFloat32, opt);

  const HeadResult rf = run_head([&] { return gs::linear_cross_entropy(H, W, targets, opt); }, H, W, reps, base, rss0);
  const HeadResult ru = run_head([&] { return gs::cross_entropy(gs::matmul(H, gs::transpose(W, 0, 1)), targets); }, H,
                                 W, reps, base, rss0);

  const int64_t bound = (chunk * V + 3 * V * D) * 4 + 3 * N * D * 4;
  std::printf("\n## fused head: N = %ld, V = %ld, D = %ld, float32, chunk %ld rows (%.0f MiB); %d reps + 1 warm-up\n",
              (long)N, (long)V, (long)D, (long)chunk, mib(chunk * V * 4), reps);
  std::printf("bound = (chunk V + 3 V D) x 4 + 3 N D x 4 = %.1f MiB; one N x V float32 matrix = %.1f MiB\n",
              mib(bound), mib(N * V * 4));
  std::printf("%-8s %9s %9s %9s %10s %10s %10s %10s %12s %11s %13s\n", "variant", "fwd ms", "bwd ms", "total ms",
              "peak MiB", "peak/bound", "time/fused", "peak/fused", "RSS grow MiB", "loss", "dH / dW diff");
  for (const auto& [name, r] : {std::pair<const char*, const HeadResult*>{"fused", &rf}, {"unfused", &ru}}) {
    std::printf("%-8s %9.1f %9.1f %9.1f %10.1f %10.2f %10.2f %10.2f %12.1f %11.6f %6.0e/%6.0e\n", name, r->fwd_ms,
                r->bwd_ms, r->tot_ms, mib(r->peak), static_cast<double>(r->peak) / static_cast<double>(bound),
                r->tot_ms / rf.tot_ms, static_cast<double>(r->peak) / static_cast<double>(rf.peak),
                mib(r->rss_growth), r->loss, rel_diff(r->dH, rf.dH), rel_diff(r->dW, rf.dW));
  }
  std::printf("(fused: the gradient products run in the forward, the backward only scales; dH / dW diff =\n"
              " normwise relative difference to the fused gradients; RSS grow = the process's peak RSS minus its\n"
              " RSS before the inputs: for unfused the larger of the two runs)\n");
  std::fflush(stdout);
}

}  // namespace

int main() {
  gs::bench::print_env_header("bench_cross_entropy: fused vs composite softmax cross-entropy (float32, mean)");
  const int reps = static_cast<int>(gs::bench::env_int("GS_BENCH_REPS", 5));
  const bool small = gs::bench::env_int("GS_BENCH_SMALL_ONLY", 0) != 0;
  if (!gs::bench::env_int("GS_BENCH_SKIP_HEAD", 0))
    bench_head(small ? 512 : 2048, 50257, 256, static_cast<int>(gs::bench::env_int("GS_BENCH_HEAD_REPS", 3)));
  bench_size(1024, 8192, reps);
  if (!small) bench_size(4096, 32768, reps);
  std::printf("\n(grad diff = max |grad - fused grad| over the N x V logit gradient; time/fused and peak/fused are\n"
              " ratios to the fused row; peak/(NV*4) counts in units of one N x V float32 matrix)\n");
  return 0;
}
