// SPDX-License-Identifier: Apache-2.0
#include "util/sha256.hpp"

#include "util/strings.hpp"

namespace zt::util {

Sha256::Sha256() {
  sha256_init(&m_ctx);
}

void Sha256::update(std::string_view data) {
  sha256_update(&m_ctx, data.size(), reinterpret_cast<const std::uint8_t*>(data.data()));
}

std::array<std::uint8_t, 32> Sha256::digest() {
  static_assert(SHA256_DIGEST_SIZE == 32);
  std::array<std::uint8_t, 32> out{};
  sha256_digest(&m_ctx, out.size(), out.data());
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  const auto digest = h.digest();
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

} // namespace zt::util
