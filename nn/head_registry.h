#pragma once
// Heads by name, for heads defined outside the library. A factory registered under a name builds
// that head wherever the library builds heads from a configuration: LMConfig (HeadKind::registered
// with registered_head = name, or LMConfig::set_head(name)), make_language_model, checkpoints (the
// "head" metadata holds the name, so a checkpoint of such a model loads in any program that has
// registered the same name) and the CLI's --head.
//
//   nn::register_head("mos2", [](const nn::HeadSpec& s, Generator& g) {
//     return std::make_shared<MyMixtureHead>(s.d_model, s.vocab, 2, g, s.dtype);
//   });
//   LMConfig cfg;  cfg.set_head("mos2");  auto model = make_language_model(cfg);
//
// Registration is process-wide and meant for start-up (it takes a lock; lookups too).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/head.h"

namespace gs::nn {

// What a factory is asked for: the LMConfig's sizes (rank as configured, 0 when unset) and dtype.
struct HeadSpec {
  int64_t d_model = 0, vocab = 0, rank = 0;
  DType dtype = kFloat32;
};
using HeadFactory = std::function<std::shared_ptr<LMHead>(const HeadSpec&, Generator&)>;

// Errors ("register_head: ..."): an empty factory; a name that is empty, not made of a-z, 0-9,
// '_' and '-', a built-in head's name, or already registered.
void register_head(const std::string& name, HeadFactory factory);
bool is_registered_head(const std::string& name);
std::vector<std::string> registered_head_names();  // sorted
// Builds the head; throws "make_head: unknown head 'x' (valid: ...)" for an unregistered name and
// "make_head: head 'x' built [V, D] = [..], expected [vocab, d_model] = [..]" when the factory's head
// does not have the sizes asked for.
std::shared_ptr<LMHead> make_registered_head(const std::string& name, const HeadSpec& spec, Generator& gen);

}  // namespace gs::nn
