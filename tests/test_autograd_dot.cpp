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
