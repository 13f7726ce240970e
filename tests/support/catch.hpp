// SPDX-License-Identifier: Apache-2.0
#pragma once

// One header for Catch2 2.13 (Debian 12) and 3.x (Ubuntu 24.04).
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define ZT_CATCH3 1
#else
#include <catch2/catch.hpp>
#define ZT_CATCH3 0
#endif

/// Skip the rest of a test case. Catch2 3.3+ has SKIP(); 2.13 does not, so there we warn and return.
#if ZT_CATCH3 && defined(SKIP)
#define ZT_SKIP(msg) SKIP(msg)
#else
#define ZT_SKIP(msg)                                                                               \
  do {                                                                                             \
    WARN("skipped: " << msg);                                                                      \
    return;                                                                                        \
  } while (false)
#endif
