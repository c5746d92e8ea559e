#pragma once
// Thread-local switches: grad mode (no_grad), anomaly mode, and name scopes for node names.
#include <string>

namespace gs {

bool is_grad_enabled();
void set_grad_enabled(bool on);

// RAII: no graph is recorded while alive (inference, optimiser updates, vjps).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// Anomaly mode: every recorded op's output and every vjp's gradients are checked for NaN/Inf;
// the error names the op, the node and (for backward) which input.
bool is_anomaly_enabled();
void set_anomaly_enabled(bool on);
class AnomalyGuard {
 public:
  explicit AnomalyGuard(bool on = true) : prev_(is_anomaly_enabled()) { set_anomaly_enabled(on); }
  ~AnomalyGuard() { set_anomaly_enabled(prev_); }
  AnomalyGuard(const AnomalyGuard&) = delete;
  AnomalyGuard& operator=(const AnomalyGuard&) = delete;

 private:
  bool prev_;
};

// Name scopes: nodes created inside NameScope("blocks.1") NameScope("attn") default to the name
// "blocks.1.attn.<op>".
class NameScope {
 public:
  explicit NameScope(const std::string& name);
  ~NameScope();
  NameScope(const NameScope&) = delete;
  NameScope& operator=(const NameScope&) = delete;

 private:
  size_t prev_len_;
};
const std::string& current_name_scope();

}  // namespace gs
