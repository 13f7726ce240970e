// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zt::util {

/// Splits on `sep`; keeps empty fields ("a::b" -> {"a", "", "b"}).
[[nodiscard]] std::vector<std::string_view> split(std::string_view text, char sep);
/// Splits into lines without their '\n' (a trailing newline adds no empty line).
[[nodiscard]] std::vector<std::string_view> lines(std::string_view text);
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
