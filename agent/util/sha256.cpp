// SPDX-License-Identifier: Apache-2.0
#include "util/sha256.hpp"

#include "util/assert.hpp"
#include "util/strings.hpp"

#include <openssl/evp.h>

namespace zt::util {

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const {
  EVP_MD_CTX_free(ctx);
}

// EVP failures here mean allocation failure or a libcrypto without SHA-256: nothing a caller can
// handle, and a wrong digest would be worse than stopping (ZT_ASSERT aborts with the location).
Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
  ZT_ASSERT(m_ctx != nullptr);
  ZT_ASSERT(EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) == 1);
}

void Sha256::update(std::string_view data) {
  ZT_ASSERT(EVP_DigestUpdate(m_ctx.get(), data.data(), data.size()) == 1);
}

std::array<std::uint8_t, 32> Sha256::digest() {
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  ZT_ASSERT(EVP_DigestFinal_ex(m_ctx.get(), out.data(), &length) == 1);
  ZT_ASSERT(length == out.size());
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  const auto digest = h.digest();
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

} // namespace zt::util
