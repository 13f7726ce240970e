// SPDX-License-Identifier: Apache-2.0
#pragma once

/// For programming errors only, never for host state. On in release builds.
#define ZT_ASSERT(cond)                                                                            \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      ::zt::detail::assert_failed(#cond, __FILE__, __LINE__, __func__);                            \
    }                                                                                              \
  } while (false)

namespace zt::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line, const char* func);
} // namespace zt::detail
