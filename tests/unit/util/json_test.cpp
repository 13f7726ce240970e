// SPDX-License-Identifier: Apache-2.0
#include "support/catch.hpp"
#include "util/json.hpp"

#include <string>

using zt::util::Json;
using zt::util::parse_json;

TEST_CASE("json: scalars, arrays, objects", "[util][json]") {
  auto doc = parse_json(
      R"( {"a": [1, -2.5, 3e2, 0], "b": true, "c": false, "d": null, "e": "x", "f": {}, "g": []} )");
  REQUIRE(doc);
  REQUIRE(doc->kind() == Json::Kind::object);
  CHECK(doc->keys() == std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g"});
  const Json* a = doc->find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->size() == 4);
  CHECK(a->items()[0].as_int() == 1);
  CHECK(a->items()[1].as_number() == -2.5);
  CHECK(a->items()[1].as_int() == std::nullopt);
  CHECK(a->items()[2].as_int() == 300);
  CHECK(a->items()[3].as_int() == 0);
  CHECK(doc->find("b")->as_bool() == true);
  CHECK(doc->find("c")->as_bool() == false);
  CHECK(doc->find("d")->is_null());
  CHECK(*doc->find_string("e") == "x");
  CHECK(doc->find_string("a") == nullptr);
  CHECK(doc->find("missing") == nullptr);
  CHECK(doc->find("f")->kind() == Json::Kind::object);
  CHECK(doc->find("g")->kind() == Json::Kind::array);
  CHECK(a->find("x") == nullptr);
  CHECK(a->as_string() == nullptr);
  CHECK(zt::util::to_string(Json::Kind::array) == "array");
}

TEST_CASE("json: string escapes and unicode", "[util][json]") {
  auto doc =
      parse_json(R"(["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20ac", "\ud83d\ude00", "caf\u00E9", "plain é"])");
  REQUIRE(doc);
  REQUIRE(doc->size() == 5);
  CHECK(*doc->items()[0].as_string() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(*doc->items()[1].as_string() == "\xC3\xA9\xE2\x82\xAC");
  CHECK(*doc->items()[2].as_string() == "\xF0\x9F\x98\x80");
  CHECK(*doc->items()[3].as_string() == "caf\xC3\xA9");
  CHECK(*doc->items()[4].as_string() == "plain \xC3\xA9");
}

TEST_CASE("json: a real podman 4.3.1 document parses", "[util][json]") {
  // Abridged from `podman info --format json` on Debian 12 (podman 4.3.1), kept verbatim in shape:
  // an empty object printed with a blank line inside, a string with \n escapes, large integers.
  const std::string text =
      "{\n  \"host\": {\n    \"ociRuntime\": {\n      \"name\": \"crun\",\n      \"version\": "
      "\"crun version 1.8.1\\ncommit: f8a096be\\nrundir: /run/crun\"\n    },\n"
      "    \"memTotal\": 25274793984,\n    \"idMappings\": {\n      \"gidmap\": null,\n"
      "      \"uidmap\": null\n    }\n  },\n  \"registries\": {\n    \n  }\n}\n";
  auto doc = parse_json(text);
  REQUIRE(doc);
  const Json* host = doc->find("host");
  REQUIRE(host != nullptr);
  CHECK(*host->find("ociRuntime")->find_string("version") ==
        "crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun");
  CHECK(host->find("memTotal")->as_int() == 25274793984);
  CHECK(doc->find("registries")->size() == 0);
}

TEST_CASE("json: strict errors name what and where", "[util][json]") {
  struct Row {
    std::string text;
    std::string message;
  };
  const Row rows[] = {
      {"", "json: unexpected end of input at offset 0"},
      {"[1,]", "json: unexpected character at offset 3"},
      {"{\"a\":1,}", "json: expected a string key at offset 7"},
      {"{\"a\" 1}", "json: expected ':' at offset 5"},
      {"{\"a\":1 \"b\":2}", "json: expected ',' or '}' at offset 7"},
      {"[1 2]", "json: expected ',' or ']' at offset 3"},
      {"01", "json: leading zero in a number at offset 1"},
      {"-", "json: expected a digit at offset 1"},
      {"1.", "json: expected a digit after '.' at offset 2"},
      {"1e", "json: expected a digit in the exponent at offset 2"},
      {"1e999", "json: number out of range at offset 0"},
      {"\"abc", "json: unterminated string at offset 4"},
      {"\"a\tb\"", "json: control character in a string at offset 2"},
      {"\"\\x\"", "json: unknown escape at offset 2"},
      {"\"\\u12g4\"", "json: bad hex digit in \\u escape at offset 5"},
      {"\"\\u12\"", "json: truncated \\u escape at offset 3"},
      {"\"\\udc00\"", "json: lone low surrogate in \\u escape at offset 7"},
      {"\"\\ud83d\"", "json: high surrogate without a low surrogate at offset 7"},
      {"\"\\ud83d\\u0041\"", "json: high surrogate without a low surrogate at offset 13"},
      {"tru", "json: unexpected character at offset 0"},
      {"{} {}", "json: unexpected text after the value at offset 3"},
      {"// c\n{}", "json: unexpected character at offset 0"},
      {"'a'", "json: unexpected character at offset 0"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto doc = parse_json(row.text);
    REQUIRE_FALSE(doc);
    CHECK(doc.error().code == zt::Errc::parse);
    CHECK(doc.error().message == row.message);
  }
}

TEST_CASE("json: nesting is bounded", "[util][json]") {
  CHECK(parse_json(std::string(256, '[') + std::string(256, ']')));
  auto deep = parse_json(std::string(257, '[') + std::string(257, ']'));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().message == "json: nesting too deep at offset 256");
}
