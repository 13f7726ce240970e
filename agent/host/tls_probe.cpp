// SPDX-License-Identifier: Apache-2.0
#include "host/tls_probe.hpp"

#include "host/libssl.hpp"
#include "host/loopback.hpp"
#include "host/net.hpp"

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace zt::host {

namespace {

constexpr std::size_t k_max_head = 16 * 1024;

using loopback::Clock;

struct CtxFree {
  const LibSsl* api;
  void operator()(SSL_CTX* c) const { api->SSL_CTX_free(c); }
};
struct SslFree {
  const LibSsl* api;
  void operator()(SSL* s) const { api->SSL_free(s); }
};

std::string ssl_error_text(const LibSsl& api) {
  unsigned long e = api.ERR_get_error();
  if (e == 0) {
    return errno != 0 ? std::strerror(errno) : "the peer closed the connection";
  }
  std::array<char, 256> buf{};
  api.ERR_error_string_n(e, buf.data(), buf.size());
  api.ERR_clear_error();
  return buf.data();
}

/// Waits until fd is ready for what OpenSSL asked for (SSL_ERROR_WANT_READ/WRITE): true when
/// ready, false at the deadline.
Result<bool> wait_ssl(int fd, int ssl_error, Clock::time_point deadline, const std::string& subject) {
  return loopback::wait_for(fd, ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline, subject);
}

bool is_ipv4(std::string_view name) {
  in_addr a{};
  return ::inet_pton(AF_INET, std::string(name).c_str(), &a) == 1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

} // namespace

Result<HttpsAnswer> https_get(std::uint16_t port, std::string_view server_name, std::string_view path,
                              std::chrono::milliseconds timeout) {
  const std::string subject = "127.0.0.1:" + std::to_string(port);
  const auto deadline = Clock::now() + timeout;
  const auto timed_out = [&] {
    return make_error(Errc::timeout, subject + ": no HTTPS answer within " + std::to_string(timeout.count()) + " ms");
  };

  auto loaded = load_libssl();
  if (!loaded) {
    return make_error(loaded.error().code, subject + ": " + loaded.error().message);
  }
  const LibSsl& api = **loaded;

  ZT_TRY_ASSIGN(connected, loopback::connect(port, deadline, subject));
  if (!connected) {
    return timed_out();
  }
  const int fd = connected->get();

  api.ERR_clear_error();
  std::unique_ptr<SSL_CTX, CtxFree> ctx(api.SSL_CTX_new(api.TLS_client_method()), CtxFree{&api});
  if (!ctx) {
    return make_error(Errc::io, subject + ": TLS setup: " + ssl_error_text(api));
  }
  api.SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  // SSL_CTX_set_min_proto_version and SSL_set_tlsext_host_name are macros over the *_ctrl calls.
  api.SSL_CTX_ctrl(ctx.get(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  std::unique_ptr<SSL, SslFree> ssl(api.SSL_new(ctx.get()), SslFree{&api});
  if (!ssl || api.SSL_set_fd(ssl.get(), fd) != 1) {
    return make_error(Errc::io, subject + ": TLS setup: " + ssl_error_text(api));
  }
  const std::string name(server_name);
  if (!name.empty() && !is_ipv4(name) && api.SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                                       const_cast<char*>(name.c_str())) != 1) {
    return make_error(Errc::io, subject + ": TLS setup (SNI " + name + "): " + ssl_error_text(api));
  }
  while (true) {
    errno = 0;
    int rc = api.SSL_connect(ssl.get());
    if (rc == 1) {
      break;
    }
    int e = api.SSL_get_error(ssl.get(), rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      return make_error(Errc::io, subject + ": TLS handshake failed: " + ssl_error_text(api));
    }
    ZT_TRY_ASSIGN(ready, wait_ssl(fd, e, deadline, subject));
    if (!ready) {
      return timed_out();
    }
  }

  const std::string request = "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + name +
                              "\r\nUser-Agent: ztagent\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    errno = 0;
    int n = api.SSL_write(ssl.get(), request.data() + sent, static_cast<int>(request.size() - sent));
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    int e = api.SSL_get_error(ssl.get(), n);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      return make_error(Errc::io, subject + ": TLS write: " + ssl_error_text(api));
    }
    ZT_TRY_ASSIGN(ready, wait_ssl(fd, e, deadline, subject));
    if (!ready) {
      return timed_out();
    }
  }

  std::string head;
  std::array<char, 2048> buf{};
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < k_max_head) {
    errno = 0;
    int n = api.SSL_read(ssl.get(), buf.data(), static_cast<int>(buf.size()));
    if (n > 0) {
      head.append(buf.data(), static_cast<std::size_t>(n));
      continue;
    }
    int e = api.SSL_get_error(ssl.get(), n);
    if (e == SSL_ERROR_ZERO_RETURN) {
      break;
    }
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      if (!head.empty()) {
        break;  // a peer that closes without close_notify after its answer
      }
      return make_error(Errc::io, subject + ": TLS read: " + ssl_error_text(api));
    }
    ZT_TRY_ASSIGN(ready, wait_ssl(fd, e, deadline, subject));
    if (!ready) {
      return timed_out();
    }
  }
  if (head.empty()) {
    return make_error(Errc::io, subject + ": connection closed without an answer");
  }

  HttpsAnswer out;
  std::size_t eol = head.find("\r\n");
  out.status_line = head.substr(0, eol == std::string::npos ? head.size() : eol);
  auto code = parse_http_status_code(out.status_line);
  if (!code) {
    std::string shown;
    for (char c : out.status_line.substr(0, 60)) {
      shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return make_error(Errc::parse, subject + ": not an HTTP response: '" + shown + "'");
  }
  out.code = *code;
  std::size_t pos = eol == std::string::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) {
      break;
    }
    std::string_view line(head.data() + pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      const std::string key = lower(line.substr(0, colon));
      if (key == "location") {
        out.location = trim(line.substr(colon + 1));
      } else if (key == "server") {
        out.server = trim(line.substr(colon + 1));
      }
    }
    pos = end + 2;
  }
  return out;
}

} // namespace zt::host
