// SPDX-License-Identifier: Apache-2.0
#include "util/strings.hpp"

#include "util/assert.hpp"
#include "util/result.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace zt {

std::string_view to_string(Errc code) {
  switch (code) {
  case Errc::io: return "io";
  case Errc::parse: return "parse";
  case Errc::invalid_config: return "invalid_config";
  case Errc::command_failed: return "command_failed";
  case Errc::timeout: return "timeout";
  case Errc::refused: return "refused";
  case Errc::unsupported: return "unsupported";
  case Errc::not_converged: return "not_converged";
  case Errc::not_found: return "not_found";
  case Errc::busy: return "busy";
  case Errc::internal: return "internal";
  }
  return "unknown";
}

namespace detail {
void assert_failed(const char* expr, const char* file, int line, const char* func) {
  std::fprintf(stderr, "ztagent: internal error: assertion '%s' failed in %s at %s:%d\n", expr, func, file,
               line);
  std::abort();
}
} // namespace detail

namespace util {

std::size_t count_char(std::string_view text, char c) {
  std::size_t n = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const void* hit = std::memchr(p, c, static_cast<std::size_t>(end - p));
    if (hit == nullptr) {
      break;
    }
    ++n;
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  // One allocation per call: account and subid files are split line by line (100k lines and more).
  out.reserve(count_char(text, sep) + 1);
  std::size_t start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::size_t split_into(std::string_view text, char sep, std::span<std::string_view> out) {
  std::size_t n = 0;
  std::size_t start = 0;
  while (n < out.size()) {
    auto pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out[n++] = text.substr(start);
      return n;
    }
    out[n++] = text.substr(start, pos - start);
    start = pos + 1;
  }
  // `out` is full: count the fields left without storing them.
  return n + 1 + count_char(text.substr(start), sep);
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto pos = text.find('\n', start);
    if (pos == std::string_view::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::string_view trim(std::string_view text) {
  // The same six characters as isspace() in the C locale, without a locale lookup per byte.
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  std::size_t b = 0;
  std::size_t e = text.size();
  while (b < e && space(text[b])) {
    ++b;
  }
  while (e > b && space(text[e - 1])) {
    --e;
  }
  return text.substr(b, e - b);
}

std::string last_nonempty_line(std::string_view text) {
  auto all = lines(text);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto line = trim(*it);
    if (!line.empty()) {
      return std::string(line);
    }
  }
  return {};
}

namespace {

template <typename Parts> std::string join_parts(const Parts& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

} // namespace

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  return join_parts(parts, sep);
}

std::string join_views(std::span<const std::string_view> parts, std::string_view sep) {
  return join_parts(parts, sep);
}

namespace {

/// The value of 8 ASCII digits at `p`, or nullopt when one of them is not a digit: one 64-bit load
/// and three multiplies instead of 8 rounds of a loop (the "SWAR" digit parse, as simdjson does it).
/// Little-endian: the first digit, the most significant, is the lowest byte.
std::optional<std::uint32_t> eight_digits(const char* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  constexpr std::uint64_t high = 0xF0F0F0F0F0F0F0F0;
  constexpr std::uint64_t zeros = 0x3030303030303030;
  // Every byte 0x30..0x3F, and still 0x3_ after adding 6 (0x3A..0x3F become 0x40..0x45). A carry
  // out of a byte needs it to be >= 0xFA, which the first test already rejected.
  if ((v & high) != zeros || ((v + 0x0606060606060606) & high) != zeros) {
    return std::nullopt;
  }
  v -= zeros;
  v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FF;          // pairs of digits
  v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFF;        // groups of four
  return static_cast<std::uint32_t>(v * 10000 + (v >> 32)); // all eight (low 32 bits)
}

} // namespace

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  // The account and subid files hold 700k ids on a 100k-user host. std::from_chars (GCC 12)
  // costs ~100 instructions for an 8-digit id, a plain digit loop ~75; 8 digits at a time ~25.
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  if (text.size() <= 19) {  // 19 digits cannot overflow 64 bits (10^19 - 1 < 2^64)
    const char* p = text.data();
    std::size_t n = text.size();
    if constexpr (std::endian::native == std::endian::little) {
      for (; n >= 8; n -= 8, p += 8) {
        const auto chunk = eight_digits(p);
        if (!chunk) {
          return std::nullopt;
        }
        value = value * 100000000 + *chunk;
      }
    }
    for (; n > 0; --n, ++p) {
      const unsigned digit = static_cast<unsigned>(static_cast<unsigned char>(*p)) - unsigned{'0'};
      if (digit > 9) {
        return std::nullopt;
      }
      value = value * 10 + digit;
    }
    return value;
  }
  for (const char c : text) {
    const unsigned digit = static_cast<unsigned>(static_cast<unsigned char>(c)) - unsigned{'0'};
    if (digit > 9 || __builtin_mul_overflow(value, 10U, &value) || __builtin_add_overflow(value, digit, &value)) {
      return std::nullopt;
    }
  }
  return value;
}

std::string format_mode(std::uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string quote_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?;&|<>()") == std::string::npos;
    if (plain) {
      out += arg;
    } else {
      out += '\'';
      for (char c : arg) {
        if (c == '\'') {
          out += "'\\''";
        } else {
          out += c;
        }
      }
      out += '\'';
    }
  }
  return out;
}

int compare_versions(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) -> std::optional<std::uint64_t> {
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      ++i;
    }
    if (i == 0) {
      s = {};
      return std::nullopt;
    }
    auto v = parse_uint(s.substr(0, i));
    s.remove_prefix(i);
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
    } else {
      s = {};
    }
    return v;
  };
  while (!a.empty() || !b.empty()) {
    auto x = next(a).value_or(0);
    auto y = next(b).value_or(0);
    if (x != y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

std::string to_hex(std::string_view bytes) {
  constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += k_digits[b >> 4];
    out += k_digits[b & 0x0f];
  }
  return out;
}

} // namespace util

} // namespace zt
