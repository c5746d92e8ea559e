#include "autograd/dot.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <unordered_map>
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

std::string grad_line(double n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "\\n|grad| = %.3e", n);
  return buf;
}

}  // namespace

void GradNormRecorder::on_node(const NodeEvent& e) { nodes[&e.node] = norm_of(e.grad_output); }
void GradNormRecorder::on_leaf(const LeafEvent& e) { leaves[&e.leaf] = norm_of(e.grad); }

std::string to_dot(const Tensor& root, const DotOptions& opt) {
  std::ostringstream os;
  os << "digraph gradscope {\n  rankdir=BT;\n  node [fontname=\"monospace\", fontsize=10];\n";
  if (!opt.title.empty()) os << "  label=" << quote(opt.title) << ";\n  labelloc=t;\n";
  std::unordered_map<const void*, std::string> ids;
  auto id_of = [&](const void* p, char prefix) {
    auto it = ids.find(p);
    if (it != ids.end()) return it->second;
    return ids[p] = prefix + std::to_string(ids.size());
  };

  auto root_fn = grad_fn(root);
  if (!root_fn) {  // a leaf or a tensor outside any graph: one box
    std::string label = name_of(root).empty() ? "tensor" : clean(name_of(root));
    label += "\\n" + shape_str(root.shape());
    if (opt.values) label += values_line(root, opt.max_values);
    os << "  t0 [shape=box, label=" << quote(label) << "];\n}\n";
    return os.str();
  }
  std::vector<const Node*> stack{root_fn.get()};
  std::unordered_map<const Node*, bool> seen{{root_fn.get(), true}};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    const std::string nid = id_of(n, 'n');
    std::string label = clean(n->name) + (n->name == n->op ? "" : "\\n" + n->op) + "  " + shape_str(n->output_shape);
    if (opt.values)
      if (auto out = n->output_value.lock()) label += values_line(Tensor(out), opt.max_values);
    if (opt.grads)
      if (auto it = opt.grads->nodes.find(n); it != opt.grads->nodes.end()) label += grad_line(it->second);
    os << "  " << nid << " [shape=ellipse, label=" << quote(label) << "];\n";
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const Edge& e = n->inputs[i];
      if (e.fn) {
        os << "  " << id_of(e.fn.get(), 'n') << " -> " << nid << ";\n";
        if (!seen[e.fn.get()]) {
          seen[e.fn.get()] = true;
          stack.push_back(e.fn.get());
        }
      } else if (e.leaf) {
        const bool first = !ids.count(e.leaf.get());
        const std::string lid = id_of(e.leaf.get(), 'l');
        if (first) {
          std::string ll = (e.leaf->name.empty() ? std::string("leaf") : clean(e.leaf->name)) + "\\n" + shape_str(n->input_shapes[i]);
          if (opt.grads)
            if (auto it = opt.grads->leaves.find(e.leaf.get()); it != opt.grads->leaves.end()) ll += grad_line(it->second);
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
