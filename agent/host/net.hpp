// SPDX-License-Identifier: Apache-2.0
#pragma once

// Network probes of local services (runtime checks). Loopback only: ztagent checks that the stack
// on *this* host answers, it never talks to other machines.

#include "util/result.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zt::host {

struct HttpStatus {
  std::string status_line; // "HTTP/1.1 308 Permanent Redirect" (without CR LF)
  int code = 0;            // 308
};

/// The status code of an HTTP/1.x status line ("HTTP/1.1 308 Permanent Redirect" -> 308); nullopt
/// when the line is not one.
[[nodiscard]] std::optional<int> parse_http_status_code(std::string_view line);

/// Connects to 127.0.0.1:<port>, sends `HEAD / HTTP/1.1` (Host: host_header, Connection: close) and
/// reads the status line, all within `timeout`. Errors: Errc::io "127.0.0.1:<port>: connection
/// refused" (or another connect/read failure, or the peer closing without an answer), Errc::timeout
/// "127.0.0.1:<port>: no answer within <n> ms", Errc::parse "127.0.0.1:<port>: not an HTTP
/// response: '<first line>'".
[[nodiscard]] Result<HttpStatus>
http_probe(std::uint16_t port, std::string_view host_header, std::chrono::milliseconds timeout);

} // namespace zt::host
