#pragma once
// gs::Error: the one exception type. Every message starts with the op or file it concerns,
// e.g. "matmul: shapes [4, 3] and [5, 2] do not align".
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gs {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws gs::Error("<op>: <parts...>"). Parts are streamed, so shapes and numbers mix freely.
template <class... Parts>
[[noreturn]] void fail(std::string_view op, const Parts&... parts) {
  std::ostringstream os;
  os << op << ": ";
  (os << ... << parts);
  throw Error(os.str());
}

}  // namespace gs
