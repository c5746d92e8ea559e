#include "nn/head_registry.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "tensor/error.h"

namespace gs::nn {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, HeadFactory> factories;
};

Registry& registry() {
  static auto* r = new Registry;  // never destroyed: heads may be built during static teardown
  return *r;
}

}  // namespace

void register_head(const std::string& name, HeadFactory factory) {
  if (!factory) fail("register_head", "the factory for '", name, "' is empty");
  if (name.empty()) fail("register_head", "the name is empty");
  for (char ch : name)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      fail("register_head", "'", name, "': a head name is made of a-z, 0-9, '_' and '-'");
  const auto& builtin = head_names();
  if (std::find(builtin.begin(), builtin.end(), name) != builtin.end())
    fail("register_head", "'", name, "' is a built-in head");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.factories.emplace(name, std::move(factory)).second) fail("register_head", "'", name, "' is already registered");
}

bool is_registered_head(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.factories.count(name) > 0;
}

std::vector<std::string> registered_head_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.factories) names.push_back(n);
  return names;
}

std::shared_ptr<LMHead> make_registered_head(const std::string& name, const HeadSpec& spec, Generator& gen) {
  HeadFactory f;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) f = it->second;
  }
  if (!f) parse_head(name, "make_head");  // throws the unknown-head message with every valid name
  std::shared_ptr<LMHead> head = f(spec, gen);
  if (!head) fail("make_head", "the factory of head '", name, "' returned no head");
  if (head->vocab() != spec.vocab || head->d_model() != spec.d_model)
    fail("make_head", "head '", name, "' built [V, D] = [", head->vocab(), ", ", head->d_model(),
         "], expected [vocab, d_model] = [", spec.vocab, ", ", spec.d_model, "]");
  return head;
}

}  // namespace gs::nn
