// SPDX-License-Identifier: Apache-2.0
#include "util/strings.hpp"

#include "support/catch.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace zt::util;

TEST_CASE("strings: split keeps empty fields", "[util][strings]") {
  CHECK(split("a::b", ':') == std::vector<std::string_view>{"a", "", "b"});
  CHECK(split("", ':') == std::vector<std::string_view>{""});
  CHECK(split("ztnet:165536:65536", ':') == std::vector<std::string_view>{"ztnet", "165536", "65536"});
}

TEST_CASE("strings: split_into fills a fixed array and counts every field", "[util][strings]") {
  std::array<std::string_view, 3> out{};
  CHECK(split_into("ztnet:165536:65536", ':', out) == 3);
  CHECK(out == std::array<std::string_view, 3>{"ztnet", "165536", "65536"});
  CHECK(split_into("a::", ':', out) == 3);
  CHECK(out == std::array<std::string_view, 3>{"a", "", ""});
  out = {};
  CHECK(split_into("a:b", ':', out) == 2);
  CHECK(out[0] == "a");
  CHECK(out[1] == "b");
  CHECK(split_into("", ':', out) == 1);
  CHECK(out[0].empty());
  // More fields than room: the first three are stored, all of them counted (like split().size()).
  CHECK(split_into("a:b:c:d:e", ':', out) == 5);
  CHECK(out == std::array<std::string_view, 3>{"a", "b", "c"});
  CHECK(split_into("a:b:c:", ':', out) == 4);
  for (const std::string_view text : {"", ":", "a", "x:y:z", "::::", "root:x:0:0:root:/root:/bin/sh"}) {
    INFO(text);
    std::array<std::string_view, 7> seven{};
    const auto all = split(text, ':');
    REQUIRE(split_into(text, ':', seven) == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(seven[i] == all[i]);
    }
  }
}

TEST_CASE("strings: next_line walks the lines of lines()", "[util][strings]") {
  for (const std::string_view text : {"", "\n", "a", "a\n", "a\nb", "a\n\nb\n", "\n\nx\n\n"}) {
    INFO(text);
    std::vector<std::string_view> walked;
    std::size_t pos = 0;
    while (auto line = next_line(text, pos)) {
      walked.push_back(*line);
    }
    CHECK(walked == lines(text));
    CHECK(pos == text.size());
    CHECK_FALSE(next_line(text, pos));
  }
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
  CHECK(parse_uint("18446744073709551615") == 18446744073709551615ULL);
  CHECK_FALSE(parse_uint("18446744073709551616"));
  CHECK_FALSE(parse_uint("+1"));
  CHECK(parse_uint("007") == 7U);
}

TEST_CASE("strings: parse_uint agrees with a digit-by-digit reference at every length and position",
          "[util][strings]") {
  // The 8-digits-at-a-time path: every length 1..22, a non-digit (including bytes just outside
  // '0'..'9' and ones >= 0xFA, which carry in the digit test) at every position.
  auto reference = [](std::string_view t) -> std::optional<std::uint64_t> {
    if (t.empty()) {
      return std::nullopt;
    }
    std::uint64_t v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        return std::nullopt;
      }
      v = v * 10 + digit;
    }
    return v;
  };
  const std::string digits = "9876543210123456789012";
  const char odd[] = {'/', ':', ' ', '\0', '\xfa', '\xff', 'a', '\x3f'};
  for (std::size_t len = 1; len <= digits.size(); ++len) {
    const std::string good = digits.substr(0, len);
    CHECK(parse_uint(good) == reference(good));
    CHECK(parse_uint(std::string(len, '9')) == reference(std::string(len, '9')));
    CHECK(parse_uint(std::string(len, '0')) == reference(std::string(len, '0')));
    for (std::size_t pos = 0; pos < len; ++pos) {
      for (char c : odd) {
        std::string bad = good;
        bad[pos] = c;
        INFO("length " << len << ", byte " << static_cast<int>(static_cast<unsigned char>(c)) << " at " << pos);
        CHECK_FALSE(parse_uint(bad));
      }
    }
  }
  CHECK(parse_uint("12345678") == 12345678U);
  CHECK(parse_uint("1234567890123456") == 1234567890123456ULL);
  CHECK(parse_uint("100000000") == 100000000U);
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

TEST_CASE("strings: parse_uint at the 19/20-digit boundary and with every non-digit byte", "[util][strings]") {
  CHECK(parse_uint("9999999999999999999") == 9999999999999999999ULL);  // 19 digits: the unchecked loop
  CHECK(parse_uint("00000000000000000000000000042") == 42U);          // leading zeros, checked loop
  CHECK(parse_uint("10000000000000000000") == 10000000000000000000ULL);
  CHECK_FALSE(parse_uint("99999999999999999990"));
  for (int c = 0; c < 256; ++c) {
    if (c >= '0' && c <= '9') {
      continue;
    }
    const std::string text = std::string("12") + static_cast<char>(c);
    CHECK_FALSE(parse_uint(text));
  }
}

TEST_CASE("strings: count_char and trim's whitespace set", "[util][strings]") {
  CHECK(count_char("", '\n') == 0);
  CHECK(count_char("a\nb\n\n", '\n') == 3);
  CHECK(count_char(std::string(100000, ':'), ':') == 100000);
  CHECK(trim("\v\fx\r\t") == "x");
  CHECK(trim("x") == "x");
  CHECK(trim("\x85x") == "\x85x");  // not C-locale space
}
