#include "autograd/dot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/variable.h"

namespace gs {
namespace {

double norm_of(const Tensor& g) {
  double s = 0;
  for (double v : g.to_vector<double>()) s += v * v;
  return std::sqrt(s);
}

// dot string literal. Labels are assembled with "\\n" as dot's line break, so only quotes need
// escaping here; names pass through clean() first, which removes their own backslashes.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string clean(std::string s) {
  for (char& c : s)
    if (c == '\\') c = '/';
  return s;
}

std::string values_line(const Tensor& t, int64_t max_values) {
  if (t.numel() > max_values) return "";
  std::ostringstream os;
  os << "\\n= [";
  auto v = t.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v[i]);
    os << (i ? ", " : "") << buf;
  }
  os << "]";
  return os.str();
}

// negligible: a nonzero norm at or below it is marked as rounding noise (DotOptions::negligible);
// an exact 0 speaks for itself.
std::string grad_line(double n, double negligible) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "\\n|grad| = %.3e%s", n, n > 0 && n <= negligible ? " (~0: rounding)" : "");
  return buf;
}

std::string node_name(const Node* n) { return n->name.empty() ? n->op : n->name; }
std::string leaf_name(const AutogradMeta* m) { return m->name.empty() ? std::string("leaf") : m->name; }

}  // namespace

std::string GraphIds::of(const Node* n) const {
  auto it = nodes.find(n);
  return it != nodes.end() ? it->second : node_name(n);
}

std::string GraphIds::of(const AutogradMeta* m) const {
  auto it = leaves.find(m);
  return it != leaves.end() ? it->second : leaf_name(m);
}

GraphIds graph_ids(const Tensor& root) {
  std::vector<const Node*> nodes;
  std::vector<const AutogradMeta*> leaves;
  if (!root.defined()) return {};
  if (auto fn = grad_fn(root)) {
    std::unordered_set<const Node*> seen{fn.get()};
    std::unordered_set<const AutogradMeta*> seen_leaves;
    std::vector<const Node*> stack{fn.get()};
    while (!stack.empty()) {
      const Node* n = stack.back();
      stack.pop_back();
      nodes.push_back(n);
      for (const Edge& e : n->inputs) {
        if (e.fn) {
          if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
        } else if (e.leaf && seen_leaves.insert(e.leaf.get()).second) {
          leaves.push_back(e.leaf.get());
        }
      }
    }
  } else if (root.impl()->autograd) {
    leaves.push_back(root.impl()->autograd.get());
  }
  // creation order: "#1" is the first such node the forward pass made, whatever order the
  // traversal found them in
  std::stable_sort(nodes.begin(), nodes.end(), [](const Node* a, const Node* b) { return a->seq < b->seq; });
  std::unordered_map<std::string, int64_t> count;
  for (const Node* n : nodes) ++count[node_name(n)];
  for (const AutogradMeta* m : leaves) ++count[leaf_name(m)];
  std::unordered_map<std::string, int64_t> last_k;
  auto id_for = [&](const std::string& name) {
    if (count.at(name) == 1) return name;
    int64_t& k = last_k[name];
    std::string id;
    do id = name + "#" + std::to_string(++k);
    while (count.count(id));  // someone's own name: take the next k
    return id;
  };
  GraphIds ids;
  for (const Node* n : nodes) ids.nodes[n] = id_for(node_name(n));
  for (const AutogradMeta* m : leaves) ids.leaves[m] = id_for(leaf_name(m));
  return ids;
}

void GradNormRecorder::on_node(const NodeEvent& e) { nodes[&e.node] = norm_of(e.grad_output); }
void GradNormRecorder::on_leaf(const LeafEvent& e) { leaves[&e.leaf] = norm_of(e.grad); }

std::string to_dot(const Tensor& root, const DotOptions& opt) {
  std::ostringstream os;
  os << "digraph gradscope {\n  rankdir=BT;\n  node [fontname=\"monospace\", fontsize=10];\n";
  if (!opt.title.empty()) os << "  label=" << quote(opt.title) << ";\n  labelloc=t;\n";
  // dot's own statement ids (n0, l1, ...); the labels carry the readable, unique graph_ids
  std::unordered_map<const void*, std::string> handles;
  auto handle_of = [&](const void* p, char prefix) {
    auto it = handles.find(p);
    if (it != handles.end()) return it->second;
    return handles[p] = prefix + std::to_string(handles.size());
  };

  auto root_fn = grad_fn(root);
  if (!root_fn) {  // a leaf or a tensor outside any graph: one box
    std::string label = name_of(root).empty() ? "tensor" : clean(name_of(root));
    label += "\\n" + shape_str(root.shape());
    if (opt.values) label += values_line(root, opt.max_values);
    os << "  t0 [shape=box, label=" << quote(label) << "];\n}\n";
    return os.str();
  }
  const GraphIds names = graph_ids(root);
  // the absolute norm at or below which a recorded |grad| is rounding noise; -1: none is
  double negligible = -1;
  if (opt.grads && opt.negligible > 0) {
    double largest = 0;
    for (const auto& [n, g] : opt.grads->nodes) largest = std::max(largest, g);
    for (const auto& [m, g] : opt.grads->leaves) largest = std::max(largest, g);
    if (largest > 0) negligible = opt.negligible * largest;
  }
  std::vector<const Node*> stack{root_fn.get()};
  std::unordered_map<const Node*, bool> seen{{root_fn.get(), true}};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    const std::string nid = handle_of(n, 'n');
    const std::string id = names.of(n);
    std::string label = clean(id) + (id == n->op ? "" : "\\n" + n->op) + "  " + shape_str(n->output_shape);
    if (opt.values)
      if (auto out = n->output_value.lock()) label += values_line(Tensor(out), opt.max_values);
    if (opt.grads)
      if (auto it = opt.grads->nodes.find(n); it != opt.grads->nodes.end())
        label += grad_line(it->second, negligible);
    os << "  " << nid << " [shape=ellipse, label=" << quote(label) << "];\n";
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Edge& e = n->inputs[i];
      if (e.fn) {
        os << "  " << handle_of(e.fn.get(), 'n') << " -> " << nid << ";\n";
        if (!seen[e.fn.get()]) {
          seen[e.fn.get()] = true;
          stack.push_back(e.fn.get());
        }
      } else if (e.leaf) {
        const bool first = !handles.count(e.leaf.get());
        const std::string lid = handle_of(e.leaf.get(), 'l');
        if (first) {
          std::string ll = clean(names.of(e.leaf.get())) + "\\n" + shape_str(n->inputs[i].shape);
          if (opt.grads)
            if (auto it = opt.grads->leaves.find(e.leaf.get()); it != opt.grads->leaves.end())
              ll += grad_line(it->second, negligible);
          os << "  " << lid << " [shape=box, style=filled, fillcolor=lightgrey, label=" << quote(ll) << "];\n";
        }
        os << "  " << lid << " -> " << nid << ";\n";
      }
    }
  }
  os << "}\n";
  return os.str();
}

}  // namespace gs
