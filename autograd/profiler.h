#pragma once
// The engine's own timing hook: while a Profiler is alive on a thread, every differentiable op
// is timed forward and backward, per op name.
//  - backward: the wall time of each vjp, measured by the engine around the call;
//  - forward: the time from the previous recorded op (or the profiler's start) to this op's
//    record() — an op computes its output right before recording it, so this is its forward
//    time plus whatever user code ran in between (little, inside a model's forward).
// Ops run under NoGradGuard are not recorded and so not profiled.
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace gs {

struct OpProfile {
  std::string op;
  int64_t forward_calls = 0, backward_calls = 0;
  double forward_ms = 0, backward_ms = 0;
};

class Profiler {
 public:
  Profiler();
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  // Ops sorted by total (forward + backward) time, largest first.
  std::vector<OpProfile> table() const;
  // A printable table with each op's share of the profiled time.
  std::string report() const;
  // Called by record() and the engine.
  void on_record(const char* op);
  void on_vjp(const std::string& op, double ms);
  void mark();  // restart the forward clock (e.g. at the start of a forward pass)

 private:
  std::map<std::string, OpProfile> ops_;
  std::chrono::steady_clock::time_point last_;
  Profiler* prev_;
};

Profiler* active_profiler();  // null when none is alive on this thread

}  // namespace gs
