// SPDX-License-Identifier: Apache-2.0
// Main for the root tests: they change the real host (users, /etc, sysctl, ACLs) and clean up.
// Not root -> exit 4, which ctest reports as skipped (SKIP_RETURN_CODE 4).
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include <cstdio>
#include <unistd.h>

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "root tests skipped: they need euid 0 (run them in a throwaway VM)\n");
    return 4;
  }
  return Catch::Session().run(argc, argv);
}
