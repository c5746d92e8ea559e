// Head metrics (analysis/head_bottleneck.h) at GPT-2 shape: N = 8192 tokens, V = 50257, D = 768,
// random float32 data (H ~ N(0, 1), W ~ N(0, 0.05^2), Zipf(1) targets, every 128th row ignored).
//
//   gemm       one N x D x V product H W^T (op::matmul, float32): the unit of time
//   basis      head_basis(W): QR of a float64 copy of W + SVD of R (once per head)
//   metrics    head_metrics without spectrum, basis given: three N x D x V products per chunk
//              (logits, G Q, G^T H) + softmax + float64 reductions; target <= 2.5 gemm
//   spectrum   top-k singular values of G (k = 2D by default), timed separately
// Peak memory: VmHWM of the process (reset through /proc/self/clear_refs before each phase)
// minus VmRSS before it, against the budget the pass must stay within:
// chunk x V x 4 + 3 x V x D x 4 + 64 MiB.
// Writes H.npy, W.npy, y.npy and gs_metrics.json (and gs_spectrum.json) to GS_HEAD_DIR for
// bench/head_metrics_torch.py, which recomputes the metrics with PyTorch.
// Environment: GS_HEAD_N, GS_HEAD_V, GS_HEAD_D (sizes), GS_HEAD_TOPK (default 2D; 0: no
// spectrum), GS_HEAD_EXACT=1 (also the exact LAPACK spectrum: small sizes only),
// GS_HEAD_DIR (default /tmp/gs_head_bench), GS_BENCH_REPS (gemm repetitions, default 3).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "analysis/head_bottleneck.h"
#include "bench/timing.h"
#include "tensor/ops.h"

namespace {

using namespace gs;
using gs::bench::now_s;

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

// kB field of /proc/self/status ("VmRSS", "VmHWM").
double status_kb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(f, line))
    if (line.compare(0, n, field) == 0 && line[n] == ':') return std::stod(line.substr(n + 1));
  return 0;
}

// Sets VmHWM to the current VmRSS (Linux >= 4.0).
void reset_hwm() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
}

// Runs f and returns {seconds, peak bytes above the RSS before it}.
template <class F>
std::pair<double, double> measure(F&& f) {
  reset_hwm();
  const double base = status_kb("VmRSS");
  const double t0 = now_s();
  f();
  const double t = now_s() - t0;
  return {t, (status_kb("VmHWM") - base) * 1024.0};
}

// NumPy .npy (format 1.0, C order, little endian).
void write_npy(const std::string& path, const Tensor& t) {
  const char* descr = t.dtype() == kFloat32 ? "<f4" : t.dtype() == kFloat64 ? "<f8" : "<i8";
  std::string shape = "(";
  for (int64_t d : t.shape()) shape += std::to_string(d) + ", ";
  if (t.dim() > 1) shape.resize(shape.size() - 2);
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  const unsigned char pre[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  f.write(reinterpret_cast<const char*>(pre), 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  f.write(reinterpret_cast<const char*>(&len), 2);
  f << header;
  const Tensor c = op::contiguous(t);
  f.write(static_cast<const char*>(c.raw_data()), static_cast<std::streamsize>(c.numel() * dtype_size(c.dtype())));
}

void write_text(const std::string& path, const std::string& s) { std::ofstream(path) << s << "\n"; }

void print_metrics(const analysis::HeadMetrics& m) {
  std::printf("  tokens %ld  rank(W) %ld  chunk %ld rows  direct rows %ld\n", (long)m.tokens, (long)m.basis_rank,
              (long)m.run.chunk, (long)m.run.direct_rows);
  std::printf("  loss %.8f  ||G|| %.8e  visible %.8e  destroyed %.8f  cosine %.8f\n", m.loss, m.logit_grad_norm,
              m.visible_norm, m.destroyed_fraction, m.visible_cosine);
  std::printf("  per token: mean %.8f p5 %.8f p50 %.8f p95 %.8f\n", m.per_token.mean, m.per_token.p5,
              m.per_token.p50, m.per_token.p95);
  std::printf("  update: cosine %.8f backbone %.8e head %.8e rank bound %ld\n", m.update.cosine,
              m.update.backbone_term_norm, m.update.head_term_norm, (long)m.update.rank_bound);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line-buffered: progress shows in a log file
  gs::bench::print_env_header("bench_head_metrics: head bottleneck metrics vs one N x D x V gemm (float32)");
  const int64_t N = gs::bench::env_int("GS_HEAD_N", 8192), V = gs::bench::env_int("GS_HEAD_V", 50257);
  const int64_t D = gs::bench::env_int("GS_HEAD_D", 768);
  const char* topk_env = std::getenv("GS_HEAD_TOPK");
  const int64_t topk = topk_env ? std::strtol(topk_env, nullptr, 10) : 2 * D;
  const bool exact = gs::bench::env_int("GS_HEAD_EXACT", 0) != 0;
  const int reps = static_cast<int>(gs::bench::env_int("GS_BENCH_REPS", 3));
  const char* dir_env = std::getenv("GS_HEAD_DIR");
  const std::string dir = dir_env && *dir_env ? dir_env : "/tmp/gs_head_bench";
  std::printf("# N = %ld, V = %ld, D = %ld, topk = %ld, threads = %s\n", (long)N, (long)V, (long)D, (long)topk,
              std::getenv("GRADSCOPE_NUM_THREADS") ? std::getenv("GRADSCOPE_NUM_THREADS") : "(all)");

  Generator gen(1234);
  const Tensor H = randn({N, D}, gen, kFloat32);
  const Tensor W = randn({V, D}, gen, kFloat32, 0.0, 0.05);
  // Zipf(1) targets (P(c) ~ 1 / (c + 1), like word frequencies), every 128th row ignored.
  std::vector<double> cdf(static_cast<size_t>(V));
  double acc = 0;
  for (int64_t c = 0; c < V; ++c) cdf[c] = acc += 1.0 / static_cast<double>(c + 1);
  std::vector<int64_t> yv(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i)
    yv[i] = i % 128 == 127 ? -100 : std::min<int64_t>(V - 1, std::lower_bound(cdf.begin(), cdf.end(), gen.uniform() * acc) - cdf.begin());
  const Tensor y = from_vector(yv, {N});
  std::filesystem::create_directories(dir);
  write_npy(dir + "/H.npy", H);
  write_npy(dir + "/W.npy", W);
  write_npy(dir + "/y.npy", y);

  // The unit: one N x D x V product (its N x V output freed before the metrics), measured
  // before and after the metrics; the ratio uses the median of all of them, which damps drift
  // in the machine's load between the two.
  std::vector<double> tg;
  auto time_gemm = [&] {
    for (int r = 0; r < reps; ++r) {
      const double t0 = now_s();
      Tensor Z = op::matmul(H, W, false, true);
      tg.push_back(now_s() - t0);
    }
  };
  time_gemm();
  analysis::HeadBasis basis;
  const auto [basis_s, basis_peak] = measure([&] { basis = analysis::head_basis(W); });
  analysis::HeadMetricsOptions o;
  analysis::HeadMetrics m, m2;
  const auto [metrics_s, metrics_peak] = measure([&] { m = analysis::head_metrics(H, W, y, basis, o); });
  o.update_terms = false;
  const auto [nohead_s, nohead_peak] = measure([&] { m2 = analysis::head_metrics(H, W, y, basis, o); });
  o.update_terms = true;
  time_gemm();
  const double gemm_s = gs::bench::median(tg);
  std::printf("\ngemm N x D x V: median %.3f s (min %.3f, max %.3f) over %zu runs around the metrics (%.1f GFLOP/s)\n",
              gemm_s, gs::bench::min_of(tg), *std::max_element(tg.begin(), tg.end()), tg.size(),
              2.0 * N * D * V / gemm_s * 1e-9);
  const double target = static_cast<double>(m.run.chunk) * V * 4 + 3.0 * V * D * 4 + 64.0 * 1024 * 1024;
  std::printf("basis: %.3f s = %.2f gemm, peak +%.0f MiB\n", basis_s, basis_s / gemm_s, mib(basis_peak));
  std::printf("metrics (no spectrum, basis given): %.3f s = %.2f gemm (target <= 2.5), peak +%.0f MiB\n", metrics_s,
              metrics_s / gemm_s, mib(metrics_peak));
  std::printf("metrics without the head term (update_terms = false): %.3f s = %.2f gemm, peak +%.0f MiB\n", nohead_s,
              nohead_s / gemm_s, mib(nohead_peak));
  std::printf("metrics + basis: %.3f s = %.2f gemm\n", metrics_s + basis_s, (metrics_s + basis_s) / gemm_s);
  std::printf("peak target chunk x V x 4 + 3 x V x D x 4 + 64 MiB = %.0f MiB (chunk %ld): basis %s, metrics %s\n",
              mib(target), (long)m.run.chunk, basis_peak <= target ? "within" : "OVER",
              metrics_peak <= target ? "within" : "OVER");
  print_metrics(m);
  write_text(dir + "/gs_metrics.json", analysis::to_json(m));
  write_text(dir + "/gs_timing.json", "{\"gemm_s\": " + std::to_string(gemm_s) + ", \"basis_s\": " +
                                          std::to_string(basis_s) + ", \"metrics_s\": " + std::to_string(metrics_s) + "}");

  if (topk > 0) {
    o.topk = topk;
    o.exact_spectrum_max_side = 0;  // this run measures the randomized path; the exact one follows
    analysis::HeadMetrics s;
    const auto [spec_s, spec_peak] = measure([&] { s = analysis::head_metrics(H, W, y, basis, o); });
    std::printf("\nmetrics + spectrum k = %ld (q = %d, p = %ld): %.1f s = %.1f gemm (spectrum part %.1f s), peak +%.0f MiB\n",
                (long)topk, o.power_iters, (long)o.oversample, spec_s, spec_s / gemm_s, s.run.spectrum_s,
                mib(spec_peak));
    std::printf("  sigma_1 %.6e sigma_k %.6e  components 70/90/99/99.9%%: %ld %ld %ld %ld  eym_bound_2d %.6f\n",
                s.spectrum.singular_values.front(), s.spectrum.singular_values.back(),
                (long)s.spectrum.components_for_70, (long)s.spectrum.components_for_90,
                (long)s.spectrum.components_for_99, (long)s.spectrum.components_for_999, s.spectrum.eym_bound_2d);
    write_text(dir + "/gs_spectrum.json", analysis::to_json(s));
    if (exact) {
      o.exact_spectrum = true;
      o.memory_budget_bytes = int64_t{16} << 30;
      analysis::HeadMetrics e;
      const auto [ex_s, ex_peak] = measure([&] { e = analysis::head_metrics(H, W, y, basis, o); });
      double worst = 0, e_sum = 0, r_sum = 0;
      for (size_t i = 0; i < s.spectrum.singular_values.size(); ++i) {
        worst = std::max(worst, std::fabs(s.spectrum.singular_values[i] / e.spectrum.singular_values[i] - 1));
        e_sum += e.spectrum.singular_values[i] * e.spectrum.singular_values[i];
        r_sum += s.spectrum.singular_values[i] * s.spectrum.singular_values[i];
      }
      std::printf("exact spectrum (LAPACK on the materialised G): %.1f s, peak +%.0f MiB\n", ex_s, mib(ex_peak));
      std::printf("  randomized vs exact: worst relative error over the top %ld %.3e (sigma_1 %.3e, sigma_k %.3e),"
                  " top-k energy %.3e; eym %.6f vs %.6f; components %ld/%ld/%ld/%ld vs %ld/%ld/%ld/%ld\n",
                  (long)topk, worst, std::fabs(s.spectrum.singular_values.front() / e.spectrum.singular_values.front() - 1),
                  std::fabs(s.spectrum.singular_values.back() / e.spectrum.singular_values.back() - 1), 1 - r_sum / e_sum,
                  s.spectrum.eym_bound_2d, e.spectrum.eym_bound_2d, (long)s.spectrum.components_for_70,
                  (long)s.spectrum.components_for_90, (long)s.spectrum.components_for_99,
                  (long)s.spectrum.components_for_999, (long)e.spectrum.components_for_70,
                  (long)e.spectrum.components_for_90, (long)e.spectrum.components_for_99,
                  (long)e.spectrum.components_for_999);
      write_text(dir + "/gs_spectrum_exact.json", analysis::to_json(e));
    }
  }
  std::printf("\nwrote %s/{H,W,y}.npy and gs_*.json (compare: bench/head_metrics_torch.py %s)\n", dir.c_str(),
              dir.c_str());
  return 0;
}
