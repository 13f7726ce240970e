// SPDX-License-Identifier: Apache-2.0
#pragma once

// SHA-256 from GNU Nettle (nettle-dev; the crypto library under GnuTLS, on every supported
// distribution): ztagent records content digests of the files it manages (agent/state/) and derives
// the schedule's stable offset. A widely reviewed implementation replaces the hand-rolled one
// (issue 16). Nettle rather than OpenSSL's EVP: EVP's first digest loads openssl.cnf and the default
// provider, measured at +1.2 ms CPU and +2.5 MiB peak RSS per run on the 2-core VM, and linking
// libcrypto at all costs 1.7 ms and 3.2 MiB per run; Nettle's sha256 is a plain function on a stack
// context. The release build links libnettle.a statically.

#include <nettle/sha2.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace zt::util {

class Sha256 {
public:
  Sha256();
  /// Feeds more bytes; may be called any number of times before digest().
  void update(std::string_view data);
  /// The 32-byte digest. Finalises: call once, after the last update().
  [[nodiscard]] std::array<std::uint8_t, 32> digest();

private:
  sha256_ctx m_ctx{};
};

/// Lower-case hex SHA-256 of `data`: sha256_hex("abc") ->
/// "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".
[[nodiscard]] std::string sha256_hex(std::string_view data);

} // namespace zt::util
