// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zt::util {

/// How many times `c` occurs in `text` (memchr: a few instructions per hit, not per byte).
[[nodiscard]] std::size_t count_char(std::string_view text, char c);
/// Splits on `sep`; keeps empty fields ("a::b" -> {"a", "", "b"}).
[[nodiscard]] std::vector<std::string_view> split(std::string_view text, char sep);
/// Splits on `sep` into `out` without allocating: stores the first out.size() fields and returns
/// how many fields `text` has (more than out.size() when it has more; the rest are not stored).
/// Keeps empty fields like split(): "a::b" has 3.
[[nodiscard]] std::size_t split_into(std::string_view text, char sep, std::span<std::string_view> out);
/// Splits into lines without their '\n' (a trailing newline adds no empty line).
[[nodiscard]] std::vector<std::string_view> lines(std::string_view text);
/// The line of lines(text) that starts at `pos`, moving `pos` past it; nullopt at the end. Reads
/// the lines one at a time without building the vector:
///   std::size_t pos = 0;
///   while (auto line = next_line(text, pos)) { ... }
[[nodiscard]] inline std::optional<std::string_view> next_line(std::string_view text, std::size_t& pos) {
  if (pos >= text.size()) {
    return std::nullopt;
  }
  const auto start = pos;
  const auto end = text.find('\n', start);
  if (end == std::string_view::npos) {
    pos = text.size();
    return text.substr(start);
  }
  pos = end + 1;
  return text.substr(start, end - start);
}
[[nodiscard]] std::string_view trim(std::string_view text);
/// The last line that is not blank, trimmed (for "failed (exit 1): <last stderr line>").
[[nodiscard]] std::string last_nonempty_line(std::string_view text);
[[nodiscard]] std::string join(const std::vector<std::string>& parts, std::string_view sep);
[[nodiscard]] std::string join_views(std::span<const std::string_view> parts, std::string_view sep);
/// Lower-case hex, two digits per byte: "\x00\x0f" -> "000f".
[[nodiscard]] std::string to_hex(std::string_view bytes);
/// Decimal unsigned integer, the whole string, no sign or spaces.
[[nodiscard]] std::optional<std::uint64_t> parse_uint(std::string_view text);
/// 0750 -> "0750".
[[nodiscard]] std::string format_mode(std::uint32_t mode);
/// Joins argv for logs: words with spaces or quotes are single-quoted.
[[nodiscard]] std::string quote_argv(const std::vector<std::string>& argv);
/// Compares dotted versions numerically ("4.9.3" < "4.10"); non-numeric tails are ignored.
[[nodiscard]] int compare_versions(std::string_view a, std::string_view b);

} // namespace zt::util
