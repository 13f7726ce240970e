// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace zt {

/// What went wrong, for callers to branch on. The message is for people.
enum class Errc {
  io,              // a file or directory operation failed
  parse,           // malformed content on the host (not the user's config)
  invalid_config,  // the profile or site config is wrong
  command_failed,  // a command ran and exited non-zero
  timeout,         // a command or lock wait ran out of time
  refused,         // ztagent refused on purpose (plan mode, symlink, outside root)
  unsupported,     // the host lacks a feature this needs
  not_converged,   // apply() ran but plan() still wants changes
  not_found,       // the thing asked for does not exist
  busy,            // another ztagent run holds the lock
  internal,        // a bug in ztagent
};

struct Error {
  Errc code = Errc::internal;
  std::string message;  // "<subject>: <reason>"
};

template <typename T> using Result = std::expected<T, Error>;

[[nodiscard]] inline std::unexpected<Error> make_error(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

/// Adds context on the way up: prefixed("subids", e) -> "subids: <e.message>".
[[nodiscard]] inline Error prefixed(std::string_view prefix, Error e) {
  e.message = std::string(prefix) + ": " + e.message;
  return e;
}

[[nodiscard]] std::string_view to_string(Errc code);

} // namespace zt

/// Returns the error of a Result expression from the enclosing function.
#define ZT_TRY(expr)                                                                               \
  do {                                                                                             \
    auto&& zt_try_result_ = (expr);                                                                \
    if (!zt_try_result_) {                                                                         \
      return std::unexpected(std::move(zt_try_result_).error());                                   \
    }                                                                                              \
  } while (false)

/// `ZT_TRY_ASSIGN(x, f());` declares `auto x` holding the value, or returns the error.
#define ZT_TRY_ASSIGN(var, expr)                                                                   \
  auto var##_zt_result_ = (expr);                                                                  \
  if (!var##_zt_result_) {                                                                         \
    return std::unexpected(std::move(var##_zt_result_).error());                                   \
  }                                                                                                \
  auto var = std::move(var##_zt_result_).value()
