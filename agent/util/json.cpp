// SPDX-License-Identifier: Apache-2.0
#include "util/json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace zt::util {

Json Json::make_bool(bool value) {
  Json j;
  j.m_kind = Kind::boolean;
  j.m_bool = value;
  return j;
}

Json Json::make_number(double value) {
  Json j;
  j.m_kind = Kind::number;
  j.m_number = value;
  return j;
}

Json Json::make_string(std::string value) {
  Json j;
  j.m_kind = Kind::string;
  j.m_string = std::move(value);
  return j;
}

Json Json::make_array(std::vector<Json> items) {
  Json j;
  j.m_kind = Kind::array;
  j.m_items = std::move(items);
  return j;
}

Json Json::make_object(std::vector<std::string> keys, std::vector<Json> values) {
  Json j;
  j.m_kind = Kind::object;
  j.m_keys = std::move(keys);
  j.m_items = std::move(values);
  return j;
}

std::optional<bool> Json::as_bool() const {
  if (m_kind != Kind::boolean) {
    return std::nullopt;
  }
  return m_bool;
}

std::optional<double> Json::as_number() const {
  if (m_kind != Kind::number) {
    return std::nullopt;
  }
  return m_number;
}

std::optional<std::int64_t> Json::as_int() const {
  if (m_kind != Kind::number || std::trunc(m_number) != m_number || m_number < -9.2e18 || m_number > 9.2e18) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(m_number);
}

const std::string* Json::as_string() const {
  return m_kind == Kind::string ? &m_string : nullptr;
}

const Json* Json::find(std::string_view key) const {
  if (m_kind != Kind::object) {
    return nullptr;
  }
  for (std::size_t i = 0; i < m_keys.size(); ++i) {
    if (m_keys[i] == key) {
      return &m_items[i];
    }
  }
  return nullptr;
}

const std::string* Json::find_string(std::string_view key) const {
  const Json* member = find(key);
  return member != nullptr ? member->as_string() : nullptr;
}

std::string_view to_string(Json::Kind kind) {
  switch (kind) {
  case Json::Kind::null:
    return "null";
  case Json::Kind::boolean:
    return "boolean";
  case Json::Kind::number:
    return "number";
  case Json::Kind::string:
    return "string";
  case Json::Kind::array:
    return "array";
  case Json::Kind::object:
    return "object";
  }
  return "?";
}

namespace {

// Parsing is nlohmann/json's (nlohmann-json3-dev, RFC 8259, strict: no comments, no trailing commas,
// valid UTF-8). Its SAX interface builds our tree, which keeps members in document order and
// repeated keys (nlohmann's own json type would sort and merge them). Its diagnostics are turned
// into ztagent's short "json: <what> at offset <n>" form (n = where the offending token starts).

constexpr std::size_t k_max_depth = 256;

using Sax = nlohmann::json_sax<nlohmann::json>;

/// The offset of the first '[' or '{' nested deeper than k_max_depth (outside strings), if any.
/// Checked before parsing: SAX events carry no offset.
std::optional<std::size_t> too_deep(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > k_max_depth) {
        return i;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

/// nlohmann's parse error (`position` = characters read, end of input counting as one) as
/// "<what>", offset.
std::pair<std::string, std::size_t>
describe_error(std::string_view text, std::size_t position, std::string_view token, std::string_view what) {
  const std::size_t last = position > 0 ? std::min(position, text.size() + 1) - 1 : 0; // offending char
  const std::size_t consumed = std::min(position, text.size());
  const std::size_t token_start = consumed - std::min(token.size(), consumed);
  if (contains(what, "number overflow")) {
    return {"number out of range", token_start};
  }
  if (contains(what, "unexpected end of input")) {
    return {"unexpected end of input", text.size()};
  }
  if (contains(what, "invalid string: missing closing quote")) {
    return {"unterminated string", text.size()};
  }
  if (contains(what, "invalid string: control character")) {
    return {"control character in a string", last};
  }
  if (contains(what, "invalid string: forbidden character after backslash")) {
    return {"unknown escape", last};
  }
  if (contains(what, "must be followed by 4 hex digits")) {
    // Fewer than four characters after "\u" is a truncated escape, else a bad digit.
    const std::size_t u = text.rfind("\\u", last);
    if (u != std::string_view::npos && text.size() - (u + 2) < 4) {
      return {"truncated \\u escape", u + 2};
    }
    return {"bad hex digit in \\u escape", last};
  }
  if (contains(what, "surrogate U+DC00..U+DFFF must follow")) {
    return {"lone low surrogate in \\u escape", position};
  }
  if (contains(what, "surrogate U+D800..U+DBFF must be followed")) {
    // Right after the high surrogate, or after a second \uXXXX that is no low surrogate.
    const bool read_second = position >= 6 && text.substr(position - 6, 2) == "\\u";
    return {"high surrogate without a low surrogate", read_second ? position : last};
  }
  if (contains(what, "invalid string: ill-formed UTF-8")) {
    return {"invalid UTF-8 in a string", last};
  }
  if (contains(what, "invalid number; expected digit after '.'")) {
    return {"expected a digit after '.'", last};
  }
  if (contains(what, "exponent") || contains(what, "after exponent sign")) {
    return {"expected a digit in the exponent", last};
  }
  if (contains(what, "invalid number")) {
    return {"expected a digit", last};
  }
  if (contains(what, "invalid literal")) {
    return {"unexpected character", token_start};
  }
  // A syntax error at a whole token: "unexpected ']'" (one character) or "unexpected number
  // literal" (the token's text).
  const bool one_char = contains(what, "unexpected '");
  const std::size_t start = one_char ? last : token_start;
  if (contains(what, "expected end of input")) {
    // "01": nlohmann reads the number 0, then another number.
    if (start > 0 && text[start - 1] == '0' && start < text.size() && text[start] >= '0' && text[start] <= '9' &&
        (start == 1 || (!(text[start - 2] >= '0' && text[start - 2] <= '9') && text[start - 2] != '.'))) {
      return {"leading zero in a number", start};
    }
    return {"unexpected text after the value", start};
  }
  if (contains(what, "parsing object key")) {
    return {"expected a string key", start};
  }
  if (contains(what, "parsing object separator")) {
    return {"expected ':'", start};
  }
  if (contains(what, "parsing object -")) {
    return {"expected ',' or '}'", start};
  }
  if (contains(what, "parsing array -")) {
    if (start > 0 && start < text.size() && text[start - 1] == '0' && text[start] >= '0' && text[start] <= '9') {
      return {"leading zero in a number", start};
    }
    return {"expected ',' or ']'", start};
  }
  return {"unexpected character", start};
}

/// Builds the Json tree from nlohmann's SAX events.
class Builder final : public Sax {
public:
  explicit Builder(std::string_view text) : m_text(text) {}

  bool null() override { return add(Json{}); }
  bool boolean(bool value) override { return add(Json::make_bool(value)); }
  bool number_integer(number_integer_t value) override {
    return add(Json::make_number(static_cast<double>(value)));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return add(Json::make_number(static_cast<double>(value)));
  }
  bool number_float(number_float_t value, const string_t& /*text*/) override {
    return add(Json::make_number(value));
  }
  bool string(string_t& value) override { return add(Json::make_string(std::move(value))); }
  bool binary(binary_t& /*value*/) override { return false; } // not produced by the JSON parser
  bool start_object(std::size_t /*elements*/) override {
    m_stack.emplace_back();
    return true;
  }
  bool key(string_t& value) override {
    m_stack.back().keys.push_back(std::move(value));
    return true;
  }
  bool end_object() override {
    Frame frame = std::move(m_stack.back());
    m_stack.pop_back();
    return add(Json::make_object(std::move(frame.keys), std::move(frame.items)));
  }
  bool start_array(std::size_t /*elements*/) override {
    m_stack.emplace_back();
    return true;
  }
  bool end_array() override {
    Frame frame = std::move(m_stack.back());
    m_stack.pop_back();
    return add(Json::make_array(std::move(frame.items)));
  }
  bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& ex) override {
    auto [what, offset] = describe_error(m_text, position, last_token, ex.what());
    m_error = "json: " + what + " at offset " + std::to_string(offset);
    return false;
  }

  Result<Json> result() && {
    if (!m_error.empty()) {
      return make_error(Errc::parse, m_error);
    }
    return std::move(m_root);
  }

private:
  struct Frame {
    std::vector<std::string> keys; // empty for an array
    std::vector<Json> items;
  };

  bool add(Json value) {
    if (m_stack.empty()) {
      m_root = std::move(value);
    } else {
      m_stack.back().items.push_back(std::move(value));
    }
    return true;
  }

  std::string_view m_text;
  std::vector<Frame> m_stack;
  Json m_root;
  std::string m_error;
};

} // namespace

Result<Json> parse_json(std::string_view text) {
  if (auto deep = too_deep(text)) {
    return make_error(Errc::parse, "json: nesting too deep at offset " + std::to_string(*deep));
  }
  Builder builder(text);
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json,
                                            /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) {
    auto result = std::move(builder).result();
    if (result) {
      return make_error(Errc::parse, "json: invalid document at offset 0");
    }
    return result;
  }
  return std::move(builder).result();
}

} // namespace zt::util
