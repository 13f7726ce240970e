// SPDX-License-Identifier: Apache-2.0
#include "host/libssl.hpp"

#include <dlfcn.h>
#include <mutex>
#include <string>

namespace zt::host {

namespace {

constexpr const char* k_soname = "libssl.so.3";
constexpr const char* k_install =
    "install OpenSSL 3's library (Debian/Ubuntu: apt-get install libssl3; Fedora: dnf install openssl-libs)";

Result<LibSsl> open_libssl() {
  // RTLD_LOCAL: nothing else in the process resolves against it; RTLD_NOW: a missing symbol fails
  // here, not in the middle of a handshake.
  void* handle = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return make_error(Errc::unsupported, std::string("cannot load ") + k_soname + " for the HTTPS probe (" +
                                             (why != nullptr ? why : "unknown error") + "): " + k_install);
  }
  LibSsl api;
  std::string missing;
  auto bind = [&](auto& fn, const char* name) {
    void* sym = ::dlsym(handle, name);
    if (sym == nullptr) {
      missing += missing.empty() ? name : std::string(", ") + name;
      return;
    }
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
  };
  bind(api.TLS_client_method, "TLS_client_method");
  bind(api.SSL_CTX_new, "SSL_CTX_new");
  bind(api.SSL_CTX_free, "SSL_CTX_free");
  bind(api.SSL_CTX_ctrl, "SSL_CTX_ctrl");
  bind(api.SSL_CTX_set_verify, "SSL_CTX_set_verify");
  bind(api.SSL_new, "SSL_new");
  bind(api.SSL_free, "SSL_free");
  bind(api.SSL_set_fd, "SSL_set_fd");
  bind(api.SSL_ctrl, "SSL_ctrl");
  bind(api.SSL_connect, "SSL_connect");
  bind(api.SSL_read, "SSL_read");
  bind(api.SSL_write, "SSL_write");
  bind(api.SSL_get_error, "SSL_get_error");
  bind(api.ERR_get_error, "ERR_get_error");
  bind(api.ERR_error_string_n, "ERR_error_string_n");
  bind(api.ERR_clear_error, "ERR_clear_error");
  if (!missing.empty()) {
    ::dlclose(handle);
    return make_error(Errc::unsupported, std::string(k_soname) + " lacks " + missing +
                                             ": not OpenSSL 3; " + k_install);
  }
  return api;  // the handle stays open for the life of the process
}

} // namespace

Result<const LibSsl*> load_libssl() {
  static std::once_flag once;
  static Result<LibSsl> loaded = make_error(Errc::unsupported, "not loaded");
  std::call_once(once, [] { loaded = open_libssl(); });
  if (!loaded) {
    return std::unexpected(loaded.error());
  }
  return &*loaded;
}

} // namespace zt::host
