// SPDX-License-Identifier: Apache-2.0
#include "util/strings.hpp"

#include "support/catch.hpp"

using namespace zt::util;

TEST_CASE("strings: split keeps empty fields", "[util][strings]") {
  CHECK(split("a::b", ':') == std::vector<std::string_view>{"a", "", "b"});
  CHECK(split("", ':') == std::vector<std::string_view>{""});
  CHECK(split("ztnet:165536:65536", ':') == std::vector<std::string_view>{"ztnet", "165536", "65536"});
}

TEST_CASE("strings: lines, trim, join", "[util][strings]") {
  CHECK(lines("a\nb\n") == std::vector<std::string_view>{"a", "b"});
  CHECK(lines("a\n\nb") == std::vector<std::string_view>{"a", "", "b"});
  CHECK(lines("").empty());
  CHECK(trim("  x y \t\n") == "x y");
  CHECK(trim(" \n ").empty());
  CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(join({}, ", ").empty());
}

TEST_CASE("strings: parse_uint is strict", "[util][strings]") {
  CHECK(parse_uint("165536") == 165536U);
  CHECK(parse_uint("0") == 0U);
  CHECK_FALSE(parse_uint(""));
  CHECK_FALSE(parse_uint("-1"));
  CHECK_FALSE(parse_uint("12a"));
  CHECK_FALSE(parse_uint(" 1"));
  CHECK_FALSE(parse_uint("99999999999999999999999"));
}

TEST_CASE("strings: format_mode and quote_argv", "[util][strings]") {
  CHECK(format_mode(0750) == "0750");
  CHECK(format_mode(04755) == "4755");
  CHECK(format_mode(0100644) == "0644");
  CHECK(quote_argv({"usermod", "--add-subuids", "165536-231071", "ztnet"}) ==
        "usermod --add-subuids 165536-231071 ztnet");
  CHECK(quote_argv({"sh", "-c", "echo 'hi' $x", ""}) == "sh -c 'echo '\\''hi'\\'' $x' ''");
}

TEST_CASE("strings: compare_versions is numeric", "[util][strings]") {
  CHECK(compare_versions("4.9.3", "4.10") < 0);
  CHECK(compare_versions("5.0", "4.9.3") > 0);
  CHECK(compare_versions("4.3", "4.3.0") == 0);
  CHECK(compare_versions("4.3.1", "4.3") > 0);
  CHECK(compare_versions("5.4.2", "5.0") > 0);
  CHECK(compare_versions("4.4", "4.4") == 0);
}

TEST_CASE("to_hex: lowercase, two digits per byte", "[util][strings]") {
  CHECK(zt::util::to_hex("") == "");
  CHECK(zt::util::to_hex(std::string("\x00\x0f\x10\xff", 4)) == "000f10ff");
  CHECK(zt::util::to_hex("AZ") == "415a");
}
