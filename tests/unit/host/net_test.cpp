// SPDX-License-Identifier: Apache-2.0
#include "host/net.hpp"
#include "support/catch.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using zt::host::http_probe;
using zt::host::parse_http_status_code;

namespace {

/// A TCP listener on 127.0.0.1 with an ephemeral port (the test's own socket, closed at the end).
class Listener {
public:
  Listener() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(m_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_fd, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(m_fd); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] std::uint16_t port() const { return m_port; }

  /// Accepts one connection, reads the request head, answers `reply`, closes. Returns the request.
  std::string serve_once(const std::string& reply) const {
    int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      return {};
    }
    std::string request;
    char buf[512];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      request.append(buf, static_cast<std::size_t>(n));
    }
    if (!reply.empty()) {
      (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(c);
    return request;
  }

private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
};

/// A port nothing listens on: bind an ephemeral port, then close it.
std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace

TEST_CASE("net: HTTP status lines", "[host][net]") {
  CHECK(parse_http_status_code("HTTP/1.1 308 Permanent Redirect") == 308);
  CHECK(parse_http_status_code("HTTP/1.0 200 OK") == 200);
  CHECK(parse_http_status_code("HTTP/1.1 204") == 204);
  CHECK(parse_http_status_code("HTTP/1.1 200") == 200);
  CHECK(parse_http_status_code("HTTP/2 200") == std::nullopt);
  CHECK(parse_http_status_code("HTTP/1.1 20x OK") == std::nullopt);
  CHECK(parse_http_status_code("HTTP/1.1 2000 OK") == std::nullopt);
  CHECK(parse_http_status_code("HTTP/1.1 099 Low") == std::nullopt);
  CHECK(parse_http_status_code("SSH-2.0-OpenSSH_9.2") == std::nullopt);
  CHECK(parse_http_status_code("") == std::nullopt);
}

TEST_CASE("net: http_probe reads the status line of a real listener", "[host][net]") {
  Listener listener;
  std::string request;
  std::thread server([&] {
    request = listener.serve_once("HTTP/1.1 308 Permanent Redirect\r\nLocation: https://example.test/\r\n"
                                  "Content-Length: 0\r\n\r\n");
  });
  auto status = http_probe(listener.port(), "example.test", 5000ms);
  server.join();
  REQUIRE(status);
  CHECK(status->status_line == "HTTP/1.1 308 Permanent Redirect");
  CHECK(status->code == 308);
  CHECK(request ==
        "HEAD / HTTP/1.1\r\nHost: example.test\r\nUser-Agent: ztagent\r\nConnection: close\r\n\r\n");
}

TEST_CASE("net: http_probe on a closed port says connection refused", "[host][net]") {
  std::uint16_t port = closed_port();
  auto status = http_probe(port, "localhost", 2000ms);
  REQUIRE_FALSE(status);
  CHECK(status.error().code == zt::Errc::io);
  CHECK(status.error().message == "127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("net: http_probe times out on a listener that never answers", "[host][net]") {
  Listener listener; // the kernel completes the handshake; nobody accepts or answers
  auto status = http_probe(listener.port(), "localhost", 200ms);
  REQUIRE_FALSE(status);
  CHECK(status.error().code == zt::Errc::timeout);
  CHECK(status.error().message ==
        "127.0.0.1:" + std::to_string(listener.port()) + ": no answer within 200 ms");
}

TEST_CASE("net: http_probe rejects a non-HTTP answer and an empty close", "[host][net]") {
  Listener listener;
  std::thread server([&] { listener.serve_once("SSH-2.0-OpenSSH_9.2\r\n"); });
  auto status = http_probe(listener.port(), "localhost", 5000ms);
  server.join();
  REQUIRE_FALSE(status);
  CHECK(status.error().code == zt::Errc::parse);
  CHECK(status.error().message ==
        "127.0.0.1:" + std::to_string(listener.port()) + ": not an HTTP response: 'SSH-2.0-OpenSSH_9.2'");

  std::thread closer([&] { listener.serve_once(""); });
  auto closed = http_probe(listener.port(), "localhost", 5000ms);
  closer.join();
  REQUIRE_FALSE(closed);
  CHECK(closed.error().code == zt::Errc::io);
  CHECK(closed.error().message ==
        "127.0.0.1:" + std::to_string(listener.port()) + ": connection closed without an answer");
}
