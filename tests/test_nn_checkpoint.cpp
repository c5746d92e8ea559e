// safetensors files and training checkpoints (nn/safetensors.h, nn/checkpoint.h): round trips
// are bit-exact, saves are atomic, and every kind of damaged or mismatched file is rejected with
// its own message naming the file, leaving the previous checkpoint and the model untouched.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numbers>
#include <random>

#include "nn/checkpoint.h"
#include "nn/file_io.h"
#include "nn/layers.h"
#include "nn/lm.h"
#include "nn/safetensors.h"
#include "tensor/ops.h"
#include "tests/temp_dir.h"

using namespace gs;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
// u64 header length + header + data, as a hand-made (possibly broken) safetensors file.
std::string craft(const std::string& header, const std::string& data, uint64_t n = UINT64_MAX) {
  if (n == UINT64_MAX) n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const gs::Error& e) {
    return e.what();
  }
  return "<no gs::Error thrown>";
}

template <class T>
std::vector<uint64_t> bits_of(const Tensor& t) {
  std::vector<uint64_t> out;
  for (T v : t.to_vector<T>()) {
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof v);
    out.push_back(b);
  }
  return out;
}
bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  switch (a.dtype()) {
    case DType::Float32: return bits_of<float>(a) == bits_of<float>(b);
    case DType::Float64: return bits_of<double>(a) == bits_of<double>(b);
    default: return a.to_vector<int64_t>() == b.to_vector<int64_t>();
  }
}

struct TinyNet : nn::Module {
  std::shared_ptr<nn::Linear> fc;
  Tensor steps;
  TinyNet(Generator& g, bool bias = true, int64_t out = 3, DType dtype = kFloat64) {
    fc = register_module("fc", std::make_shared<nn::Linear>(4, out, g, bias, dtype));
    steps = register_buffer("steps", from_vector<int64_t>({5, -6}));
  }
};

std::map<std::string, Tensor> snapshot(const nn::Module& m) {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : m.state()) out.emplace(n, op::clone(t));
  return out;
}
bool same_state(const nn::Module& m, const std::map<std::string, Tensor>& snap) {
  auto st = m.state();
  if (st.size() != snap.size()) return false;
  for (auto& [n, t] : st)
    if (!snap.count(n) || !bit_equal(t, snap.at(n))) return false;
  return true;
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype with metadata is bit-exact", "[nn][checkpoint]") {
  testing::TempDir tmp("gs_ckpt_test_");
  Generator g(7);
  const Tensor base = randn({3, 2}, g, kFloat32);
  nn::NamedTensors in = {
      {"f32", randn({2, 3}, g, kFloat32)},
      {"f32.transposed", op::transpose(base, 0, 1)},  // a non-contiguous view is packed on save
      {"f64", randn({4}, g, kFloat64)},
      {"f64.scalar", scalar(-0.0, kFloat64)},
      {"i64", from_vector<int64_t>({INT64_MIN, -1, 0, INT64_MAX}, Shape{2, 2})},
      {"empty", zeros({0, 5}, kFloat32)},
  };
  const std::map<std::string, std::string> meta = {{"step", "12"}, {"utf8", "h\xc3\xa9llo"}, {"", "empty key"}};
  const std::string path = tmp / "all.safetensors";
  nn::save_safetensors(path, in, meta);

  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK((8 + n) % 8 == 0);  // the data section is 8-byte aligned
  CHECK(bytes[8] == '{');

  const auto out = nn::load_safetensors(path);
  CHECK(out.metadata == meta);
  REQUIRE(out.tensors.size() == in.size());
  for (const auto& [name, t] : in) {
    INFO(name);
    REQUIRE(out.tensors.count(name));
    CHECK(bit_equal(out.tensors.at(name), op::contiguous(t)));
  }
  CHECK(std::signbit(out.tensors.at("f64.scalar").item<double>()));
  CHECK(out.tensors.at("f64.scalar").shape().empty());
  CHECK(tmp.entries() == std::vector<std::string>{"all.safetensors"});

  // The map overload and an empty file (no tensors, no metadata) work too.
  nn::save_safetensors(tmp / "empty.safetensors", std::map<std::string, Tensor>{});
  const auto e = nn::load_safetensors(tmp / "empty.safetensors");
  CHECK(e.tensors.empty());
  CHECK(e.metadata.empty());
}

TEST_CASE("save_safetensors rejects bad names before touching the disk", "[nn][checkpoint]") {
  testing::TempDir tmp("gs_ckpt_test_");
  const std::string path = tmp / "x.safetensors";
  CHECK_THAT(error_of([&] { nn::save_safetensors(path, nn::NamedTensors{{"a", ones({1})}, {"a", ones({1})}}); }),
             StartsWith(path + ": ") && Contains("'a' appears twice"));
  CHECK_THAT(error_of([&] { nn::save_safetensors(path, nn::NamedTensors{{"__metadata__", ones({1})}}); }),
             Contains("cannot save a tensor named '__metadata__'"));
  CHECK_THAT(error_of([&] { nn::save_safetensors(path, nn::NamedTensors{{"u", Tensor()}}); }),
             Contains("tensor 'u' is undefined"));
  CHECK_THAT(error_of([&] { nn::save_safetensors(path, nn::NamedTensors{}, {{"k", "\xff\xfe"}}); }),
             Contains("not valid UTF-8"));
  CHECK_THAT(error_of([&] { nn::save_safetensors(tmp / "no/such/dir/x.safetensors", nn::NamedTensors{}); }),
             Contains("cannot create a temp file beside it"));
  CHECK(tmp.entries().empty());
}

TEST_CASE("a save that fails at any point leaves the previous file byte-identical and no temp file",
          "[nn][checkpoint]") {
  // Running as root makes a read-only folder useless for this, so the writer has a test-only
  // fault: the next save fails with ENOSPC after a given number of bytes of its temp file.
  testing::TempDir tmp("gs_ckpt_test_");
  Generator g(1);
  const std::string path = tmp / "ckpt.safetensors";
  nn::save_safetensors(path, nn::NamedTensors{{"w", randn({16, 16}, g)}, {"ids", arange(10)}}, {{"v", "old"}});
  const std::string before = read_bytes(path);

  const nn::NamedTensors next = {{"w", randn({16, 16}, g)}, {"ids", arange(20)}, {"b", randn({8}, g, kFloat64)}};
  // 0: nothing written; 5: inside the length; 40: inside the header; 700: inside tensor data;
  // a huge limit never fires (disarmed below), proving the injected saves were the ones failing.
  for (int64_t after : {0, 5, 40, 700}) {
    INFO("fail after " << after << " bytes");
    nn::detail::inject_save_failure_after(after);
    CHECK_THAT(error_of([&] { nn::save_safetensors(path, next, {{"v", "new"}}); }),
               StartsWith(path + ": ") && Contains("No space left on device"));
    CHECK(read_bytes(path) == before);
    CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
    CHECK(nn::load_safetensors(path).metadata.at("v") == "old");
  }
  nn::detail::inject_save_failure_after(-1);
  nn::save_safetensors(path, next, {{"v", "new"}});  // and an unfaulted save does replace it
  CHECK(nn::load_safetensors(path).metadata.at("v") == "new");
  CHECK(tmp.entries() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("damaged safetensors files are each rejected with their own message", "[nn][checkpoint]") {
  testing::TempDir tmp("gs_ckpt_test_");
  const std::string path = tmp / "bad.safetensors";
  const std::string d24(24, '\0');
  auto err = [&](const std::string& bytes) {
    write_bytes(path, bytes);
    return error_of([&] { nn::load_safetensors(path); });
  };
  auto entry = [](const std::string& name, const std::string& dtype, const std::string& shape, int b, int e) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(b) + "," + std::to_string(e) + "]}";
  };
  const std::string good = craft("{" + entry("a", "F32", "[2,3]", 0, 24) + "}", d24);
  REQUIRE(nn::load_safetensors((write_bytes(path, good), path)).tensors.at("a").numel() == 6);

  struct Case {
    const char* what;
    std::string bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"shorter than 8 bytes", good.substr(0, 5), "file is 5 bytes, shorter than the 8-byte header length"},
      {"truncated in the header", good.substr(0, 20), "is larger than the rest of the file"},
      {"truncated in the data", good.substr(0, good.size() - 4), "run past the end of the data section"},
      {"absurd header length", craft("{}", "", uint64_t{1} << 40), "over the 100 MB limit"},
      {"not JSON", craft("{\"a\": ", ""), "header is not valid JSON"},
      {"not an object", craft("[1, 2]", ""), "header is not a JSON object"},
      {"duplicate key", craft("{" + entry("a", "F32", "[2,3]", 0, 24) + "," + entry("a", "F32", "[2,3]", 0, 24) + "}", d24),
       "header has the key 'a' twice"},
      {"unknown dtype", craft("{" + entry("a", "Q7", "[2,3]", 0, 24) + "}", d24), "tensor 'a': unknown dtype 'Q7'"},
      {"unsupported dtype", craft("{" + entry("a", "F16", "[12]", 0, 24) + "}", d24), "unsupported dtype 'F16'"},
      {"shape vs offsets", craft("{" + entry("a", "F32", "[2,3]", 0, 20) + "}", d24.substr(0, 20)),
       "shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] span 20"},
      {"reversed offsets", craft("{" + entry("a", "F32", "[0]", 8, 0) + "}", d24), "end before they begin"},
      {"offsets out of range", craft("{" + entry("a", "F32", "[2,3]", 8, 32) + "}", d24),
       "data_offsets [8, 32] run past the end of the data section (24 bytes"},
      {"overlapping offsets",
       craft("{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 8, 24) + "}", d24),
       "tensors 'a' [0, 16] and 'b' [8, 24] overlap"},
      {"hole between tensors",
       craft("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 16, 24) + "}", d24),
       "data bytes [8, 16) belong to no tensor"},
      {"trailing data", craft("{" + entry("a", "F32", "[4]", 0, 16) + "}", d24), "the tensors cover only 16"},
      {"metadata not strings", craft("{\"__metadata__\":{\"step\":3}," + entry("a", "F32", "[2,3]", 0, 24) + "}", d24),
       "metadata value for 'step' is not a string"},
      {"negative dim", craft("{" + entry("a", "F32", "[-2,3]", 0, 24) + "}", d24), "shape must hold non-negative"},
      {"missing field", craft("{\"a\":{\"dtype\":\"F32\",\"shape\":[6]}}", d24), "missing 'data_offsets'"},
      // 2^62 elements of 8 bytes: the byte count used to wrap around 2^64 to "needs 0 bytes"
      {"byte count beyond 2^62", craft("{" + entry("a", "F64", "[4611686018427387904]", 0, 24) + "}", d24),
       "tensor 'a': shape [4611686018427387904] of F64 needs more than 2^62 bytes"},
      {"a dimension beyond 2^62", craft("{" + entry("a", "F32", "[9223372036854775807]", 0, 24) + "}", d24),
       "shape [9223372036854775807] has a dimension or element count beyond 2^62"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK_THAT(err(c.bytes), StartsWith(path + ": ") && Contains(c.message));
  }
  CHECK_THAT(error_of([&] { nn::load_safetensors(tmp / "missing.safetensors"); }),
             StartsWith(tmp / "missing.safetensors: cannot open") && Contains("No such file"));
}

TEST_CASE("a file in Python's safetensors layout loads", "[nn][checkpoint][golden]") {
  // Written by scripts/golden/make_safetensors.py; its values are closed-form, so they are
  // recomputed here and compared exactly (float32 by bit pattern).
  const std::string path = std::string(GS_TEST_DATA_DIR) + "/golden/python.safetensors";
  const auto f = nn::load_safetensors(path);
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.metadata.at("note") == "h\xc3\xa9llo, w\xc3\xb6rld");
  REQUIRE(f.tensors.size() == 6);

  const Tensor m = f.tensors.at("f32.matrix");
  CHECK(m.dtype() == kFloat32);
  CHECK(m.shape() == Shape{2, 3});
  std::vector<float> want_m;
  for (int i = 0; i < 6; ++i) want_m.push_back(static_cast<float>(i) * 0.5f - 1.25f);
  CHECK(m.to_vector<float>() == want_m);

  const Tensor v = f.tensors.at("f32.vector");
  const std::vector<float> want_v = {static_cast<float>(1.0 / 3.0), static_cast<float>(-2.5e-8),
                                     static_cast<float>(3.4e38), -0.0f};
  CHECK(bits_of<float>(v) == bits_of<float>(from_vector(want_v)));

  const Tensor s = f.tensors.at("f64.scalar");
  CHECK(s.dtype() == kFloat64);
  CHECK(s.shape().empty());
  CHECK(s.item<double>() == std::numbers::pi);  // numpy.pi is the same double

  const Tensor c = f.tensors.at("f64.cube");
  CHECK(c.shape() == Shape{2, 3, 4});
  std::vector<double> want_c;
  for (int i = 0; i < 24; ++i) want_c.push_back(i / 7.0);
  CHECK(c.to_vector<double>() == want_c);

  const Tensor ids = f.tensors.at("i64.ids");
  CHECK(ids.dtype() == kInt64);
  CHECK(ids.to_vector<int64_t>() == std::vector<int64_t>{-(int64_t{1} << 62), -1, 0, 7, (int64_t{1} << 40) + 3});

  CHECK(f.tensors.at("f32.empty").shape() == Shape{0, 3});
}

TEST_CASE("rng state text round trips bit for bit and rejects junk", "[nn][checkpoint]") {
  Generator g(99);
  g.normal();  // leaves a cached Box-Muller value, which must survive too
  const auto st = g.state();
  REQUIRE(st.has_cached);
  const auto back = nn::rng_state_from_string(nn::rng_state_to_string(st));
  CHECK(back.s == st.s);
  CHECK(back.has_cached == st.has_cached);
  CHECK(std::bit_cast<uint64_t>(back.cached_normal) == std::bit_cast<uint64_t>(st.cached_normal));
  CHECK_THAT(error_of([] { nn::rng_state_from_string("xoshiro256** 1 2 3"); }), StartsWith("rng_state: expected"));
  CHECK_THAT(error_of([] { nn::rng_state_from_string("xoshiro256** 1 2 x 4 0 0000000000000000"); }),
             Contains("word 2 'x'"));
  CHECK_THAT(error_of([] { nn::rng_state_from_string("xoshiro256** 0 0 0 0 0 0000000000000000"); }),
             Contains("all-zero"));
}

TEST_CASE("checkpoint round trip: model, optimiser state, step, rng and config", "[nn][checkpoint]") {
  testing::TempDir tmp("gs_ckpt_test_");
  Generator init(3);
  TinyNet a(init);
  const nn::NamedTensors optim = {{"fc.weight.exp_avg", randn({3, 4}, init, kFloat64)},
                                  {"fc.bias.exp_avg", randn({3}, init, kFloat64)},
                                  {"step", scalar(17, kInt64)}};
  Generator rng(1234);
  rng.normal();
  rng.next_u64();
  const std::map<std::string, std::string> config = {{"backbone", "gru"}, {"d_model", "8"}, {"empty", ""}};
  const std::string path = tmp / "ckpt.safetensors";
  nn::save_checkpoint(path, a, optim, 42, rng, config);

  const auto raw = nn::load_safetensors(path);  // the documented layout
  CHECK(raw.tensors.count("model.fc.weight"));
  CHECK(raw.tensors.count("model.steps"));
  CHECK(raw.tensors.count("optim.step"));
  CHECK(raw.metadata.at("format") == "gradscope-checkpoint");
  CHECK(raw.metadata.at("format_version") == "1");
  CHECK(raw.metadata.at("step") == "42");
  CHECK(raw.metadata.at("config.backbone") == "gru");

  const auto ck = nn::load_checkpoint(path);
  CHECK(ck.path == path);
  CHECK(ck.step == 42);
  CHECK(ck.config == config);
  CHECK(ck.format_version == nn::kCheckpointFormatVersion);
  REQUIRE(ck.optim.size() == optim.size());
  for (const auto& [n, t] : optim) CHECK(bit_equal(ck.optim.at(n), t));

  Generator other(0);
  TinyNet b(other);
  REQUIRE_FALSE(same_state(b, snapshot(a)));
  nn::load_model_state(ck, b);
  CHECK(same_state(b, snapshot(a)));

  Generator resumed;
  resumed.set_state(ck.rng);
  for (int i = 0; i < 3; ++i) CHECK(std::bit_cast<uint64_t>(resumed.normal()) == std::bit_cast<uint64_t>(rng.normal()));
  CHECK(resumed.next_u64() == rng.next_u64());

  // The std::map overload of the optimiser state writes the same tensors.
  nn::save_checkpoint(tmp / "map.safetensors", a, std::map<std::string, Tensor>(optim.begin(), optim.end()), 1, rng);
  CHECK(nn::load_checkpoint(tmp / "map.safetensors").optim.size() == optim.size());
}

TEST_CASE("checkpoints written by an earlier gradscope load into the typed model configuration",
          "[nn][checkpoint]") {
  // tests/fuzz/corpus/fuzz_checkpoint holds checkpoints that `gradscope train` wrote before the
  // configuration's kinds were typed. The metadata form did not change (safetensors metadata is
  // text: "config.backbone" = "gru", "config.rank" = "2", "config.tied" = "false"), so they load,
  // and the typed configuration writes back exactly the text they hold.
  struct Case {
    const char* file;
    nn::BackboneKind backbone;
    nn::HeadKind head;
    int64_t rank;
    bool tied;
  };
  for (const Case& c : {Case{"transformer", nn::BackboneKind::transformer, nn::HeadKind::full, 0, false},
                        Case{"gru_factorized", nn::BackboneKind::gru, nn::HeadKind::factorized, 2, false},
                        Case{"ssm_tied", nn::BackboneKind::ssm, nn::HeadKind::full, 0, true}}) {
    INFO(c.file);
    const std::string path = std::string(GS_TEST_DATA_DIR) + "/fuzz/corpus/fuzz_checkpoint/" + c.file;
    const nn::Checkpoint ck = nn::load_checkpoint(path);
    const nn::LMConfig cfg = nn::checkpoint_model_config(ck);
    CHECK(cfg.backbone == c.backbone);
    CHECK(cfg.head == c.head);
    CHECK(cfg.rank == c.rank);
    CHECK(cfg.tied == c.tied);
    CHECK(cfg.vocab == 256);
    CHECK(cfg.d_model == 4);
    CHECK(cfg.n_layer == 1);
    CHECK(cfg.context == 4);
    CHECK(cfg.final_norm);
    CHECK(cfg.dtype == kFloat32);
    CHECK(cfg.tokenizer == "byte");
    CHECK(ck.step == 1);
    for (const auto& [key, text] : cfg.to_map()) {
      INFO(key);
      if (key == "mixtures") {  // added after these files were written: its default
        CHECK(text == "2");
        continue;
      }
      REQUIRE(ck.config.count(key) == 1);
      CHECK(ck.config.at(key) == text);
    }
    std::shared_ptr<nn::LanguageModel> model;
    REQUIRE_NOTHROW(model = nn::load_language_model(ck, cfg));
    CHECK(model->config() == cfg);
    // older still: written before the tokenizer was recorded, read as byte
    auto before_tokenizer = ck.config;
    before_tokenizer.erase("tokenizer");
    CHECK(nn::LMConfig::from_map(before_tokenizer, /*strict=*/false) == cfg);
  }
}

TEST_CASE("bad checkpoints are rejected with their own message and leave the previous one intact",
          "[nn][checkpoint]") {
  testing::TempDir tmp("gs_ckpt_test_");
  Generator init(5);
  TinyNet saved(init);
  Generator rng(8);
  const std::string good = tmp / "good.safetensors";
  nn::save_checkpoint(good, saved, nn::NamedTensors{}, 10, rng, {{"d_model", "4"}});
  const std::string good_bytes = read_bytes(good);

  // The "previous checkpoint" is both the file and the model state loaded from it.
  Generator other(6);
  TinyNet model(other);
  nn::load_model_state(nn::load_checkpoint(good), model);
  const auto loaded = snapshot(model);
  const std::string bad = tmp / "bad.safetensors";

  auto check_rejected = [&](const std::string& bytes, const std::string& message) {
    write_bytes(bad, bytes);
    CHECK_THAT(error_of([&] { nn::load_model_state(nn::load_checkpoint(bad), model); }),
               StartsWith(bad + ": ") && Contains(message));
    CHECK(same_state(model, loaded));
    CHECK(read_bytes(good) == good_bytes);
  };
  auto saved_by = [&](const std::function<void(const std::string&)>& save) {
    save(bad);
    return read_bytes(bad);
  };

  SECTION("truncated") {
    check_rejected(good_bytes.substr(0, 7), "shorter than the 8-byte header length");
    check_rejected(good_bytes.substr(0, good_bytes.size() - 1), "run past the end of the data section");
  }
  SECTION("oversized header") {
    std::string b = good_bytes;
    const uint64_t huge = uint64_t{1} << 33;
    std::memcpy(b.data(), &huge, 8);
    check_rejected(b, "header length 8589934592 bytes is over the 100 MB limit");
  }
  SECTION("bad JSON") {
    std::string b = good_bytes;
    b[8] = '#';
    check_rejected(b, "header is not valid JSON");
  }
  SECTION("wrong shape") {
    Generator g(1);
    TinyNet wide(g, true, 5);  // fc: 4 -> 5 instead of 4 -> 3
    check_rejected(saved_by([&](const std::string& p) { nn::save_checkpoint(p, wide, nn::NamedTensors{}, 1, rng); }),
                   "model.fc.bias has shape [5], the model expects [3]");
  }
  SECTION("wrong dtype") {
    Generator g(1);
    TinyNet f32(g, true, 3, kFloat32);
    check_rejected(saved_by([&](const std::string& p) { nn::save_checkpoint(p, f32, nn::NamedTensors{}, 1, rng); }),
                   "is float32, the model expects float64");
  }
  SECTION("a non-finite weight") {
    // training never saves one (it refuses a non-finite loss): a damaged file, named at load
    Generator g(1);
    TinyNet nan_net(g);
    nan_net.named_parameters().front().second.data<double>()[0] = std::nan("");
    check_rejected(saved_by([&](const std::string& p) { nn::save_checkpoint(p, nan_net, nn::NamedTensors{}, 1, rng); }),
                   "has a non-finite value (nan at flat index 0): corrupt checkpoint?");
  }
  SECTION("missing tensor") {
    Generator g(1);
    TinyNet nobias(g, false);
    check_rejected(saved_by([&](const std::string& p) { nn::save_checkpoint(p, nobias, nn::NamedTensors{}, 1, rng); }),
                   "missing tensors the model needs: model.fc.bias");
  }
  SECTION("extra tensor") {
    auto st = nn::load_safetensors(good);
    st.tensors.emplace("model.fc.extra", ones({2}, kFloat64));
    check_rejected(saved_by([&](const std::string& p) { nn::save_safetensors(p, st.tensors, st.metadata); }),
                   "extra tensors the model does not have: model.fc.extra");
  }
  SECTION("overlapping offsets") {
    // Point the second tensor's data_offsets into the first one's bytes (same length).
    auto st = nn::load_safetensors(good);
    nn::NamedTensors two = {{"model.x", ones({2}, kFloat64)}, {"model.y", ones({2}, kFloat64)}};
    std::string b = saved_by([&](const std::string& p) { nn::save_safetensors(p, two, st.metadata); });
    const auto at = b.find("[16,32]");
    REQUIRE(at != std::string::npos);
    b.replace(at, 7, "[ 8,24]");  // same length, so the header length stays right
    check_rejected(b, "overlap");
  }
  SECTION("not a checkpoint") {
    check_rejected(saved_by([&](const std::string& p) { nn::save_safetensors(p, nn::NamedTensors{{"w", ones({1})}}); }),
                   "not a gradscope checkpoint");
  }
  SECTION("unsupported version, bad step, bad rng, stray names") {
    auto st = nn::load_safetensors(good);
    auto with = [&](const std::string& k, const std::string& v) {
      auto m = st.metadata;
      m[k] = v;
      return saved_by([&](const std::string& p) { nn::save_safetensors(p, st.tensors, m); });
    };
    check_rejected(with("format_version", "2"), "checkpoint format version 2 is not supported");
    check_rejected(with("step", "-3"), "metadata step is missing or not a non-negative integer");
    check_rejected(with("rng", "xoshiro256** 1"), "metadata rng is invalid");
    check_rejected(with("colour", "red"), "unexpected metadata key 'colour'");
    auto t = st.tensors;
    t.emplace("stray", ones({1}));
    check_rejected(saved_by([&](const std::string& p) { nn::save_safetensors(p, t, st.metadata); }),
                   "unexpected tensor 'stray'");
  }
}
