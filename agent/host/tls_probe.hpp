// SPDX-License-Identifier: Apache-2.0
#pragma once

// An HTTPS request to a local service (runtime.http): what the admin's browser gets from caddy on
// the public port. Loopback only, like host/net.hpp.

#include "util/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace zt::host {

struct HttpsAnswer {
  std::string status_line; // "HTTP/1.1 308 Permanent Redirect" (without CR LF)
  int code = 0;            // 308
  std::string location;    // the Location header's value, "" when there is none
  std::string server;      // the Server header's value ("Caddy"), "" when there is none
};

/// Connects to 127.0.0.1:<port>, speaks TLS with SNI `server_name` (none when it is an IPv4
/// address), sends `GET <path> HTTP/1.1` (Host: server_name, Connection: close) and reads the status
/// line and the headers (at most 16 KiB), all within `timeout`. The certificate is not verified:
/// caddy's internal CA (localhost, IP addresses) is in no trust store of the host, and what this
/// probe is for is the answer behind caddy, not the certificate. Errors: Errc::io for connect, TLS
/// and read failures ("127.0.0.1:443: connection refused", "127.0.0.1:443: TLS handshake failed:
/// ..."), Errc::timeout, Errc::parse for an answer that is not HTTP.
[[nodiscard]] Result<HttpsAnswer> https_get(std::uint16_t port, std::string_view server_name, std::string_view path,
                                            std::chrono::milliseconds timeout);

} // namespace zt::host
