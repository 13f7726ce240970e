// SPDX-License-Identifier: Apache-2.0
#pragma once

// The OpenSSL functions the HTTPS probe (host/tls_probe.cpp) uses, loaded with dlopen("libssl.so.3")
// the first time a probe runs, not linked.
//
// Why: only runtime.http on a live host speaks TLS, but a binary linked with libssl and libcrypto
// pays for them in every run: measured on the 2-core Debian 12 VM, a program that only links the two
// costs 2.4 ms of CPU and 4.4 MiB peak RSS against 0.7 ms and 1.2 MiB for the same program without
// them (relocating libcrypto and its constructors), a third of a whole `ztagent verify` under
// --root. systemd loads its optional libraries the same way (dlopen on first use). The headers still
// come from libssl-dev at build time, so the function types are OpenSSL's own (decltype).
//
// The packages depend on libssl3 (Debian, Ubuntu) and libssl.so.3 (RPM) explicitly, since the
// dependency generators cannot see a dlopen. Without it, the probe's check errors with what to install.

#include "util/result.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace zt::host {

struct LibSsl {
  decltype(&::TLS_client_method) TLS_client_method = nullptr;
  decltype(&::SSL_CTX_new) SSL_CTX_new = nullptr;
  decltype(&::SSL_CTX_free) SSL_CTX_free = nullptr;
  decltype(&::SSL_CTX_ctrl) SSL_CTX_ctrl = nullptr;
  decltype(&::SSL_CTX_set_verify) SSL_CTX_set_verify = nullptr;
  decltype(&::SSL_new) SSL_new = nullptr;
  decltype(&::SSL_free) SSL_free = nullptr;
  decltype(&::SSL_set_fd) SSL_set_fd = nullptr;
  decltype(&::SSL_ctrl) SSL_ctrl = nullptr;
  decltype(&::SSL_connect) SSL_connect = nullptr;
  decltype(&::SSL_read) SSL_read = nullptr;
  decltype(&::SSL_write) SSL_write = nullptr;
  decltype(&::SSL_get_error) SSL_get_error = nullptr;
  // libcrypto's, found through libssl's dependencies
  decltype(&::ERR_get_error) ERR_get_error = nullptr;
  decltype(&::ERR_error_string_n) ERR_error_string_n = nullptr;
  decltype(&::ERR_clear_error) ERR_clear_error = nullptr;
};

/// The loaded functions; loaded once per process (thread-safe), the library stays loaded. Errc::unsupported
/// when libssl.so.3 or one of its functions is missing: the message names the package to install.
[[nodiscard]] Result<const LibSsl*> load_libssl();

} // namespace zt::host
