#include "autograd/grad_mode.h"

namespace gs {
namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_anomaly = false;
thread_local std::string t_scope;
}  // namespace

bool is_grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }
bool is_anomaly_enabled() { return t_anomaly; }
void set_anomaly_enabled(bool on) { t_anomaly = on; }

NameScope::NameScope(const std::string& name) : prev_len_(t_scope.size()) {
  if (!t_scope.empty()) t_scope += '.';
  t_scope += name;
}
NameScope::~NameScope() { t_scope.resize(prev_len_); }
const std::string& current_name_scope() { return t_scope; }

}  // namespace gs
