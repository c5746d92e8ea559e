// libFuzzer harness: the CLI's option parsing (demos/cli/options.cpp) on arbitrary argument
// lists (the input split at NUL bytes). Options::parse and the typed reads either succeed or
// throw std::runtime_error (the CLI turns it into exit code 2); an integer read is the exact
// decimal value given, a number read is finite, a flag is on or off. std::logic_error would be a
// programming error (reading an undeclared option) and is a finding, like any crash.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "demos/cli/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) args.push_back(cur), cur.clear();
    else cur += static_cast<char>(data[i]);
  }
  args.push_back(cur);
  gs::cli::Options o("fuzz", "fuzzed options");
  o.add("steps", "10", "an integer").add("lr", "1e-3", "a number").flag("tied", "a flag").positional("file", "a file");
  try {
    if (!o.parse(args)) return 0;  // --help
  } catch (const std::logic_error&) {
    std::abort();
  } catch (const std::runtime_error&) {
    return 0;
  }
  try {
    const int64_t n = o.integer("steps");
    if (std::to_string(n) != o.str("steps") && o.str("steps").find_first_of(" \t\n\v\f\r+0") == std::string::npos)
      std::abort();  // a plain decimal reads back as itself
  } catch (const std::logic_error&) {
    std::abort();
  } catch (const std::runtime_error&) {
  }
  try {
    if (!std::isfinite(o.number("lr"))) std::abort();
  } catch (const std::logic_error&) {
    std::abort();
  } catch (const std::runtime_error&) {
  }
  (void)o.on("tied");
  return 0;
}
