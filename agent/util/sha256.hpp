// SPDX-License-Identifier: Apache-2.0
#pragma once

// SHA-256 through OpenSSL's EVP interface (libcrypto): ztagent records content digests of the files
// it manages (agent/state/) and derives the schedule's stable offset; a FIPS-validated, widely
// reviewed implementation replaces the hand-rolled one (issue 16). libcrypto.so.3 is the one
// shared library the release build links besides libc.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace zt::util {

class Sha256 {
public:
  Sha256();
  /// Feeds more bytes; may be called any number of times before digest().
  void update(std::string_view data);
  /// The 32-byte digest. Finalises: call once, after the last update().
  [[nodiscard]] std::array<std::uint8_t, 32> digest();

private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> m_ctx;
};

/// Lower-case hex SHA-256 of `data`: sha256_hex("abc") ->
/// "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".
[[nodiscard]] std::string sha256_hex(std::string_view data);

} // namespace zt::util
