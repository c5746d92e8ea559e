#pragma once
// Module: named, recursively registered parameters, buffers and submodules.
//
//   struct Mlp : Module {
//     std::shared_ptr<Linear> fc1, fc2;
//     Mlp(int64_t d, Generator& g) {
//       fc1 = register_module("fc1", std::make_shared<Linear>(d, 4 * d, g));
//       fc2 = register_module("fc2", std::make_shared<Linear>(4 * d, d, g));
//     }
//   };
//
// Names are dotted paths from the root ("blocks.1.attn.q.weight"); named_parameters() lists them
// in registration order, depth first, so the order is stable across runs and processes. A
// module's path also names the graph nodes its forward creates (NameScope), so a backward trace
// reads like the model.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace gs::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // All parameters / buffers of this module and its children, with dotted names.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  // Parameters and buffers together: what a checkpoint stores.
  std::map<std::string, Tensor> state() const;
  // Copies values into this module's parameters and buffers in place. strict: the names must
  // match exactly (missing and unexpected names are listed in the error).
  void load_state(const std::map<std::string, Tensor>& state, bool strict = true);
  int64_t parameter_count() const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  // Dotted path of this module from the root ("" for the root).
  const std::string& path() const { return path_; }
  // "<path>.<leaf>" (or just leaf at the root): the name of a node this module creates.
  std::string node_name(const std::string& leaf) const { return path_.empty() ? leaf : path_ + "." + leaf; }
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  // Registers t as a trainable parameter: marks it requires_grad and names the leaf.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void set_path(const std::string& path);
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;

  std::string path_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace gs::nn
