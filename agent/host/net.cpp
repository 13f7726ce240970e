// SPDX-License-Identifier: Apache-2.0
#include "host/net.hpp"

#include "host/loopback.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>

namespace zt::host {

namespace {

constexpr std::size_t k_max_status_line = 512;

using loopback::Clock;
using loopback::reason;
using loopback::wait_for;

/// The first line, printable ASCII only, at most 60 characters (for messages).
std::string printable_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\r' || c == '\n' || out.size() >= 60) {
      break;
    }
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

} // namespace

std::optional<int> parse_http_status_code(std::string_view line) {
  // HTTP-version SP 3DIGIT [SP reason-phrase]  (RFC 9112 section 4)
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[7] < '0' || line[7] > '9' ||
      line[8] != ' ') {
    return std::nullopt;
  }
  int code = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return std::nullopt;
    }
    code = code * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') {
    return std::nullopt;
  }
  if (code < 100) {
    return std::nullopt;
  }
  return code;
}

Result<HttpStatus>
http_probe(std::uint16_t port, std::string_view host_header, std::chrono::milliseconds timeout) {
  const std::string subject = "127.0.0.1:" + std::to_string(port);
  const auto deadline = Clock::now() + timeout;
  const auto timed_out = [&] {
    return make_error(Errc::timeout,
                      subject + ": no answer within " + std::to_string(timeout.count()) + " ms");
  };

  ZT_TRY_ASSIGN(connected, loopback::connect(port, deadline, subject));
  if (!connected) {
    return timed_out();
  }
  const loopback::SocketFd& sock = *connected;

  const std::string request = "HEAD / HTTP/1.1\r\nHost: " + std::string(host_header) +
                              "\r\nUser-Agent: ztagent\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(sock.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ZT_TRY_ASSIGN(ready, wait_for(sock.get(), POLLOUT, deadline, subject));
      if (!ready) {
        return timed_out();
      }
      continue;
    }
    return make_error(Errc::io, subject + ": send: " + std::strerror(errno));
  }

  std::string received;
  std::array<char, 256> buf{};
  while (received.find('\n') == std::string::npos && received.size() < k_max_status_line) {
    ssize_t n = ::recv(sock.get(), buf.data(), buf.size(), 0);
    if (n > 0) {
      received.append(buf.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      break;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ZT_TRY_ASSIGN(ready, wait_for(sock.get(), POLLIN, deadline, subject));
      if (!ready) {
        return timed_out();
      }
      continue;
    }
    return make_error(Errc::io, subject + ": " + reason(errno));
  }
  if (received.empty()) {
    return make_error(Errc::io, subject + ": connection closed without an answer");
  }
  std::string line = received.substr(0, received.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  auto code = parse_http_status_code(line);
  if (!code) {
    return make_error(Errc::parse, subject + ": not an HTTP response: '" + printable_line(received) + "'");
  }
  return HttpStatus{std::move(line), *code};
}

} // namespace zt::host
