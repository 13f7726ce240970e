// SPDX-License-Identifier: Apache-2.0
#include "state/json.hpp"

#include <charconv>
#include <cmath>

namespace zt::state {

const JsonValue* JsonValue::find(std::string_view key) const {
  const auto* object = std::get_if<JsonObject>(&value);
  if (object == nullptr) {
    return nullptr;
  }
  auto it = object->find(key);
  return it == object->end() ? nullptr : &it->second;
}

namespace {

constexpr int k_max_depth = 64;

class Parser {
public:
  explicit Parser(std::string_view text) : m_text(text) {}

  Result<JsonValue> parse_document() {
    ZT_TRY_ASSIGN(v, parse_value(0));
    skip_ws();
    if (m_pos != m_text.size()) {
      return fail("trailing characters after the value");
    }
    return v;
  }

private:
  std::unexpected<Error> fail(const std::string& what) const {
    return make_error(Errc::parse, "offset " + std::to_string(m_pos) + ": " + what);
  }

  void skip_ws() {
    while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' || m_text[m_pos] == '\n' ||
                                     m_text[m_pos] == '\r')) {
      ++m_pos;
    }
  }

  bool consume(std::string_view word) {
    if (m_text.substr(m_pos, word.size()) == word) {
      m_pos += word.size();
      return true;
    }
    return false;
  }

  Result<JsonValue> parse_value(int depth) {
    if (depth > k_max_depth) {
      return fail("nested too deeply");
    }
    skip_ws();
    if (m_pos >= m_text.size()) {
      return fail("unexpected end of input");
    }
    const char c = m_text[m_pos];
    if (c == '{') {
      return parse_object(depth);
    }
    if (c == '[') {
      return parse_array(depth);
    }
    if (c == '"') {
      ZT_TRY_ASSIGN(s, parse_string());
      return JsonValue{std::move(s)};
    }
    if (consume("true")) {
      return JsonValue{true};
    }
    if (consume("false")) {
      return JsonValue{false};
    }
    if (consume("null")) {
      return JsonValue{nullptr};
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return parse_number();
    }
    return fail(std::string("unexpected character '") + c + "'");
  }

  Result<JsonValue> parse_object(int depth) {
    ++m_pos; // '{'
    JsonObject object;
    skip_ws();
    if (consume("}")) {
      return JsonValue{std::move(object)};
    }
    while (true) {
      skip_ws();
      if (m_pos >= m_text.size() || m_text[m_pos] != '"') {
        return fail("expected a member name");
      }
      ZT_TRY_ASSIGN(key, parse_string());
      skip_ws();
      if (!consume(":")) {
        return fail("expected ':'");
      }
      ZT_TRY_ASSIGN(v, parse_value(depth + 1));
      object.insert_or_assign(std::move(key), std::move(v));
      skip_ws();
      if (consume("}")) {
        return JsonValue{std::move(object)};
      }
      if (!consume(",")) {
        return fail("expected ',' or '}'");
      }
    }
  }

  Result<JsonValue> parse_array(int depth) {
    ++m_pos; // '['
    JsonArray array;
    skip_ws();
    if (consume("]")) {
      return JsonValue{std::move(array)};
    }
    while (true) {
      ZT_TRY_ASSIGN(v, parse_value(depth + 1));
      array.push_back(std::move(v));
      skip_ws();
      if (consume("]")) {
        return JsonValue{std::move(array)};
      }
      if (!consume(",")) {
        return fail("expected ',' or ']'");
      }
    }
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  Result<std::uint32_t> parse_hex4() {
    if (m_pos + 4 > m_text.size()) {
      return fail("truncated \\u escape");
    }
    std::uint32_t cp = 0;
    auto [ptr, ec] = std::from_chars(m_text.data() + m_pos, m_text.data() + m_pos + 4, cp, 16);
    if (ec != std::errc() || ptr != m_text.data() + m_pos + 4) {
      return fail("invalid \\u escape");
    }
    m_pos += 4;
    return cp;
  }

  Result<std::string> parse_string() {
    ++m_pos; // '"'
    std::string out;
    while (true) {
      if (m_pos >= m_text.size()) {
        return fail("unterminated string");
      }
      const char c = m_text[m_pos++];
      if (c == '"') {
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return fail("control character in string");
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (m_pos >= m_text.size()) {
        return fail("unterminated string");
      }
      const char e = m_text[m_pos++];
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
        if (cp >= 0xd800 && cp < 0xdc00 && consume("\\u")) {
          ZT_TRY_ASSIGN(low, parse_hex4());
          if (low >= 0xdc00 && low < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else {
            return fail("invalid surrogate pair");
          }
        }
        append_utf8(out, cp);
        break;
      }
      default:
        return fail(std::string("invalid escape '\\") + e + "'");
      }
    }
  }

  Result<JsonValue> parse_number() {
    const std::size_t start = m_pos;
    if (m_text[m_pos] == '-') {
      ++m_pos;
    }
    while (m_pos < m_text.size() &&
           std::string_view("0123456789.eE+-").find(m_text[m_pos]) != std::string_view::npos) {
      ++m_pos;
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(m_text.data() + start, m_text.data() + m_pos, d);
    if (ec != std::errc() || ptr != m_text.data() + m_pos || !std::isfinite(d)) {
      m_pos = start;
      return fail("invalid number");
    }
    return JsonValue{d};
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
};

} // namespace

Result<JsonValue> parse_json(std::string_view text) {
  return Parser(text).parse_document();
}

} // namespace zt::state
