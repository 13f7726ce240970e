// SPDX-License-Identifier: Apache-2.0
#pragma once

// A strict JSON reader (RFC 8259) for the JSON that tools print (`podman ... --format json`) and for
// ztagent's own state.json (agent/state/): a thin façade over nlohmann/json (nlohmann-json3-dev,
// header-only), whose parser does the work; this tree keeps members in document order.
// Objects, arrays, strings with every escape (\uXXXX and surrogate pairs -> UTF-8), numbers, true,
// false, null. Strict: no comments, no trailing commas, no leading zeros, no control characters in
// strings, nesting at most 256 deep, nothing but whitespace after the value. Read only: ztagent
// writes its own JSON in agent/report/.

#include "util/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::util {

class Json {
public:
  enum class Kind { null, boolean, number, string, array, object };

  Json() = default;
  [[nodiscard]] static Json make_bool(bool value);
  [[nodiscard]] static Json make_number(double value);
  [[nodiscard]] static Json make_string(std::string value);
  [[nodiscard]] static Json make_array(std::vector<Json> items);
  /// Members in document order; keys may repeat (find() returns the first).
  [[nodiscard]] static Json make_object(std::vector<std::string> keys, std::vector<Json> values);

  [[nodiscard]] Kind kind() const { return m_kind; }
  [[nodiscard]] bool is_null() const { return m_kind == Kind::null; }

  /// The value when of that kind, else nullopt/nullptr.
  [[nodiscard]] std::optional<bool> as_bool() const;
  [[nodiscard]] std::optional<double> as_number() const;
  /// The number when it is a whole number in int64 range.
  [[nodiscard]] std::optional<std::int64_t> as_int() const;
  [[nodiscard]] const std::string* as_string() const;

  /// Array elements or object values (empty for scalars).
  [[nodiscard]] const std::vector<Json>& items() const { return m_items; }
  /// Object keys, parallel to items() (empty unless an object).
  [[nodiscard]] const std::vector<std::string>& keys() const { return m_keys; }
  [[nodiscard]] std::size_t size() const { return m_items.size(); }

  /// The first member named `key` of an object; nullptr when absent or not an object.
  [[nodiscard]] const Json* find(std::string_view key) const;
  /// find(key) then as_string(); nullptr when absent or not a string.
  [[nodiscard]] const std::string* find_string(std::string_view key) const;

private:
  Kind m_kind = Kind::null;
  bool m_bool = false;
  double m_number = 0;
  std::string m_string;
  std::vector<Json> m_items;
  std::vector<std::string> m_keys;
};

/// "null", "boolean", "number", "string", "array", "object".
[[nodiscard]] std::string_view to_string(Json::Kind kind);

/// Parses one JSON document. Errc::parse: "json: <what> at offset <n>".
[[nodiscard]] Result<Json> parse_json(std::string_view text);

} // namespace zt::util
