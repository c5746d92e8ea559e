// NumPy .npy files (nn/npy.h): what NumPy writes loads exactly (golden files from
// scripts/golden/make_npy.py), what gradscope cannot represent is refused naming the dtype or
// layout, every kind of damaged file gets its own message starting with the path, and save_npy
// round-trips bit-exactly and atomically.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include "nn/npy.h"
#include "tensor/ops.h"
#include "tests/temp_dir.h"

using namespace gs;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {

std::string golden(const std::string& name) { return std::string(GS_TEST_DATA_DIR) + "/golden/npy/" + name; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
// A version 1.0 file with the given header text (unpadded) and data bytes.
std::string craft(const std::string& header, const std::string& data, int major = 1) {
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) out += std::string(2, '\0');
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

// A = arange(6).reshape(2, 3) * 0.5 - 1 (make_npy.py)
const std::vector<double> kA = {-1, -0.5, 0, 0.5, 1, 1.5};

}  // namespace

TEST_CASE("npy: NumPy's files load with their dtype, shape and values", "[nn][npy]") {
  SECTION("float32, C order, format 1.0") {
    const Tensor t = nn::load_npy(golden("c_f32.npy"));
    CHECK(t.dtype() == kFloat32);
    CHECK(t.shape() == Shape{2, 3});
    CHECK(t.to_vector<double>() == kA);  // exact: multiples of 0.5
  }
  SECTION("float64") {
    const Tensor t = nn::load_npy(golden("c_f64.npy"));
    CHECK(t.dtype() == kFloat64);
    const auto v = t.to_vector<double>();
    REQUIRE(v.size() == 6);
    for (size_t i = 0; i < 6; ++i) CHECK(v[i] == kA[i] / 3);  // bit-exact: same IEEE division
  }
  SECTION("int32 widens to int64") {
    const Tensor t = nn::load_npy(golden("i32.npy"));
    CHECK(t.dtype() == kInt64);
    CHECK(t.shape() == Shape{5});
    CHECK(t.to_vector<int64_t>() == std::vector<int64_t>{3, -100, 7, 0, 255});
  }
  SECTION("int64") {
    const Tensor t = nn::load_npy(golden("i64.npy"));
    CHECK(t.dtype() == kInt64);
    CHECK(t.shape() == Shape{2, 2});
    CHECK(t.to_vector<int64_t>() == std::vector<int64_t>{1, 2, -3, int64_t{1} << 40});
  }
  SECTION("0-d array -> scalar tensor") {
    const Tensor t = nn::load_npy(golden("scalar_f64.npy"));
    CHECK(t.shape().empty());
    CHECK(t.item<double>() == 2.5);
  }
  SECTION("empty array keeps its zero-size shape") {
    const Tensor t = nn::load_npy(golden("empty_f32.npy"));
    CHECK(t.dtype() == kFloat32);
    CHECK(t.shape() == Shape{0, 3});
    CHECK(t.numel() == 0);
  }
  SECTION("format versions 2.0 and 3.0") {
    const Tensor a = nn::load_npy(golden("v2_f64.npy"));
    CHECK(a.dtype() == kFloat64);
    CHECK(a.to_vector<double>() == kA);
    const Tensor b = nn::load_npy(golden("v3_f32.npy"));
    CHECK(b.dtype() == kFloat32);
    CHECK(b.shape() == Shape{2, 3});
    CHECK(b.to_vector<double>() == kA);
  }
}

TEST_CASE("npy: Fortran order and unsupported dtypes are refused naming what they are", "[nn][npy]") {
  const std::string f = error_of([] { nn::load_npy(golden("fortran_f32.npy")); });
  CHECK_THAT(f, StartsWith(golden("fortran_f32.npy") + ": "));
  CHECK_THAT(f, Contains("Fortran (column-major) order"));
  CHECK_THAT(f, Contains("[2, 3]"));

  const std::string be = error_of([] { nn::load_npy(golden("be_f32.npy")); });
  CHECK_THAT(be, StartsWith(golden("be_f32.npy") + ": "));
  CHECK_THAT(be, Contains("unsupported dtype '>f4' (big-endian float32)"));

  const std::string u8 = error_of([] { nn::load_npy(golden("u8.npy")); });
  CHECK_THAT(u8, StartsWith(golden("u8.npy") + ": "));
  CHECK_THAT(u8, Contains("unsupported dtype '|u1' (uint8)"));

  testing::TempDir tmp("gs_npy_test_");
  write_bytes(tmp / "i2.npy", craft("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }\n", "\1\0\2\0"));
  CHECK_THAT(error_of([&] { nn::load_npy(tmp / "i2.npy"); }), Contains("unsupported dtype '<i2' (int16)"));
  write_bytes(tmp / "f2.npy", craft("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }\n", "\0\0"));
  CHECK_THAT(error_of([&] { nn::load_npy(tmp / "f2.npy"); }), Contains("unsupported dtype '<f2' (float16)"));
  // a size beyond int: the fuzzer's find (std::atoi overflowed, undefined behaviour under UBSan)
  write_bytes(tmp / "fbig.npy", craft("{'descr': '<f43333333333333', 'fortran_order': False, 'shape': (1,), }\n", "\0\0"));
  CHECK_THAT(error_of([&] { nn::load_npy(tmp / "fbig.npy"); }), Contains("unsupported dtype '<f43333333333333' (float?)"));
  write_bytes(tmp / "rec.npy",
              craft("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }\n",
                    std::string(8, '\0')));
  CHECK_THAT(error_of([&] { nn::load_npy(tmp / "rec.npy"); }), Contains("structured dtype [('a', '<f4')"));
}

TEST_CASE("npy: damaged files each get their own message starting with the path", "[nn][npy]") {
  testing::TempDir tmp("gs_npy_test_");
  const std::string good = read_bytes(golden("c_f32.npy"));
  const std::string hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
  const std::string data(24, '\0');
  auto err = [&](const std::string& name, const std::string& bytes) {
    const std::string path = tmp / name;
    write_bytes(path, bytes);
    const std::string e = error_of([&] { nn::load_npy(path); });
    CHECK_THAT(e, StartsWith(path + ": "));
    return e;
  };

  CHECK_THAT(error_of([&] { nn::load_npy(tmp / "missing.npy"); }),
             StartsWith(tmp / "missing.npy" + ": cannot open: No such file or directory"));
  CHECK_THAT(error_of([&] { nn::load_npy(tmp.dir.string()); }), Contains("is a folder"));
  CHECK_THAT(err("empty.npy", ""), Contains("not a .npy file (empty"));
  CHECK_THAT(err("text.npy", "hello, world\n"), Contains("not a .npy file (bad magic \"hello,\""));
  CHECK_THAT(err("short.npy", good.substr(0, 8)), Contains("truncated: 8 bytes"));
  std::string v9 = craft(hdr, data);
  v9[6] = '\x09';  // the major version byte (an index write: GCC 12 misreads replace() here, -Wrestrict)
  CHECK_THAT(err("v9.npy", v9), Contains("format version 9.0"));
  CHECK_THAT(err("cut_header.npy", good.substr(0, 40)), Contains("truncated: the header needs"));
  CHECK_THAT(err("cut_data.npy", good.substr(0, good.size() - 5)),
             Contains("truncated: the data section holds 19 bytes, but shape [2, 3] of '<f4' needs 24"));
  CHECK_THAT(err("extra.npy", good + "xyz"), Contains("corrupt: 3 extra bytes after the data"));
  CHECK_THAT(err("garbage.npy", craft("not a dict at all\n", data)), Contains("bad .npy header: expected '{'"));
  CHECK_THAT(err("nokey.npy", craft("{'descr': '<f4', 'shape': (2, 3), }\n", data)),
             Contains("bad .npy header: missing key 'fortran_order'"));
  CHECK_THAT(err("extrakey.npy", craft("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", data)),
             Contains("bad .npy header"));
  CHECK_THAT(err("dupkey.npy", craft("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", data)),
             Contains("key 'descr' appears twice"));
  CHECK_THAT(err("negshape.npy", craft("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", data)),
             Contains("expected a non-negative integer dimension"));
  CHECK_THAT(err("bigshape.npy",
                 craft("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", data)),
             Contains("impossibly large"));
  // 2^62 elements of 8 bytes: the byte count wrapped around 2^64 to "needs 0 bytes"
  CHECK_THAT(err("wrapshape.npy", craft("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }",
                                        data)),
             Contains("shape [4611686018427387904] of '<f8' needs more than 2^62 bytes"));
  // a length field far beyond the file
  std::string huge = good;
  huge[8] = '\xff', huge[9] = '\xff';
  CHECK_THAT(err("hugelen.npy", huge), Contains("truncated: the header needs 65535 bytes"));

  // what is tolerated: double quotes, no trailing comma, Python 2 long dims, '|'/'=' byte order
  write_bytes(tmp / "ok.npy", craft("{\"descr\": \"=f4\", \"shape\": (2L, 3L), \"fortran_order\": False}", data));
  CHECK(nn::load_npy(tmp / "ok.npy").shape() == Shape{2, 3});
  // version 2.0 with a 4-byte length
  write_bytes(tmp / "v2.npy", craft(hdr, data, 2));
  CHECK(nn::load_npy(tmp / "v2.npy").numel() == 6);
}

TEST_CASE("npy: save_npy round-trips bit-exactly, any layout, atomically", "[nn][npy]") {
  testing::TempDir tmp("gs_npy_test_");
  Generator g(5);
  const Tensor f32 = randn({7, 5}, g, kFloat32);
  const Tensor f64 = randn({3, 4, 2}, g, kFloat64);
  const Tensor i64 = from_vector<int64_t>({-100, 0, 1, int64_t{1} << 50}, {4});
  for (const auto& [name, t] : std::vector<std::pair<std::string, Tensor>>{
           {"f32.npy", f32}, {"f64.npy", f64}, {"i64.npy", i64}, {"scalar.npy", scalar(-3.25, kFloat64)},
           {"empty.npy", zeros({0, 4}, kFloat32)}, {"transposed.npy", op::transpose(f32, 0, 1)}}) {
    INFO(name);
    nn::save_npy(tmp / name, t);
    const Tensor back = nn::load_npy(tmp / name);
    CHECK(back.dtype() == t.dtype());
    CHECK(back.shape() == t.shape());
    CHECK(back.to_vector<double>() == t.to_vector<double>());  // exact: same bits (or ints < 2^53)
    // data starts on a 64-byte boundary, as NumPy writes it
    const std::string bytes = read_bytes(tmp / name);
    CHECK((bytes.size() - static_cast<size_t>(t.numel()) * dtype_size(t.dtype())) % 64 == 0);
  }
  // overwrite: the new content replaces the old, and no temp file is left beside it
  nn::save_npy(tmp / "f32.npy", i64);
  CHECK(nn::load_npy(tmp / "f32.npy").dtype() == kInt64);
  for (const auto& e : tmp.entries()) CHECK(e.find(".tmp") == std::string::npos);
  // a folder that does not exist: a message naming the target, nothing written
  const std::string bad = tmp / "no/such/dir/x.npy";
  CHECK_THAT(error_of([&] { nn::save_npy(bad, f32); }), StartsWith(bad + ": cannot create a temp file"));
}
