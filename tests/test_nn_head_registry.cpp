// nn/head_registry: heads registered by name from outside the library, built from an LMConfig,
// named in its map (checkpoints, run.json) and refused clearly when unknown or malformed.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "nn/head_registry.h"
#include "nn/lm.h"

using namespace gs;
using Catch::Matchers::Contains;

namespace {

// A full head under another name: enough to see which factory ran and with what.
struct CountingFactory {
  static inline int calls = 0;
  static inline nn::HeadSpec last{};
  std::shared_ptr<nn::LMHead> operator()(const nn::HeadSpec& s, Generator& g) const {
    ++calls;
    last = s;
    return std::make_shared<nn::FullHead>(s.d_model, s.vocab, g, false, s.dtype);
  }
};

}  // namespace

TEST_CASE("head registry: a registered head is built from an LMConfig by name and named in its map", "[nn][head_registry]") {
  nn::register_head("test_reg_full", CountingFactory{});
  CHECK(nn::is_registered_head("test_reg_full"));
  nn::LMConfig c;
  c.set_head("test_reg_full");
  CHECK(c.head == nn::HeadKind::registered);
  CHECK(c.head_label() == "test_reg_full");
  c.vocab = 20, c.d_model = 8, c.n_layer = 1, c.n_head = 2, c.context = 8, c.rank = 3, c.dtype = kFloat64;
  const int before = CountingFactory::calls;
  auto model = nn::make_language_model(c);
  CHECK(CountingFactory::calls == before + 1);
  CHECK(CountingFactory::last.vocab == 20);
  CHECK(CountingFactory::last.d_model == 8);
  CHECK(CountingFactory::last.rank == 3);
  CHECK(CountingFactory::last.dtype == kFloat64);
  CHECK(model->head()->vocab() == 20);

  const auto m = c.to_map();
  CHECK(m.at("head") == "test_reg_full");
  const nn::LMConfig back = nn::LMConfig::from_map(m);
  CHECK(back.head == nn::HeadKind::registered);
  CHECK(back.registered_head == "test_reg_full");
  // "full" after a registered name clears it
  c.set_head("full");
  CHECK(c.head == nn::HeadKind::full);
  CHECK(c.registered_head.empty());
}

TEST_CASE("head registry: bad names, duplicates and unknown heads are refused clearly", "[nn][head_registry][errors]") {
  CHECK_THROWS_WITH(nn::register_head("full", CountingFactory{}), Contains("register_head: 'full' is a built-in head"));
  CHECK_THROWS_WITH(nn::register_head("Bad Name", CountingFactory{}), Contains("a head name is made of a-z, 0-9"));
  CHECK_THROWS_WITH(nn::register_head("", CountingFactory{}), Contains("register_head: the name is empty"));
  CHECK_THROWS_WITH(nn::register_head("test_reg_empty", nn::HeadFactory{}), Contains("the factory for 'test_reg_empty' is empty"));
  nn::register_head("test_reg_dup", CountingFactory{});
  CHECK_THROWS_WITH(nn::register_head("test_reg_dup", CountingFactory{}), Contains("'test_reg_dup' is already registered"));

  nn::LMConfig c;
  CHECK_THROWS_WITH(c.set_head("nope"), Contains("LMConfig: unknown head 'nope' (valid: full, factorized") &&
                                            Contains("test_reg_dup"));
  CHECK_THROWS_WITH(nn::LMConfig::from_map({{"head", "nope"}}), Contains("unknown head 'nope'"));

  // a factory whose head has other sizes than asked
  nn::register_head("test_reg_wrong", [](const nn::HeadSpec& s, Generator& g) {
    return std::make_shared<nn::FullHead>(s.d_model, s.vocab + 1, g, false, s.dtype);
  });
  nn::LMConfig w;
  w.set_head("test_reg_wrong");
  w.vocab = 10, w.d_model = 4, w.n_layer = 1, w.n_head = 2, w.context = 4;
  CHECK_THROWS_WITH(nn::make_language_model(w),
                    Contains("make_head: head 'test_reg_wrong' built [V, D] = [11, 4], expected [vocab, d_model] = [10, 4]"));
}
