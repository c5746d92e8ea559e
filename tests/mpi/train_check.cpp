// Run by ctest as `mpirun -np 2 train_check` in builds with MPI. First the gradient buckets
// (nn/grad_buckets.h) on their own, then data-parallel training over the
// MPI world against the same run in one process. Both ranks train together on halves of each
// global batch; rank 0 then trains the same model alone (a world of one) on whole batches, and the
// per-step losses must agree within 1e-10 relative in float64 (only the order of the sums differs)
// and 1e-3 in float32 (the rounding of that order, grown by 20 AdamW steps), and in float64 the
// final parameters too (1e-10 of their largest magnitude). Not in float32: AdamW divides each
// update by the root of its own second moment, so a gradient entry near zero whose sign the
// rounding flips moves its parameter by about lr the other way (seen: 5.6e-4 of the scale).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "comm/communicator.h"
#include "nn/grad_buckets.h"
#include "nn/lm.h"
#include "nn/trainer.h"
#include "tensor/ops.h"

using namespace gs;

namespace {

struct Run {
  std::vector<double> losses;
  std::vector<double> params;
};

// checkpoint: saved every 10 steps; keep_10: where rank 0 copies the step-10 checkpoint (it is
// overwritten at step 20). resume: continue from `checkpoint` instead.
Run train(DType dt, comm::Communicator& c, const std::string& checkpoint = "", const std::string& keep_10 = "",
          bool resume = false) {
  nn::LMConfig cfg;
  cfg.vocab = 32, cfg.d_model = 16, cfg.n_layer = 1, cfg.n_head = 2, cfg.context = 8, cfg.dtype = dt, cfg.seed = 4;
  auto model = nn::make_language_model(cfg);
  std::vector<int64_t> tokens{1, 2};
  while (tokens.size() < 3000) tokens.push_back((tokens[tokens.size() - 1] * 3 + tokens[tokens.size() - 2]) % cfg.vocab);
  nn::TrainConfig tc;
  tc.steps = 20, tc.batch = 8, tc.seq_len = 8, tc.lr = 3e-3, tc.warmup = 2, tc.progress = false, tc.seed = 9;
  tc.checkpoint_path = checkpoint;
  tc.checkpoint_every = 10;
  nn::Trainer t(model, nn::TokenStream(tokens, cfg.vocab), tc);
  t.set_communicator(c);
  if (resume) {
    t.resume(checkpoint);
  }
  Run r;
  r.losses = t.run([&](const nn::StepInfo& s) {
    // the step-10 checkpoint is written after step 10's callback: copy it at step 11
    if (s.step == 11 && !keep_10.empty() && c.is_root()) std::filesystem::copy_file(checkpoint, keep_10);
  });
  for (const auto& [name, p] : model->named_parameters())
    for (double v : op::to(p, kFloat64).to_vector<double>()) r.params.push_back(v);
  return r;
}

double max_rel(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i) scale = std::max(scale, std::abs(b[i])), diff = std::max(diff, std::abs(a[i] - b[i]));
  return diff / std::max(scale, 1e-300);
}

}  // namespace

// Buckets of 4 KiB on the same model: every bucket's collective starts inside the backward pass
// (from the hooks), and finish() leaves in each .grad the mean of the ranks' own gradients.
int check_buckets(comm::Communicator& world) {
  nn::LMConfig cfg;
  cfg.vocab = 32, cfg.d_model = 16, cfg.n_layer = 1, cfg.n_head = 2, cfg.context = 8, cfg.dtype = kFloat64, cfg.seed = 4;
  auto model = nn::make_language_model(cfg);
  nn::GradBuckets buckets(model->named_parameters(), world, 4096);
  Generator g(100 + world.rank());  // each rank its own batch
  const Tensor x = randint({2, 8}, cfg.vocab, g), y = randint({2, 8}, cfg.vocab, g);
  // the expected result: this rank's gradients, summed over the ranks with the blocking call
  backward(model->loss(x, y));
  std::vector<std::vector<double>> want;
  for (const auto& [n, p] : model->named_parameters()) {
    want.push_back(grad_of(p).to_vector<double>());
    world.all_reduce_sum(want.back().data(), int64_t(want.back().size()), comm::Elem::f64);
    for (double& v : want.back()) v /= world.size();
    zero_grad(p);
  }
  buckets.arm();
  backward(model->loss(x, y));
  const int64_t during = buckets.started();
  buckets.finish();
  double worst = 0;
  size_t k = 0;
  for (const auto& [n, p] : model->named_parameters()) {
    const std::vector<double> got = grad_of(p).to_vector<double>();
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[k][i]));
    ++k;
  }
  const bool ok = buckets.buckets() > 2 && during == buckets.buckets() && worst <= 1e-15;
  if (world.rank() == 0)
    std::printf("train_check buckets: %lld buckets of <= 4 KiB, %lld started during backward, max |grad - mean| %.1e: %s\n",
                static_cast<long long>(buckets.buckets()), static_cast<long long>(during), worst, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

int main() {
  comm::Communicator& world = comm::world();
  int bad = check_buckets(world);
  for (const auto& [dt, tol] : {std::pair{kFloat64, 1e-10}, std::pair{kFloat32, 1e-3}}) {
    const Run dp = train(dt, world);
    if (world.rank() != 0) continue;
    auto one = comm::make_single();
    const Run ref = train(dt, *one);
    double loss_rel = 0;
    for (size_t i = 0; i < ref.losses.size(); ++i)
      loss_rel = std::max(loss_rel, std::abs(dp.losses[i] - ref.losses[i]) / std::abs(ref.losses[i]));
    const double param_rel = max_rel(dp.params, ref.params);
    const bool params_ok = dt == kFloat32 || param_rel <= tol;
    const bool ok = dp.losses.size() == 20 && ref.losses.size() == 20 && loss_rel <= tol && params_ok &&
                    ref.losses.back() < ref.losses.front();
    std::printf("train_check %s: %d ranks vs 1 process, 20 steps: loss %.6f -> %.6f, max relative difference of the "
                "losses %.2e, of the parameters %.2e (tolerance %.0e): %s\n",
                dt == kFloat64 ? "float64" : "float32", world.size(), ref.losses.front(), ref.losses.back(), loss_rel,
                param_rel, tol, ok ? "ok" : "FAILED");
    bad += !ok;
  }
  // Resume at another world size: the ranks train together, writing a checkpoint at step 10 (rank 0
  // writes it); one process resumes that checkpoint to step 20 and must land where 20 steps in one
  // process land.
  {
    const std::string ck = "/tmp/gs_train_check_" + std::to_string(getppid()) + ".safetensors";
    const std::string ck10 = ck + ".step10";
    if (world.rank() == 0) std::filesystem::remove(ck10);
    train(kFloat64, world, ck, ck10);
    if (world.rank() == 0) {
      auto one = comm::make_single();
      Run resumed = train(kFloat64, *one, ck10, "", /*resume=*/true);
      std::filesystem::remove(ck);
      std::filesystem::remove(ck10);
      const Run ref = train(kFloat64, *one);
      double loss_rel = 0;
      for (size_t i = 0; i < resumed.losses.size(); ++i)  // the resumed run's steps 11..20
        loss_rel = std::max(loss_rel, std::abs(resumed.losses[i] - ref.losses[10 + i]) / std::abs(ref.losses[10 + i]));
      const double param_rel = max_rel(resumed.params, ref.params);
      const bool ok = resumed.losses.size() == 10 && loss_rel <= 1e-10 && param_rel <= 1e-10;
      std::printf("train_check resume: 10 steps on %d ranks, resumed to 20 in one process: losses %.2e, parameters "
                  "%.2e from the one-process run (tolerance 1e-10): %s\n",
                  world.size(), loss_rel, param_rel, ok ? "ok" : "FAILED");
      bad += !ok;
    }
  }
  world.barrier();
  if (world.rank() == 0 && bad == 0) std::printf("train_check: data-parallel training matches one process\n");
  return bad == 0 ? 0 : 1;
}
