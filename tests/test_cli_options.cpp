// The CLI's option parser: flags with values, and numbers that are not finite.
#include <catch2/catch.hpp>

#include "demos/cli/options.h"

using gs::cli::Options;
using Catch::Matchers::Contains;

namespace {
Options make() {
  Options o("t", "test");
  o.flag("tied", "a flag").add("lr", "1e-3", "a number");
  return o;
}
}  // namespace

TEST_CASE("options: --flag=VALUE says which way, anything else is refused", "[cli][options]") {
  for (const char* on : {"--tied", "--tied=true", "--tied=yes", "--tied=1", "--tied=on"}) {
    Options o = make();
    REQUIRE(o.parse({on}));
    CHECK(o.on("tied"));
  }
  // before, "--tied=no" set the flag
  for (const char* off : {"--tied=false", "--tied=no", "--tied=0", "--tied=off"}) {
    Options o = make();
    REQUIRE(o.parse({off}));
    CHECK_FALSE(o.on("tied"));
  }
  Options o = make();
  REQUIRE(o.parse({}));
  CHECK_FALSE(o.on("tied"));
  CHECK_THROWS_WITH(make().parse({"--tied=maybe"}), Contains("option --tied") && Contains("got 'maybe'"));
  Options last = make();
  REQUIRE(last.parse({"--tied", "--tied=no"}));  // the last one wins, as for every option
  CHECK_FALSE(last.on("tied"));
}

TEST_CASE("options: NaN and infinity are refused naming the option", "[cli][options]") {
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "1e999"}) {
    Options o = make();
    REQUIRE(o.parse({"--lr", bad}));
    INFO(bad);
    CHECK_THROWS_WITH(o.number("lr"), Contains("option --lr"));
  }
  Options o = make();
  REQUIRE(o.parse({"--lr", "2.5e-4"}));
  CHECK(o.number("lr") == 2.5e-4);
}
