// SPDX-License-Identifier: Apache-2.0
#include "util/json.hpp"

#include <charconv>
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

constexpr int k_max_depth = 256;

class Parser {
public:
  explicit Parser(std::string_view text) : m_text(text) {}

  Result<Json> document() {
    skip_ws();
    ZT_TRY_ASSIGN(value, parse_value(0));
    skip_ws();
    if (m_pos != m_text.size()) {
      return fail("unexpected text after the value");
    }
    return value;
  }

private:
  std::unexpected<Error> fail(std::string_view what) const {
    return make_error(Errc::parse, "json: " + std::string(what) + " at offset " + std::to_string(m_pos));
  }

  void skip_ws() {
    while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' || m_text[m_pos] == '\n' ||
                                     m_text[m_pos] == '\r')) {
      ++m_pos;
    }
  }

  bool consume_literal(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) == word) {
      m_pos += word.size();
      return true;
    }
    return false;
  }

  Result<Json> parse_value(int depth) {
    if (m_pos >= m_text.size()) {
      return fail("unexpected end of input");
    }
    char c = m_text[m_pos];
    if (c == '{') {
      return parse_object(depth + 1);
    }
    if (c == '[') {
      return parse_array(depth + 1);
    }
    if (c == '"') {
      ZT_TRY_ASSIGN(s, parse_string());
      return Json::make_string(std::move(s));
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return parse_number();
    }
    if (consume_literal("true")) {
      return Json::make_bool(true);
    }
    if (consume_literal("false")) {
      return Json::make_bool(false);
    }
    if (consume_literal("null")) {
      return Json{};
    }
    return fail("unexpected character");
  }

  Result<Json> parse_object(int depth) {
    if (depth > k_max_depth) {
      return fail("nesting too deep");
    }
    ++m_pos; // '{'
    std::vector<std::string> keys;
    std::vector<Json> values;
    skip_ws();
    if (m_pos < m_text.size() && m_text[m_pos] == '}') {
      ++m_pos;
      return Json::make_object(std::move(keys), std::move(values));
    }
    while (true) {
      skip_ws();
      if (m_pos >= m_text.size() || m_text[m_pos] != '"') {
        return fail("expected a string key");
      }
      ZT_TRY_ASSIGN(key, parse_string());
      skip_ws();
      if (m_pos >= m_text.size() || m_text[m_pos] != ':') {
        return fail("expected ':'");
      }
      ++m_pos;
      skip_ws();
      ZT_TRY_ASSIGN(value, parse_value(depth));
      keys.push_back(std::move(key));
      values.push_back(std::move(value));
      skip_ws();
      if (m_pos >= m_text.size()) {
        return fail("unexpected end of input");
      }
      if (m_text[m_pos] == ',') {
        ++m_pos;
        continue;
      }
      if (m_text[m_pos] == '}') {
        ++m_pos;
        return Json::make_object(std::move(keys), std::move(values));
      }
      return fail("expected ',' or '}'");
    }
  }

  Result<Json> parse_array(int depth) {
    if (depth > k_max_depth) {
      return fail("nesting too deep");
    }
    ++m_pos; // '['
    std::vector<Json> items;
    skip_ws();
    if (m_pos < m_text.size() && m_text[m_pos] == ']') {
      ++m_pos;
      return Json::make_array(std::move(items));
    }
    while (true) {
      skip_ws();
      ZT_TRY_ASSIGN(value, parse_value(depth));
      items.push_back(std::move(value));
      skip_ws();
      if (m_pos >= m_text.size()) {
        return fail("unexpected end of input");
      }
      if (m_text[m_pos] == ',') {
        ++m_pos;
        continue;
      }
      if (m_text[m_pos] == ']') {
        ++m_pos;
        return Json::make_array(std::move(items));
      }
      return fail("expected ',' or ']'");
    }
  }

  Result<Json> parse_number() {
    const std::size_t start = m_pos;
    auto digit = [&] { return m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9'; };
    if (m_text[m_pos] == '-') {
      ++m_pos;
    }
    if (!digit()) {
      return fail("expected a digit");
    }
    if (m_text[m_pos] == '0') {
      ++m_pos;
      if (digit()) {
        return fail("leading zero in a number");
      }
    } else {
      while (digit()) {
        ++m_pos;
      }
    }
    if (m_pos < m_text.size() && m_text[m_pos] == '.') {
      ++m_pos;
      if (!digit()) {
        return fail("expected a digit after '.'");
      }
      while (digit()) {
        ++m_pos;
      }
    }
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
      ++m_pos;
      if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-')) {
        ++m_pos;
      }
      if (!digit()) {
        return fail("expected a digit in the exponent");
      }
      while (digit()) {
        ++m_pos;
      }
    }
    double value = 0;
    const char* first = m_text.data() + start;
    const char* last = m_text.data() + m_pos;
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range) {
      m_pos = start;
      return fail("number out of range");
    }
    if (ec != std::errc{} || ptr != last) {
      m_pos = start;
      return fail("malformed number");
    }
    return Json::make_number(value);
  }

  Result<std::uint32_t> parse_hex4() {
    if (m_pos + 4 > m_text.size()) {
      return fail("truncated \\u escape");
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = m_text[m_pos++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        --m_pos;
        return fail("bad hex digit in \\u escape");
      }
    }
    return v;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  Result<std::string> parse_string() {
    ++m_pos; // '"'
    std::string out;
    while (true) {
      if (m_pos >= m_text.size()) {
        return fail("unterminated string");
      }
      char c = m_text[m_pos];
      if (c == '"') {
        ++m_pos;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in a string");
      }
      if (c != '\\') {
        out += c;
        ++m_pos;
        continue;
      }
      ++m_pos;
      if (m_pos >= m_text.size()) {
        return fail("unterminated string");
      }
      char e = m_text[m_pos++];
      switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        ZT_TRY_ASSIGN(cp, parse_hex4());
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return fail("lone low surrogate in \\u escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (m_text.substr(m_pos, 2) != "\\u") {
            return fail("high surrogate without a low surrogate");
          }
          m_pos += 2;
          ZT_TRY_ASSIGN(low, parse_hex4());
          if (low < 0xDC00 || low > 0xDFFF) {
            return fail("high surrogate without a low surrogate");
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default:
        --m_pos;
        return fail("unknown escape");
      }
    }
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

} // namespace

Result<Json> parse_json(std::string_view text) {
  return Parser(text).document();
}

} // namespace zt::util
