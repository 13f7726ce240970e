// SPDX-License-Identifier: Apache-2.0
#pragma once

// UTF-8 helpers shared by the report writers (report.cpp, monitoring.cpp). Internal to agent/report/.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zt::report::detail {

inline constexpr char32_t k_replacement = 0xFFFD;
inline constexpr std::string_view k_replacement_utf8 = "\xEF\xBF\xBD";

/// One decoded code point; `size` == 0 means the byte at the position is not valid UTF-8 (overlong
/// forms, surrogates, values above U+10FFFF, truncated or stray continuation bytes).
struct Decoded {
  char32_t code_point = k_replacement;
  std::size_t size = 0;
};

[[nodiscard]] inline Decoded decode_utf8(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t b0 = byte(pos);
  if (b0 < 0x80) {
    return {b0, 1};
  }
  std::size_t size = 0;
  char32_t code_point = 0;
  char32_t minimum = 0;
  if ((b0 & 0xE0) == 0xC0) {
    size = 2;
    code_point = b0 & 0x1F;
    minimum = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    size = 3;
    code_point = b0 & 0x0F;
    minimum = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    size = 4;
    code_point = b0 & 0x07;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (size > text.size() - pos) {
    return {};
  }
  for (std::size_t i = 1; i < size; ++i) {
    const std::uint8_t b = byte(pos + i);
    if ((b & 0xC0) != 0x80) {
      return {};
    }
    code_point = (code_point << 6) | (b & 0x3F);
  }
  if (code_point < minimum || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return {};
  }
  return {code_point, size};
}

/// Calls `visit(code_point, bytes)` per code point; an invalid byte is visited alone with
/// code_point k_replacement and `bytes` empty, and decoding resumes at the next byte.
template <typename Visit> void for_each_code_point(std::string_view text, Visit&& visit) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Decoded decoded = decode_utf8(text, pos);
    if (decoded.size == 0) {
      visit(k_replacement, std::string_view{});
      ++pos;
    } else {
      visit(decoded.code_point, text.substr(pos, decoded.size));
      pos += decoded.size;
    }
  }
}

inline void append_hex(std::string& out, std::uint32_t value, int digits) {
  constexpr std::string_view k_hex = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out += k_hex[(value >> shift) & 0xF];
  }
}

/// One line of valid UTF-8: control characters (C0, DEL, C1) become visible escapes ("\n", "\x1b",
/// "\u009b"), invalid bytes U+FFFD. `escape(cp, out)` may handle any other character itself and
/// return true; returning false copies it unchanged.
template <typename Escape> std::string visible(std::string_view text, Escape&& escape) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    if (bytes.empty()) {
      out += k_replacement_utf8;
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += "\\x";
      append_hex(out, cp, 2);
    } else if (cp >= 0x80 && cp <= 0x9F) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else if (!escape(cp, out)) {
      out += bytes;
    }
  });
  return out;
}

} // namespace zt::report::detail
