// SPDX-License-Identifier: Apache-2.0
#include "state/json.hpp"
#include "support/catch.hpp"

using zt::state::JsonValue;
using zt::state::parse_json;

TEST_CASE("state json: values, escapes, nesting", "[state][json]") {
  auto v = parse_json(R"( {"a":[1,-2.5,true,false,null],"s":"x\"\\\/\n\u00e9\ud83d\ude00","o":{}} )");
  REQUIRE(v);
  REQUIRE(v->is_object());
  const JsonValue* a = v->find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->is_array());
  const auto& arr = std::get<zt::state::JsonArray>(a->value);
  REQUIRE(arr.size() == 5);
  CHECK(std::get<double>(arr[0].value) == 1);
  CHECK(std::get<double>(arr[1].value) == -2.5);
  CHECK(std::get<bool>(arr[2].value));
  CHECK_FALSE(std::get<bool>(arr[3].value));
  CHECK(std::holds_alternative<std::nullptr_t>(arr[4].value));
  CHECK(std::get<std::string>(v->find("s")->value) == "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v->find("o")->is_object());
  CHECK(v->find("missing") == nullptr);
}

TEST_CASE("state json: errors give the offset", "[state][json]") {
  struct Row {
    const char* text;
    const char* message;
  };
  const Row rows[] = {
      {"", "offset 0: unexpected end of input"},
      {"{\"a\" 1}", "offset 5: expected ':'"},
      {"[1,]", "offset 3: unexpected character ']'"},
      {"\"abc", "offset 4: unterminated string"},
      {"{} x", "offset 3: trailing characters after the value"},
      {"\"\\q\"", "offset 3: invalid escape '\\q'"},
      {"-", "offset 0: invalid number"},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    auto v = parse_json(r.text);
    REQUIRE_FALSE(v);
    CHECK(v.error().code == zt::Errc::parse);
    CHECK(v.error().message == r.message);
  }
  std::string deep(100, '[');
  CHECK(parse_json(deep).error().message == "offset 65: nested too deeply");
}
