// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the libFuzzer targets: the input as text, and an invariant that crashes (so libFuzzer
// records the input) when a parser's contract is broken without a sanitizer noticing.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zt::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Crashes on a broken invariant; libFuzzer saves the input as crash-<sha1>.
inline void require(bool condition) {
  if (!condition) {
    __builtin_trap();
  }
}

} // namespace zt::fuzz
