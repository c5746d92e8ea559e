// The engine: accumulation, retain_graph, hooks, retain_grad, observer, explicit upstream
// gradients, functional grad(), no_grad, anomaly mode, long chains, shape checks on vjps.
#include <catch2/catch.hpp>

#include "autograd/ops.h"
#include "autograd/registry.h"

#include <map>
#include "tensor/ops.h"

using namespace gs;
using Catch::Matchers::Contains;

namespace {
Tensor leaf(std::vector<double> v, Shape s = {}) {
  if (s.empty()) s = {static_cast<int64_t>(v.size())};
  return requires_grad(from_vector(v, s));
}
std::vector<double> gradv(const Tensor& t) { return grad_of(t).to_vector<double>(); }
}  // namespace

TEST_CASE("reused inputs accumulate, leaf grads accumulate across backward calls", "[autograd][engine]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = op::sum(mul(x, x));  // not differentiable: op:: is the plain layer
  REQUIRE_FALSE(requires_grad_flag(y));
  Tensor l = mul(x, x);  // d/dx sum(x*x) = 2x, from two uses of x in one node
  backward(l, ones({3}, kFloat64));
  REQUIRE(gradv(x) == std::vector<double>{2, 4, 6});
  Tensor l2 = add(mul(x, 3.0), x);  // x reused by two nodes: 3 + 1
  backward(l2, ones({3}, kFloat64));
  REQUIRE(gradv(x) == std::vector<double>{6, 8, 10});  // accumulated onto the previous .grad
  zero_grad(x);
  REQUIRE_FALSE(grad_of(x).defined());
}

TEST_CASE("set_grad replaces .grad, checks shape, dtype and requires-grad, and the next backward adds to it",
          "[autograd][engine]") {
  Tensor x = leaf({1, 2});
  set_grad(x, from_vector(std::vector<double>{5, 7}, {2}));
  REQUIRE(gradv(x) == std::vector<double>{5, 7});
  backward(mul(x, 2.0), ones({2}, kFloat64));
  REQUIRE(gradv(x) == std::vector<double>{7, 9});
  set_grad(x, Tensor());
  REQUIRE_FALSE(grad_of(x).defined());
  // a gradient inside a graph (here x itself, and a product of x) is stored detached: no cycle
  set_grad(x, mul(x, 2.0));
  REQUIRE_FALSE(requires_grad_flag(grad_of(x)));
  REQUIRE(gradv(x) == std::vector<double>{2, 4});
  set_grad(x, x);
  REQUIRE_FALSE(requires_grad_flag(grad_of(x)));
  REQUIRE(gradv(x) == std::vector<double>{1, 2});
  REQUIRE_THROWS_WITH(set_grad(x, zeros({3}, kFloat64)), Contains("set_grad: gradient float64 [3]"));
  REQUIRE_THROWS_WITH(set_grad(x, zeros({2})), Contains("set_grad: gradient float32 [2]"));
  REQUIRE_THROWS_WITH(set_grad(from_vector(std::vector<double>{1}, {1}), zeros({1}, kFloat64)),
                      Contains("set_grad: tensor [1] does not require grad"));
}

TEST_CASE("a freed graph cannot be reused unless retain_graph", "[autograd][engine]") {
  Tensor x = leaf({2});
  Tensor y = set_name(exp(mul(x, x)), "y.exp");
  backward(y, Tensor(), /*retain_graph=*/true);
  const double g1 = grad_of(x).item<double>();
  backward(y);
  REQUIRE(grad_of(x).item<double>() == Approx(2 * g1));
  REQUIRE_THROWS_WITH(backward(y), Contains("backward: the graph of node 'y.exp' (exp) was already freed"));
}

TEST_CASE("hooks see and replace gradients, retain_grad keeps non-leaf grads", "[autograd][hooks]") {
  Tensor x = leaf({1, 2});
  Tensor h = mul(x, 2.0);
  retain_grad(h);
  std::vector<double> seen;
  register_hook(h, [&](const Tensor& g) -> std::optional<Tensor> {
    seen = g.to_vector<double>();
    return op::mul(g, 10.0);  // replaces the gradient flowing on to x
  });
  Tensor l = mul(h, h);
  backward(l, ones({2}, kFloat64));
  REQUIRE(seen == std::vector<double>{4, 8});               // dl/dh = 2h
  REQUIRE(gradv(h) == std::vector<double>{40, 80});         // retained after the hook
  REQUIRE(gradv(x) == std::vector<double>{80, 160});        // 10 * 2h * 2
  // a leaf hook runs once on the leaf's total gradient
  Tensor a = leaf({1});
  int calls = 0;
  register_hook(a, [&](const Tensor&) -> std::optional<Tensor> { ++calls; return std::nullopt; });
  backward(add(mul(a, 2.0), mul(a, 3.0)));
  REQUIRE(calls == 1);
  REQUIRE(grad_of(a).item<double>() == 5);
  REQUIRE_THROWS_WITH(register_hook(from_vector(std::vector<double>{1}), [](const Tensor&) { return std::optional<Tensor>(); }),
                      Contains("register_hook: tensor '' does not require grad"));
}

TEST_CASE("observer sees every node, newest first, with names, shapes and gradients", "[autograd][observer]") {
  struct Rec : Observer {
    std::vector<std::string> names;
    std::vector<uint64_t> seqs;
    std::vector<double> norms;
    std::vector<std::string> leaves;
    void on_node(const NodeEvent& e) override {
      names.push_back(e.node.name);
      seqs.push_back(e.node.seq);
      REQUIRE(e.grad_output.shape() == e.node.output_shape);
      norms.push_back(std::sqrt(op::sum(op::mul(e.grad_output, e.grad_output)).item<double>()));
    }
    void on_leaf(const LeafEvent& e) override { leaves.push_back(e.leaf.name); }
  } rec;
  Tensor w = set_name(requires_grad(from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2})), "w");
  Tensor x = from_vector(std::vector<double>{1, 1}, {1, 2});
  Tensor loss;
  {
    NameScope s("block");
    Tensor h = matmul(x, w);      // "block.matmul"
    Tensor a = tanh(h);           // "block.tanh"
    loss = set_name(mul(a, 0.5), "loss");
  }
  {
    ObserverScope scope(rec);
    backward(loss, ones({1, 2}, kFloat64));
  }
  REQUIRE(rec.names == std::vector<std::string>{"loss", "block.tanh", "block.matmul"});
  REQUIRE(std::is_sorted(rec.seqs.rbegin(), rec.seqs.rend()));
  REQUIRE(rec.norms[0] == Approx(std::sqrt(2.0)));
  REQUIRE(rec.leaves == std::vector<std::string>{"w"});
  // outside the scope the observer is gone
  backward(mul(w, 1.0), ones({2, 2}, kFloat64));
  REQUIRE(rec.names.size() == 3);
}

TEST_CASE("backward from an intermediate with an explicit gradient, functional grad", "[autograd][engine]") {
  Tensor x = leaf({1, 2, 3});
  Tensor h = mul(x, x);
  Tensor y = exp(h);
  backward(h, from_vector(std::vector<double>{1, 0, 2}), /*retain_graph=*/true);
  REQUIRE(gradv(x) == std::vector<double>{2, 0, 12});
  zero_grad(x);
  // d(sum y)/dh at an intermediate, and d/dx, without touching .grad
  auto g = grad({y}, {h, x}, {ones({3}, kFloat64)}, /*retain_graph=*/true);
  const auto hv = h.to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(g[0].to_vector<double>()[i] == Approx(std::exp(hv[i])));
    REQUIRE(g[1].to_vector<double>()[i] == Approx(std::exp(hv[i]) * 2 * (i + 1)));
  }
  REQUIRE_FALSE(grad_of(x).defined());
  Tensor unrelated = leaf({1});
  REQUIRE_THROWS_WITH(grad({y}, {unrelated}, {ones({3}, kFloat64)}, true), Contains("not reachable"));
  REQUIRE_FALSE(grad({y}, {unrelated}, {ones({3}, kFloat64)}, true, /*allow_unused=*/true)[0].defined());
  REQUIRE_THROWS_WITH(backward(y), Contains("a gradient must be given for a non-scalar root of shape [3]"));
}

TEST_CASE("no_grad and detach build no graph", "[autograd][engine]") {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard ng;
    Tensor y = mul(x, 2.0);
    REQUIRE_FALSE(requires_grad_flag(y));
    REQUIRE(grad_fn(y) == nullptr);
  }
  REQUIRE(is_grad_enabled());
  Tensor d = detach(x);
  REQUIRE_FALSE(requires_grad_flag(d));
  REQUIRE(d.impl()->storage == x.impl()->storage);
  REQUIRE_THROWS_WITH(requires_grad(arange(3)), Contains("requires_grad: only floating-point tensors"));
  REQUIRE_THROWS_WITH(requires_grad(mul(x, 2.0)), Contains("only leaves can be marked"));
}

TEST_CASE("a 100,000-node chain runs backward and is freed without recursion", "[autograd][engine]") {
  const int64_t before = Node::live_count();
  {
    Tensor x = leaf({1.0});
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = add(y, 1e-6);
    REQUIRE(Node::live_count() - before == 100000);
    backward(y);
    REQUIRE(grad_of(x).item<double>() == 1.0);
  }
  REQUIRE(Node::live_count() == before);
}

TEST_CASE("the engine names the op whose vjp returns a wrong shape", "[autograd][engine]") {
  Tensor x = leaf({1, 2, 3});
  // A deliberately broken vjp recorded under a registered name.
  Tensor y = record("exp", op::exp(x), {x}, [](const Tensor& g) { return grads(op::narrow(g, 0, 0, 2)); });
  REQUIRE_THROWS_WITH(backward(y, ones({3}, kFloat64)),
                      Contains("vjp of 'exp' (node 'exp') returned a gradient of shape [2] for input 0 of shape [3]"));
  REQUIRE_THROWS_WITH(record("no_such_op", x, {x}, [](const Tensor& g) { return grads(g); }),
                      Contains("no_such_op: internal: not listed in autograd/registry.cpp"));
}

TEST_CASE("anomaly mode names the node that produced a NaN or Inf", "[autograd][anomaly]") {
  Tensor x = leaf({-1.0, 4.0});
  {
    AnomalyGuard on;
    NameScope s("layer");
    REQUIRE_THROWS_WITH(log(x), Contains("log: anomaly: forward output of node 'layer.log'"));
    Tensor z = leaf({0.0, 1.0});
    Tensor r = sqrt(z);  // forward finite; d sqrt / dz = inf at 0
    REQUIRE_THROWS_WITH(backward(r, ones({2}, kFloat64)), Contains("sqrt: anomaly: backward gradient for an input of node 'layer.sqrt'"));
  }
  // off by default: the same NaN passes silently
  REQUIRE(std::isnan(log(x).to_vector<double>()[0]));
}

TEST_CASE("the profiler counts every recorded op forward and backward", "[autograd][profiler]") {
  Tensor x = leaf({1, 2, 3});
  Profiler prof;
  Tensor y = exp(mul(x, x));
  Tensor z = mul(y, 2.0);
  backward(z, ones({3}, kFloat64));
  const auto t = prof.table();
  std::map<std::string, OpProfile> by;
  for (const auto& p : t) by[p.op] = p;
  REQUIRE(by["mul"].forward_calls == 2);
  REQUIRE(by["mul"].backward_calls == 2);
  REQUIRE(by["exp"].forward_calls == 1);
  REQUIRE(by["exp"].backward_calls == 1);
  REQUIRE(by["exp"].backward_ms >= 0);
  REQUIRE(prof.report().find("exp") != std::string::npos);
  {
    NoGradGuard ng;  // not recorded, not profiled
    exp(x);
  }
  REQUIRE(prof.table().size() == t.size());
}
