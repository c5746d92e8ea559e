#include "autograd/node.h"

#include <atomic>

namespace gs {
namespace {
std::atomic<int64_t> g_live_nodes{0};
}

Node::Node() { ++g_live_nodes; }

Node::~Node() {
  --g_live_nodes;
  // Take over the children that only we keep alive and destroy them here, in a loop, so a long
  // chain unwinds without recursion.
  std::vector<std::shared_ptr<Node>> stack;
  for (auto& e : inputs)
    if (e.fn) stack.push_back(std::move(e.fn));
  while (!stack.empty()) {
    std::shared_ptr<Node> n = std::move(stack.back());
    stack.pop_back();
    if (n.use_count() == 1)
      for (auto& e : n->inputs)
        if (e.fn) stack.push_back(std::move(e.fn));
  }
}

int64_t Node::live_count() { return g_live_nodes.load(); }

}  // namespace gs
