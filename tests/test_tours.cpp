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
}

TEST_CASE("tour_new_op: gradcheck passes the right vjp and reports the wrong one", "[tours]") {
  std::ostringstream out;
  REQUIRE(gs::tours::tour_new_op(out) == 0);
  const std::string s = out.str();
  REQUIRE(s.find("softplus with the right vjp: PASSED") != std::string::npos);
  REQUIRE(s.find("softplus with sigmoid(-x) in the vjp: FAILED") != std::string::npos);
  REQUIRE(count(s, "analytic") >= 1);
}
