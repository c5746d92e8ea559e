#include "autograd/profiler.h"

#include <algorithm>
#include <cstdio>

namespace gs {
namespace {
thread_local Profiler* t_profiler = nullptr;
}

Profiler* active_profiler() { return t_profiler; }

Profiler::Profiler() : last_(std::chrono::steady_clock::now()), prev_(t_profiler) { t_profiler = this; }
Profiler::~Profiler() { t_profiler = prev_; }

void Profiler::mark() { last_ = std::chrono::steady_clock::now(); }

void Profiler::on_record(const char* op) {
  const auto now = std::chrono::steady_clock::now();
  OpProfile& p = ops_[op];
  p.op = op;
  p.forward_calls += 1;
  p.forward_ms += std::chrono::duration<double, std::milli>(now - last_).count();
  last_ = now;
}

void Profiler::on_vjp(const std::string& op, double ms) {
  OpProfile& p = ops_[op];
  p.op = op;
  p.backward_calls += 1;
  p.backward_ms += ms;
  last_ = std::chrono::steady_clock::now();  // backward time is not the next op's forward time
}

std::vector<OpProfile> Profiler::table() const {
  std::vector<OpProfile> out;
  for (const auto& [_, p] : ops_) out.push_back(p);
  std::sort(out.begin(), out.end(), [](const OpProfile& a, const OpProfile& b) {
    return a.forward_ms + a.backward_ms > b.forward_ms + b.backward_ms;
  });
  return out;
}

std::string Profiler::report() const {
  const auto t = table();
  double total = 0;
  for (const auto& p : t) total += p.forward_ms + p.backward_ms;
  std::string s;
  char line[160];
  std::snprintf(line, sizeof line, "%-16s %8s %11s %8s %11s %7s\n", "op", "fwd n", "fwd ms", "bwd n", "bwd ms", "share");
  s += line;
  for (const auto& p : t) {
    std::snprintf(line, sizeof line, "%-16s %8ld %11.2f %8ld %11.2f %6.1f%%\n", p.op.c_str(), static_cast<long>(p.forward_calls),
                  p.forward_ms, static_cast<long>(p.backward_calls), p.backward_ms,
                  total > 0 ? 100 * (p.forward_ms + p.backward_ms) / total : 0.0);
    s += line;
  }
  return s;
}

}  // namespace gs
