// SPDX-License-Identifier: Apache-2.0
#pragma once

// A small JSON reader for the files ztagent writes itself (state.json). RFC 8259 values; numbers
// are kept as doubles (ids and modes fit exactly). Writing uses report::json_quote.

#include "util/result.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace zt::state {

struct JsonValue;
using JsonArray = std::vector<JsonValue>;
using JsonObject = std::map<std::string, JsonValue, std::less<>>;

struct JsonValue {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject> value;

  [[nodiscard]] bool is_object() const { return std::holds_alternative<JsonObject>(value); }
  [[nodiscard]] bool is_array() const { return std::holds_alternative<JsonArray>(value); }
  [[nodiscard]] bool is_string() const { return std::holds_alternative<std::string>(value); }
  [[nodiscard]] bool is_number() const { return std::holds_alternative<double>(value); }
  /// The member `key` of an object; nullptr when this is not an object or has no such member.
  [[nodiscard]] const JsonValue* find(std::string_view key) const;
};

/// Parses one JSON text (surrounding whitespace allowed). Errc::parse "offset N: <what>".
[[nodiscard]] Result<JsonValue> parse_json(std::string_view text);

} // namespace zt::state
