// SPDX-License-Identifier: Apache-2.0
#pragma once

// SHA-256 (FIPS 180-4), small and dependency-free: ztagent records content digests of the files
// it manages (agent/state/) and must not pull in OpenSSL for that. Not constant-time; it hashes
// file contents for change detection, never keys.

#include <array>
#include <cstddef>
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
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> m_state{};
  std::array<std::uint8_t, 64> m_buffer{};
  std::size_t m_buffered = 0;
  std::uint64_t m_length = 0; // bytes fed so far
};

/// Lower-case hex SHA-256 of `data`: sha256_hex("abc") ->
/// "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".
[[nodiscard]] std::string sha256_hex(std::string_view data);

} // namespace zt::util
