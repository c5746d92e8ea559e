// gradscope mlp-demo: a 2-layer MLP language model learns a synthetic sequence rule
// (x[t] = (x[t-1] + x[t-2]) mod V, Fibonacci modulo V) from the previous two tokens.
// Prints the loss as it falls, then one backward pass node by node: the gradient norm that
// arrives at every node from the loss down to the embeddings.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/dot.h"
#include "autograd/ops.h"
#include "demos/cli/commands.h"
#include "demos/cli/options.h"
#include "tensor/ops.h"

namespace gs::cli {
namespace {

struct Batch {
  Tensor context;  // [B, 2] int64: x[t-2], x[t-1]
  Tensor target;   // [B] int64: x[t]
};

Batch sample(int64_t B, int64_t V, Generator& gen) {
  std::vector<int64_t> ctx(2 * B), tgt(B);
  for (int64_t i = 0; i < B; ++i) {
    const int64_t a = gen.randint(V), b = gen.randint(V);
    ctx[2 * i] = a;
    ctx[2 * i + 1] = b;
    tgt[i] = (a + b) % V;
  }
  return {from_vector(ctx, {B, 2}), from_vector(tgt, {B})};
}

struct Model {
  Tensor emb, w1, b1, w2, b2;
  std::vector<Tensor> params() const { return {emb, w1, b1, w2, b2}; }
};

Tensor param(Tensor t, const char* name) { return set_name(requires_grad(std::move(t)), name); }

Model init(int64_t V, int64_t E, int64_t H, Generator& gen) {
  const double s1 = 1.0 / std::sqrt(2.0 * E), s2 = 1.0 / std::sqrt(static_cast<double>(H));
  return {param(randn({V, E}, gen, kFloat32, 0, 1.0), "embed.weight"),
          param(randn({H, 2 * E}, gen, kFloat32, 0, s1), "fc1.weight"), param(zeros({H}), "fc1.bias"),
          param(randn({V, H}, gen, kFloat32, 0, s2), "head.weight"), param(zeros({V}), "head.bias")};
}

// Forward pass; every node is named so the trace reads like the model.
Tensor loss_of(const Model& m, const Batch& b) {
  const int64_t B = b.target.numel();
  Tensor e = set_name(embedding(m.emb, b.context), "embed");                    // [B, 2, E]
  Tensor x = set_name(reshape(e, {B, -1}), "context");                          // [B, 2E]
  Tensor h = set_name(add(matmul(x, transpose(m.w1, 0, 1)), m.b1), "fc1");      // [B, H]
  Tensor a = set_name(gelu(h), "fc1.gelu");                                     // [B, H]
  Tensor z = set_name(add(matmul(a, transpose(m.w2, 0, 1)), m.b2), "head.logits");  // [B, V]
  return set_name(cross_entropy(z, b.target), "loss");
}

// Records name, op, shape and gradient norm of every node of one backward pass.
// Rows by unique id (name#k where several nodes share a name, e.g. the two layers' matmuls):
// ids is set to graph_ids(loss) before the traced backward.
struct NormTrace : Observer {
  struct Row {
    std::string id, op, shape;
    double norm;
  };
  std::vector<Row> rows;
  GraphIds ids;
  void on_node(const NodeEvent& e) override {
    const double n = std::sqrt(op::sum(op::mul(e.grad_output, e.grad_output)).item<double>());
    rows.push_back({ids.of(&e.node), e.node.op, shape_str(e.node.output_shape), n});
  }
  void on_leaf(const LeafEvent& e) override {
    const double n = std::sqrt(op::sum(op::mul(e.grad, e.grad)).item<double>());
    rows.push_back({ids.of(&e.leaf), "(parameter)", shape_str(e.grad.shape()), n});
  }
};

}  // namespace

int run_mlp_demo(const Args& args) {
  Options o("mlp-demo", "Train a 2-layer MLP LM on x[t] = (x[t-1] + x[t-2]) mod V; print loss and per-node gradient norms.");
  o.add("vocab", "23", "vocabulary size V")
      .add("embed", "16", "embedding width E")
      .add("hidden", "128", "hidden width H")
      .add("batch", "256", "sequences per step")
      .add("steps", "600", "SGD steps")
      .add("lr", "0.5", "learning rate (plain SGD on the mean cross-entropy)")
      .add("seed", "1", "random seed")
      .add("print-every", "50", "print the loss every N steps");
  if (!o.parse(args)) return 0;
  const int64_t V = o.integer("vocab"), E = o.integer("embed"), H = o.integer("hidden"), B = o.integer("batch");
  const int64_t steps = o.integer("steps"), every = std::max<int64_t>(1, o.integer("print-every"));
  const double lr = o.number("lr");
  if (V < 2 || E < 1 || H < 1 || B < 1 || steps < 1) throw Error("mlp-demo: sizes and steps must be positive (vocab >= 2)");
  if (!(lr > 0)) throw Error("option --lr: must be > 0, got " + o.str("lr"));

  Generator gen(static_cast<uint64_t>(o.integer("seed")));
  Model m = init(V, E, H, gen);
  std::printf("gradscope mlp-demo: V=%ld E=%ld H=%ld batch=%ld steps=%ld lr=%g\n", (long)V, (long)E, (long)H, (long)B,
              (long)steps, lr);
  std::printf("task: predict x[t] = (x[t-1] + x[t-2]) mod %ld; chance loss ln(V) = %.3f\n\n", (long)V,
              std::log(static_cast<double>(V)));
  std::printf("%8s  %10s  %9s\n", "step", "loss", "accuracy");

  Batch held_out = sample(1024, V, gen);
  auto accuracy = [&]() {
    NoGradGuard ng;
    const int64_t N = held_out.target.numel();
    Tensor e = op::reshape(op::embedding(m.emb, held_out.context), {N, -1});
    Tensor a = op::gelu(op::add(op::matmul(e, m.w1, false, true), m.b1));
    Tensor z = op::add(op::matmul(a, m.w2, false, true), m.b2);
    const auto pred = op::argmax(z, 1).to_vector<int64_t>();
    const auto tgt = held_out.target.to_vector<int64_t>();
    int64_t ok = 0;
    for (int64_t i = 0; i < N; ++i) ok += pred[i] == tgt[i];
    return static_cast<double>(ok) / static_cast<double>(N);
  };

  NormTrace trace;
  for (int64_t step = 0; step <= steps; ++step) {
    Batch b = sample(B, V, gen);
    Tensor loss = loss_of(m, b);
    // a diverged run used to print a table of nan and exit 0
    if (!std::isfinite(loss.item<double>()))
      throw Error("loss is " + std::to_string(loss.item<double>()) + " at step " + std::to_string(step) +
                  "; lower --lr");
    const bool last = step == steps;
    if (last) {
      trace.ids = graph_ids(loss);
      ObserverScope scope(trace);
      backward(loss);
    } else {
      backward(loss);
    }
    if (step % every == 0 || last) std::printf("%8ld  %10.4f  %8.1f%%\n", (long)step, loss.item<double>(), 100 * accuracy());
    if (last) break;
    NoGradGuard ng;
    for (const Tensor& p : m.params()) {
      op::axpy_(p, -lr, grad_of(p));
      zero_grad(p);
    }
  }

  std::printf("\nbackward pass at the last step, node by node (newest first):\n");
  std::printf("%-16s %-14s %-12s %12s\n", "node", "op", "shape", "||grad||");
  for (const auto& r : trace.rows) std::printf("%-16s %-14s %-12s %12.4e\n", r.id.c_str(), r.op.c_str(), r.shape.c_str(), r.norm);
  return 0;
}

}  // namespace gs::cli
