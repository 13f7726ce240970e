// SPDX-License-Identifier: Apache-2.0
// runtime.http against real sockets: a plain HTTP listener (caddy's port 80) and a TLS server
// with a throwaway self-signed certificate (caddy's port 443) that answers like ztnet behind
// caddy, like caddy with ztnet unreachable (502), or like something else.
#include "checks/runtime.hpp"
#include "support/catch.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <memory>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
using zt::checks::CheckResult;
using zt::checks::Outcome;

namespace {

zt::profile::Config web_config() {
  zt::profile::Config config;
  config.site.user = "ztnet";
  config.site.data_root = "/opt/ztnet-data";
  config.stack.pod = "ztnet";
  config.stack.domain = "localhost";
  config.stack.ports = {{"http", 80, 80, "tcp", 8080}, {"https", 443, 443, "tcp", 8443}};
  zt::profile::Container ztnet;
  ztnet.name = "ztnet";
  zt::profile::Container caddy;
  caddy.name = "caddy";
  config.stack.containers = {ztnet, caddy};
  return config;
}

int listen_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port = ntohs(addr.sin_port);
  return fd;
}

std::string read_request(int fd, SSL* ssl) {
  std::string request;
  char buf[512];
  while (request.find("\r\n\r\n") == std::string::npos) {
    int n = ssl != nullptr ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(::recv(fd, buf, sizeof buf, 0));
    if (n <= 0) {
      break;
    }
    request.append(buf, static_cast<std::size_t>(n));
  }
  return request;
}

/// A TLS server on 127.0.0.1 with a fresh self-signed P-256 certificate; serve_once answers one
/// request with a fixed reply and records the request and the SNI name it got.
class TlsServer {
public:
  TlsServer() {
    m_fd = listen_loopback(m_port);
    m_ctx = SSL_CTX_new(TLS_server_method());
    REQUIRE(m_ctx != nullptr);
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key != nullptr);
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1,
                               -1, 0);
    X509_set_issuer_name(cert, name);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    REQUIRE(SSL_CTX_use_certificate(m_ctx, cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(m_ctx, key) == 1);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~TlsServer() {
    ::close(m_fd);
    SSL_CTX_free(m_ctx);
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return m_port; }
  void serve_once(const std::string& reply) {
    int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      return;
    }
    SSL* ssl = SSL_new(m_ctx);
    SSL_set_fd(ssl, c);
    if (SSL_accept(ssl) == 1) {
      const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      m_sni = sni != nullptr ? sni : "";
      m_request = read_request(c, ssl);
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(c);
  }
  std::string m_request;
  std::string m_sni;

private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
  SSL_CTX* m_ctx = nullptr;
};

/// Plain HTTP: caddy's port 80 redirecting to https.
class HttpServer {
public:
  HttpServer() { m_fd = listen_loopback(m_port); }
  ~HttpServer() { ::close(m_fd); }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  [[nodiscard]] std::uint16_t port() const { return m_port; }
  /// `read_first` false: answers at once, without waiting for a request (a plain HTTP server that a
  /// TLS client's ClientHello does not satisfy would otherwise wait for the client's timeout).
  void serve_once(bool read_first = true) const {
    int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      return;
    }
    if (read_first) {
      (void)read_request(c, nullptr);
    }
    const std::string reply = "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://localhost/\r\nServer: "
                              "Caddy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(c);
  }

private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
};

CheckResult probe(zt::profile::Config& config, const std::string& https_reply, TlsServer& tls) {
  HttpServer http;
  config.stack.ports[0].port = http.port();
  config.stack.ports[1].port = tls.port();
  std::thread plain([&] { http.serve_once(); });
  std::thread secure([&] { tls.serve_once(https_reply); });
  CheckResult r = zt::checks::probe_http(config, 5000ms);
  plain.join();
  secure.join();
  return r;
}

const std::string k_ztnet = "HTTP/1.1 308 Permanent Redirect\r\nLocation: /auth/login\r\nServer: Caddy\r\n"
                            "Content-Length: 11\r\nConnection: close\r\n\r\n/auth/login";
const std::string k_bad_gateway = "HTTP/1.1 502 Bad Gateway\r\nServer: Caddy\r\nContent-Length: 0\r\n\r\n";

} // namespace

TEST_CASE("runtime.http: ztnet's redirect to /auth/login through TLS passes", "[checks][runtime]") {
  auto config = web_config();
  TlsServer tls;
  CheckResult r = probe(config, k_ztnet, tls);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == "HTTP answer; https://localhost:" + std::to_string(tls.port()) +
                          "/ through caddy is ztnet's redirect to /auth/login");
  CHECK(r.actual == "http: HTTP/1.1 308 Permanent Redirect; https://localhost:" + std::to_string(tls.port()) +
                        "/ answers HTTP/1.1 308 Permanent Redirect (Location: /auth/login)");
  // What the browser sends: SNI and Host are the stack's domain, GET /.
  CHECK(tls.m_sni == "localhost");
  CHECK(tls.m_request.starts_with("GET / HTTP/1.1\r\nHost: localhost\r\n"));
}

TEST_CASE("runtime.http: caddy's 502 (ztnet unreachable) fails and names HOSTNAME", "[checks][runtime]") {
  auto config = web_config();
  TlsServer tls;
  CheckResult r = probe(config, k_bad_gateway, tls);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual.ends_with("answers HTTP/1.1 502 Bad Gateway: caddy cannot reach ztnet on 127.0.0.1:3000"));
  CHECK(r.fix.find("HOSTNAME=0.0.0.0") != std::string::npos);
  CHECK(r.fix.ends_with("runuser -u ztnet -- journalctl --user -u ztnet-ztnet.service"));
}

TEST_CASE("runtime.http: an answer that is not ztnet's fails", "[checks][runtime]") {
  auto config = web_config();
  SECTION("a 200 from something else") {
    TlsServer tls;
    CheckResult r = probe(config, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", tls);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual.ends_with("answers HTTP/1.1 200 OK: not ztnet's answer (it redirects / to /auth/login)"));
    CHECK(r.fix.find("/opt/ztnet-data/caddy/Caddyfile") != std::string::npos);
  }
  SECTION("a redirect elsewhere") {
    TlsServer tls;
    CheckResult r = probe(config, "HTTP/1.1 302 Found\r\nLocation: /welcome\r\nContent-Length: 0\r\n\r\n", tls);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual.find("(Location: /welcome): not ztnet's answer") != std::string::npos);
  }
  SECTION("plain HTTP on the https port (no TLS)") {
    HttpServer http;
    HttpServer not_tls;
    config.stack.ports[0].port = http.port();
    config.stack.ports[1].port = not_tls.port();
    std::thread a([&] { http.serve_once(); });
    std::thread b([&] { not_tls.serve_once(false); });
    CheckResult r = zt::checks::probe_http(config, 5000ms);
    a.join();
    b.join();
    CHECK(r.outcome == Outcome::fail);
    INFO(r.actual);
    CHECK(r.actual.find("https: 127.0.0.1:" + std::to_string(not_tls.port()) + ": TLS handshake failed: ") !=
          std::string::npos);
  }
}

TEST_CASE("runtime.http: judge_web_ui on a redirect with a locale and a query", "[checks][runtime]") {
  auto config = web_config();
  zt::host::HttpsAnswer answer{"HTTP/1.1 307 Temporary Redirect", 307, "https://localhost/en/auth/login?x=1", "Caddy"};
  CheckResult r = zt::checks::judge_web_ui(config, "HTTP/1.1 308 Permanent Redirect", answer);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == "HTTP answer; https://localhost/ through caddy is ztnet's redirect to /auth/login");
}
