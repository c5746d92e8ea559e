#pragma once
// The registry of differentiable ops: one table (autograd/registry.cpp). record() refuses an op
// that is not listed, and tests/test_gradcheck_registry.cpp fails when a listed op has no
// gradcheck case.
#include <string_view>
#include <vector>

namespace gs {

struct OpInfo {
  std::string_view name;
  std::string_view family;  // the autograd/ops/<family>.cpp file that defines it
};

// The built-in table plus every op added with register_op (a snapshot).
std::vector<OpInfo> registered_ops();
// The built-in table alone: gradscope's own ops, each of which also has a forward-mode rule
// (tests/test_jvp.cpp fails when one has no jvp case).
std::vector<OpInfo> builtin_ops();
bool is_registered_op(std::string_view name);
// Adds an op defined outside gradscope (your own differentiable op) so record() accepts it.
// Idempotent; the same gradcheck discipline applies: give it a gradcheck test.
void register_op(std::string_view name, std::string_view family);

}  // namespace gs
