// Run by ctest as `mpirun -np 2 analysis_check` in builds with MPI: the head metrics across ranks
// (HeadMetricsOptions::comm, analysis/head_bottleneck.h "Across ranks") against one process on all
// the rows, in float64. Every rank builds the same data, takes an uneven share of the rows (odd N;
// rank r of R starts at row N r^2 / R^2, so the shares differ in size and a few ignored targets
// fall on some ranks only), and measures with the world; every rank also measures all the rows
// alone (no communicator) and compares every reported figure: the sums, the per-token percentiles,
// the update terms and the spectrum on both exact paths (G^T G for N > V, G G^T from every rank's
// column blocks for N <= V) and the randomized one; head_metrics, grad_metrics and
// HeadMetricsStream; measure_bottleneck on a model (fused and logits paths, and a head that is not
// linear: the Jacobian metric); and the checks that every rank throws together. The issue asks for
// 1e-6 relative; only the order of the sums differs, so the achieved figure (printed) should be
// many orders of magnitude below it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "analysis/data_parallel.h"
#include "analysis/head_bottleneck.h"
#include "analysis/monitor.h"
#include "autograd/ops.h"
#include "comm/communicator.h"
#include "nn/lm.h"
#include "tensor/ops.h"

using namespace gs;

namespace {

constexpr double kTol = 1e-6;

// The largest relative difference over the figures compared so far, and where it was.
struct Diff {
  double worst = 0;
  std::string where;
  bool exact_ok = true;  // counts, flags and sizes that must agree exactly
  std::string exact_where;

  void num(const std::string& what, double got, double want, double scale = -1) {
    if (std::isnan(got) && std::isnan(want)) return;
    double d = std::abs(got - want);
    const double s = scale >= 0 ? scale : std::max(std::abs(got), std::abs(want));
    d = std::isnan(d) ? std::numeric_limits<double>::infinity() : (s > 0 ? d / s : d);
    if (d > worst) worst = d, where = what;
  }
  void same(const std::string& what, int64_t got, int64_t want) {
    if (got != want && exact_ok) exact_ok = false, exact_where = what + " " + std::to_string(got) + " vs " + std::to_string(want);
  }
};

void compare(Diff& d, const analysis::HeadMetrics& got, const analysis::HeadMetrics& want) {
  d.same("tokens", got.tokens, want.tokens);
  d.same("per_token.count", got.per_token.count, want.per_token.count);
  d.num("loss", got.loss, want.loss);
  d.num("logit_grad_norm", got.logit_grad_norm, want.logit_grad_norm);
  d.num("visible_norm", got.visible_norm, want.visible_norm);
  d.num("destroyed_fraction", got.destroyed_fraction, want.destroyed_fraction);
  d.num("visible_cosine", got.visible_cosine, want.visible_cosine);
  d.num("hidden_grad_norm", got.hidden_grad_norm, want.hidden_grad_norm);
  d.num("per_token.mean", got.per_token.mean, want.per_token.mean);
  d.num("per_token.p5", got.per_token.p5, want.per_token.p5);
  d.num("per_token.p50", got.per_token.p50, want.per_token.p50);
  d.num("per_token.p95", got.per_token.p95, want.per_token.p95);
  d.num("update.cosine", got.update.cosine, want.update.cosine);
  d.num("update.backbone_term_norm", got.update.backbone_term_norm, want.update.backbone_term_norm);
  d.num("update.head_term_norm", got.update.head_term_norm, want.update.head_term_norm);
  d.num("column_space_destroyed_fraction", got.column_space_destroyed_fraction, want.column_space_destroyed_fraction);
  const analysis::SpectrumMetrics &a = got.spectrum, &b = want.spectrum;
  d.same("spectrum.topk", a.topk, b.topk);
  d.same("spectrum.exact", a.exact, b.exact);
  d.same("spectrum.values", static_cast<int64_t>(a.singular_values.size()), static_cast<int64_t>(b.singular_values.size()));
  if (a.singular_values.size() == b.singular_values.size() && !b.singular_values.empty()) {
    // relative to the largest: a small value from a Gram matrix carries eps sigma_max^2 / sigma_i
    // of absolute error whichever process forms it
    for (size_t i = 0; i < b.singular_values.size(); ++i)
      d.num("sigma_" + std::to_string(i), a.singular_values[i], b.singular_values[i], b.singular_values[0]);
  }
  d.same("components_for_70", a.components_for_70, b.components_for_70);
  d.same("components_for_90", a.components_for_90, b.components_for_90);
  d.same("components_for_99", a.components_for_99, b.components_for_99);
  d.same("components_for_999", a.components_for_999, b.components_for_999);
  d.num("eym_bound_2d", a.eym_bound_2d, b.eym_bound_2d);
  d.num("spectrum.residual", a.residual, b.residual, 1.0);
  d.same("metric", got.metric == want.metric, 1);
}

// Rows [first(r), first(r + 1)) are rank r's: N r^2 / R^2, uneven on purpose.
int64_t first_row(int64_t N, int r, int R) { return N * r * r / (int64_t(R) * R); }

Tensor rows_of(const Tensor& x, int64_t N, const comm::Communicator& c) {
  const int64_t a = first_row(N, c.rank(), c.size()), b = first_row(N, c.rank() + 1, c.size());
  return op::contiguous(op::narrow(x, 0, a, b - a));
}

struct Problem {
  Tensor H, W, y;
};

// H [N, D], W [V, D], targets with three ignored rows (rows 1, N / 2 and N - 2).
Problem problem(int64_t N, int64_t V, int64_t D, uint64_t seed) {
  Generator g(seed);
  Problem p{randn({N, D}, g, kFloat64), randn({V, D}, g, kFloat64, 0, 0.7), randint({N}, V, g)};
  std::vector<int64_t> t = p.y.to_vector<int64_t>();
  t[1] = t[static_cast<size_t>(N / 2)] = t[static_cast<size_t>(N - 2)] = -100;
  p.y = from_vector(t);
  return p;
}

// One case: the figures of every kind of call on the shares against one process on all the rows.
double check_case(comm::Communicator& world, const char* name, int64_t N, int64_t V, int64_t D,
                  analysis::HeadMetricsOptions o, int& bad) {
  const Problem p = problem(N, V, D, 7 + static_cast<uint64_t>(V));
  const analysis::HeadBasis basis = analysis::head_basis(p.W);
  const Tensor Hr = rows_of(p.H, N, world), yr = rows_of(p.y, N, world);
  Diff d;

  analysis::HeadMetricsOptions one = o, all = o;
  all.comm = &world;
  // head_metrics
  const analysis::HeadMetrics ref = analysis::head_metrics(p.H, p.W, p.y, basis, one);
  compare(d, analysis::head_metrics(Hr, p.W, yr, basis, all), ref);
  compare(d, analysis::head_metrics(Hr, p.W, yr, all), analysis::head_metrics(p.H, p.W, p.y, one));
  // grad_metrics on the rows of the global G (every row a token, loss NaN)
  const Tensor G = analysis::logit_grad(p.H, p.W, p.y);
  compare(d, analysis::grad_metrics(rows_of(G, N, world), Hr, basis, all), analysis::grad_metrics(G, p.H, basis, one));
  // HeadMetricsStream: each rank's fused pass over its own share, G of its own mean loss
  {
    analysis::HeadMetricsStream s(p.W, yr, basis, all);
    LinearCrossEntropyOptions lo;
    lo.chunk = 5;
    lo.on_chunk = s.on_chunk();
    const Tensor loss = linear_cross_entropy(Hr, p.W, yr, lo);  // this rank's own mean
    (void)loss;
    compare(d, s.finish(), ref);
  }
  const bool ok = d.worst <= kTol && d.exact_ok;
  if (world.rank() == 0 || !ok)
    std::printf("analysis_check %s (N = %ld, V = %ld, D = %ld; %s spectrum): rank %d, max relative difference %.2e "
                "(%s)%s%s: %s\n",
                name, long(N), long(V), long(D), ref.spectrum.exact ? "exact" : "randomized", world.rank(), d.worst,
                d.where.c_str(), d.exact_ok ? "" : ", differs: ", d.exact_ok ? "" : d.exact_where.c_str(),
                ok ? "ok" : "FAILED");
  bad += !ok;
  return d.worst;
}

std::shared_ptr<nn::LanguageModel> model_with(const std::string& head) {  // tiny, float64
  nn::LMConfig c;
  c.head = nn::parse_head(head);
  c.rank = head == "factorized" ? 3 : 0;
  c.vocab = 40;
  c.d_model = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.context = 8;
  c.dtype = kFloat64;
  c.seed = 3;
  return nn::make_language_model(c);
}

// measure_bottleneck on each rank's share of one batch against one process on the whole batch.
double check_monitor(comm::Communicator& world, const char* head, bool fused, int& bad) {
  const auto model = model_with(head);
  Generator g(11);
  const int64_t B = 2 * world.size();  // rank_share needs B to split evenly
  const nn::Batch batch{randint({B, 8}, 40, g), randint({B, 8}, 40, g)};
  analysis::MonitorOptions one, all;
  one.fused = all.fused = fused;
  all.comm = &world;
  const analysis::BottleneckSample want = analysis::measure_bottleneck(*model, batch, 0, one);
  const analysis::BottleneckSample got = analysis::measure_bottleneck(*model, nn::rank_share(batch, &world), 0, all);
  Diff d;
  compare(d, got.head, want.head);
  d.num("sample.loss", got.loss, want.loss);
  d.same("pass", got.fused, want.fused);
  const bool ok = d.worst <= kTol && d.exact_ok;
  if (world.rank() == 0 || !ok)
    std::printf("analysis_check measure_bottleneck (%s head, %s, %s metric, %ld tokens): rank %d, max relative "
                "difference %.2e (%s)%s%s: %s\n",
                head, want.fused ? "fused" : "logits", want.head.metric.c_str(), long(want.head.tokens), world.rank(),
                d.worst, d.where.c_str(), d.exact_ok ? "" : ", differs: ", d.exact_ok ? "" : d.exact_where.c_str(),
                ok ? "ok" : "FAILED");
  bad += !ok;
  return d.worst;
}

// A bad input on one rank: every rank throws (that rank its own message, the others one that
// points to it) instead of the others waiting in a collective.
void check_errors(comm::Communicator& world, int& bad) {
  const Problem p = problem(9, 12, 3, 1);
  const Tensor Hr = rows_of(p.H, 9, world);
  Tensor yr = rows_of(p.y, 9, world);
  if (world.rank() == world.size() - 1) {  // the last rank's share is never empty
    std::vector<int64_t> t = yr.to_vector<int64_t>();
    t[0] = 12;  // out of range for V = 12
    yr = from_vector(t);
  }
  analysis::HeadMetricsOptions o;
  o.comm = &world;
  std::string msg;
  try {
    analysis::head_metrics(Hr, p.W, yr, o);
  } catch (const std::exception& e) {
    msg = e.what();
  }
  const bool mine = world.rank() == world.size() - 1;
  const bool ok_target = mine ? msg.find("out of range") != std::string::npos
                              : msg.find("failed their checks") != std::string::npos;
  // options that differ between the ranks
  analysis::HeadMetricsOptions q;
  q.comm = &world;
  q.topk = world.rank();  // 0 on rank 0, 1 on rank 1
  std::string msg2;
  try {
    analysis::head_metrics(Hr, p.W, rows_of(p.y, 9, world), q);
  } catch (const std::exception& e) {
    msg2 = e.what();
  }
  const bool ok_options = msg2.find("the head-metric options differ between the") != std::string::npos;
  const bool ok = ok_target && ok_options;
  if (world.rank() == 0 || !ok)
    std::printf("analysis_check errors: rank %d threw \"%s\" and \"%s\": %s\n", world.rank(), msg.c_str(), msg2.c_str(),
                ok ? "ok" : "FAILED");
  bad += !ok;
}

}  // namespace

int main() {
  comm::Communicator& world = comm::world();
  int bad = 0;
  double worst = 0;
  analysis::HeadMetricsOptions o;
  o.chunk = 6;  // several chunks per share
  o.topk = 1000;  // every singular value on the exact paths
  worst = std::max(worst, check_case(world, "G^T G", 37, 24, 5, o, bad));  // N > V
  o.memory_budget_bytes = 12000;  // column blocks of 10 of V = 96: the ranks alternate
  worst = std::max(worst, check_case(world, "G G^T", 37, 96, 6, o, bad));  // N <= V
  analysis::HeadMetricsOptions r;
  r.chunk = 6;
  r.exact_spectrum_max_side = 0;  // randomized
  r.topk = 4;
  r.oversample = 4;
  r.spectrum_rtol = 1e-10;  // converged far below the tolerance, whichever pass each run stops at
  r.max_power_iters = 400;
  worst = std::max(worst, check_case(world, "randomized", 37, 96, 6, r, bad));
  r.update_terms = false;
  worst = std::max(worst, check_case(world, "no update terms", 37, 96, 6, r, bad));
  worst = std::max(worst, check_monitor(world, "full", true, bad));
  worst = std::max(worst, check_monitor(world, "full", false, bad));
  worst = std::max(worst, check_monitor(world, "factorized", true, bad));
  worst = std::max(worst, check_monitor(world, "mlp", false, bad));
  check_errors(world, bad);
  int64_t failed = bad;
  world.all_reduce_sum(&failed, 1, comm::Elem::i64);
  if (world.rank() == 0 && failed == 0)
    std::printf("analysis_check: head metrics across %d ranks match one process (largest relative difference %.2e, "
                "tolerance %.0e)\n",
                world.size(), worst, kTol);
  return failed == 0 ? 0 : 1;
}
