// Graph export: the dot text is well formed, names every node and leaf, and carries values and
// gradient norms when asked. Checked structurally, and by Graphviz's parser when `dot` exists.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include "autograd/ops.h"
#include "tensor/ops.h"

using namespace gs;

namespace {
struct Parsed {
  std::set<std::string> nodes;
  std::vector<std::pair<std::string, std::string>> edges;
  bool balanced = false;
};
Parsed parse(const std::string& dot) {
  Parsed p;
  p.balanced = dot.rfind("digraph", 0) == 0 && dot.find('{') != std::string::npos && dot.back() == '\n' &&
               dot.substr(dot.size() - 2) == "}\n";
  const std::regex node_re(R"(^\s+(\w+) \[shape=)"), edge_re(R"(^\s+(\w+) -> (\w+);)");
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, node_re)) p.nodes.insert(m[1]);
    else if (std::regex_search(line, m, edge_re)) p.edges.emplace_back(m[1], m[2]);
  }
  return p;
}
}  // namespace

TEST_CASE("to_dot: nodes, leaves and edges of a small graph", "[autograd][dot]") {
  Tensor w = set_name(requires_grad(tensor({{1, 2}, {3, 4}}, kFloat64)), "w");
  Tensor x = tensor({{1, -1}}, kFloat64);
  Tensor h = set_name(matmul(x, w), "h");
  Tensor y = set_name(tanh(h), "out \"quoted\"");
  GradNormRecorder rec;
  {
    ObserverScope s(rec);
    backward(y, ones({1, 2}, kFloat64), /*retain_graph=*/true);
  }
  DotOptions o;
  o.values = true;
  o.grads = &rec;
  const std::string dot = to_dot(y, o);
  const Parsed p = parse(dot);
  REQUIRE(p.balanced);
  REQUIRE(p.nodes.size() == 3);  // tanh, matmul, leaf w
  REQUIRE(p.edges.size() == 2);
  for (const auto& [a, b] : p.edges) {
    REQUIRE(p.nodes.count(a));
    REQUIRE(p.nodes.count(b));
  }
  REQUIRE(dot.find("out \\\"quoted\\\"\\ntanh  [1, 2]") != std::string::npos);
  REQUIRE(dot.find("w\\n[2, 2]") != std::string::npos);
  REQUIRE(dot.find("= [-2, -2]") != std::string::npos);  // h = x w = [1-3, 2-4]
  REQUIRE(dot.find("|grad| = ") != std::string::npos);
  // dot's own parser, when Graphviz is installed (scripts/setup installs it)
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    const std::string path = "gs_test_graph.dot";
    std::ofstream(path) << dot;
    REQUIRE(std::system(("dot -Tsvg " + path + " -o /dev/null").c_str()) == 0);
    std::remove(path.c_str());
  } else {
    WARN("graphviz `dot` not installed: structural check only");
  }
}

TEST_CASE("graph_ids: repeated names get #k in creation order, unique ones stay plain", "[autograd][dot]") {
  Tensor x = set_name(requires_grad(tensor({0.5, -1.0}, kFloat64)), "x");
  Tensor a, b, c, y;
  {
    NameScope scope("head");
    a = exp(x);     // head.exp, created first
    b = exp(a);     // head.exp again
    c = mul(a, b);  // head.mul, the only one
  }
  Tensor u = set_name(requires_grad(tensor({2.0, 3.0}, kFloat64)), "head.exp");  // a leaf sharing the name
  y = sum(mul(c, u));
  const GraphIds ids = graph_ids(y);
  REQUIRE(ids.nodes.size() == 5);  // exp, exp, mul, mul, sum
  REQUIRE(ids.leaves.size() == 2);
  CHECK(ids.of(grad_fn(a).get()) == "head.exp#1");
  CHECK(ids.of(grad_fn(b).get()) == "head.exp#2");
  CHECK(ids.of(u.impl()->autograd.get()) == "head.exp#3");  // leaves after nodes
  CHECK(ids.of(grad_fn(c).get()) == "head.mul");
  CHECK(ids.of(x.impl()->autograd.get()) == "x");
  std::set<std::string> all;
  for (const auto& [n, id] : ids.nodes) all.insert(id);
  for (const auto& [m, id] : ids.leaves) all.insert(id);
  CHECK(all.size() == 7);  // every id unique

  // an id never takes a name something else already has: "head.exp#1" is taken, so the two
  // unnamed-by-hand exps become #2 and #3
  Tensor p = set_name(requires_grad(tensor({1.0}, kFloat64)), "p");
  Tensor e1, e2;
  {
    NameScope scope("head");
    e1 = exp(p);
    e2 = exp(e1);
  }
  Tensor taken = set_name(mul(e2, e1), "head.exp#1");
  const GraphIds ids2 = graph_ids(taken);
  CHECK(ids2.of(grad_fn(taken).get()) == "head.exp#1");
  CHECK(ids2.of(grad_fn(e1).get()) == "head.exp#2");
  CHECK(ids2.of(grad_fn(e2).get()) == "head.exp#3");

  // to_dot labels every node and leaf by its id
  const std::string dot = to_dot(y);
  CHECK(dot.find("label=\"head.exp#1\\nexp  [2]\"") != std::string::npos);
  CHECK(dot.find("label=\"head.exp#2\\nexp  [2]\"") != std::string::npos);
  CHECK(dot.find("label=\"head.exp#3\\n[2]\"") != std::string::npos);
  CHECK(dot.find("label=\"head.exp\\n") == std::string::npos);  // the bare repeated name is gone
  CHECK(dot.find("label=\"head.mul\\nmul  [2]\"") != std::string::npos);
}

TEST_CASE("to_dot: a gradient at rounding level of the largest is marked", "[autograd][dot]") {
  // d/dw of sum(w * s) is s: one entry of 1e-9 next to 1
  Tensor w = set_name(requires_grad(tensor({1.0, 1.0}, kFloat64)), "w");
  Tensor v = set_name(requires_grad(tensor({1.0}, kFloat64)), "v");
  Tensor y = add(sum(mul(w, tensor({1.0, 0.0}, kFloat64))), sum(mul(v, tensor({1e-9}, kFloat64))));
  GradNormRecorder rec;
  {
    ObserverScope s(rec);
    backward(y, Tensor(), /*retain_graph=*/true);
  }
  DotOptions o;
  o.grads = &rec;
  o.negligible = 1e-6;
  const std::string marked = to_dot(y, o);
  CHECK(marked.find("v\\n[1]\\n|grad| = 1.000e-09 (~0: rounding)") != std::string::npos);
  CHECK(marked.find("w\\n[2]\\n|grad| = 1.000e+00\"") != std::string::npos);
  o.negligible = 0;  // the default: no marks
  CHECK(to_dot(y, o).find("rounding") == std::string::npos);
}
