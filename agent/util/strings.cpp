// SPDX-License-Identifier: Apache-2.0
#include "util/strings.hpp"

#include "util/assert.hpp"
#include "util/result.hpp"

#include <algorithm>
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

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  // One allocation per call: account and subid files are split line by line (100k lines and more).
  out.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), sep)) + 1);
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
  return n + 1 + static_cast<std::size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(), sep));
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
  const char* ws = " \t\r\n\v\f";
  auto b = text.find_first_not_of(ws);
  if (b == std::string_view::npos) {
    return {};
  }
  auto e = text.find_last_not_of(ws);
  return text.substr(b, e - b + 1);
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

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) {
    return std::nullopt;
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
