// The teaching tours run at their default size and their key lines are right.
#include <catch2/catch.hpp>

#include <cmath>
#include <regex>
#include <sstream>

#include "demos/tours/tours.h"

namespace {
int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
double number_after(const std::string& s, const std::string& prefix) {
  std::smatch m;
  REQUIRE(std::regex_search(s, m, std::regex(prefix + R"(\s*(-?[0-9.e+-]+))")));
  return std::stod(m[1]);
}
}  // namespace

TEST_CASE("tour_autodiff: every leaf gradient agrees with finite differences and with calculus", "[tours]") {
  std::ostringstream out;
  REQUIRE(gs::tours::tour_autodiff(out) == 0);
  const std::string s = out.str();
  REQUIRE(count(s, "   agree") == 2 + 6 + 3);  // a, b; W (2x3); x (3)
  REQUIRE(count(s, "DISAGREE") == 0);
  // f(a, b) = (a b + tanh a) e^b at a = 0.5, b = -1.2, by hand
  const double a = 0.5, b = -1.2;
  const double f = (a * b + std::tanh(a)) * std::exp(b);
  const double dfa = (b + 1 - std::tanh(a) * std::tanh(a)) * std::exp(b);
  const double dfb = a * std::exp(b) + f;
  REQUIRE(number_after(s, R"(f\s+= mul\s+->)") == Approx(f).epsilon(1e-4));
  REQUIRE(number_after(s, "d f / d a: backprop") == Approx(dfa).epsilon(1e-6));
  REQUIRE(number_after(s, "d f / d b: backprop") == Approx(dfb).epsilon(1e-6));
  // the backward narration lists each vjp with what it received
  REQUIRE(s.find("vjp of matmul     at 'z': received") != std::string::npos);
  REQUIRE(s.find("sends") != std::string::npos);
  // the leaves are printed with their values, the gradients with their shapes
  REQUIRE(s.find("a [] = 0.5") != std::string::npos);
  REQUIRE(s.find("b [] = -1.2") != std::string::npos);
  REQUIRE(s.find("W [2, 3] = [[0.2, -0.4, 0.1], [0.7, 0.3, -0.5]]") != std::string::npos);
  REQUIRE(s.find("W.grad [2, 3] = [[") != std::string::npos);
  REQUIRE(s.find("x.grad [3, 1] = [[") != std::string::npos);
  REQUIRE(s.find("d f / d W[1, 2]: backprop") != std::string::npos);
}

TEST_CASE("tour_new_op: gradcheck passes the right vjp and reports the wrong one", "[tours]") {
  std::ostringstream out;
  REQUIRE(gs::tours::tour_new_op(out) == 0);
  const std::string s = out.str();
  REQUIRE(s.find("softplus with the right vjp: PASSED") != std::string::npos);
  REQUIRE(s.find("softplus with sigmoid(-x) in the vjp: FAILED") != std::string::npos);
  REQUIRE(count(s, "analytic") >= 1);
  // the tour explains the report: gradcheck weights the outputs by a random R
  REQUIRE(s.find("L(x) = <R, f(x)>") != std::string::npos);
  REQUIRE(count(s, "  check: ") == 2);
  REQUIRE(count(s, ": ok") == 2);
}

TEST_CASE("tour_autograd: accumulation, retain_graph, no_grad, detach, upstream gradients, a training loop",
          "[tours]") {
  std::ostringstream out;
  REQUIRE(gs::tours::tour_autograd(out) == 0);
  const std::string s = out.str();
  REQUIRE(s.find("after one backward:      x.grad [3] = [2, 4, 6]") != std::string::npos);
  REQUIRE(s.find("after a second backward: x.grad [3] = [4, 8, 12]") != std::string::npos);
  REQUIRE(s.find("after zero_grad(x):      x.grad = (none)") != std::string::npos);
  REQUIRE(s.find("a third backward(y) throws:") != std::string::npos);
  REQUIRE(s.find("retain_graph") != std::string::npos);
  REQUIRE(s.find("under NoGradGuard: requires_grad_flag(y) = false, grad_fn(y) is null") != std::string::npos);
  REQUIRE(s.find("outside it:        requires_grad_flag(y) = true, grad_fn(y) is a node") != std::string::npos);
  REQUIRE(s.find("v.grad [2] = [0.5, -1]") != std::string::npos);
  // the head W = [[1, 2], [3, 4], [5, 6]]: h.grad = g W, zero for g orthogonal to col(W)
  REQUIRE(s.find("backward(z) throws:") != std::string::npos);
  REQUIRE(s.find("backward(z, [[2, -1, 2]]): h.grad = [[9, 12]]") != std::string::npos);
  REQUIRE(s.find("backward(z, [[1, 1, 1]]): h.grad = [[9, 12]]") != std::string::npos);
  REQUIRE(s.find("backward(z, [[1, -2, 1]]): h.grad = [[0, 0]]") != std::string::npos);
  REQUIRE(s.find("returns [[9, 12]]; h.grad is still [[0, 0]]") != std::string::npos);
  REQUIRE(s.find("check: all 4 cases right and the loss below 0.05: ok") != std::string::npos);
  REQUIRE(number_after(s, "step 300: loss") < 0.05);
  REQUIRE(number_after(s, "step 0: loss") > number_after(s, "step 300: loss"));
}
