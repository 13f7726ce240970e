// SPDX-License-Identifier: Apache-2.0
#include "host/random.hpp"
#include "support/catch.hpp"

#include <set>
#include <string>

TEST_CASE("random_bytes and random_hex: getrandom gives the asked length, never the same twice",
          "[host][random]") {
  auto none = zt::host::random_bytes(0);
  REQUIRE(none);
  CHECK(none->empty());

  auto big = zt::host::random_bytes(1 << 20); // larger than one getrandom call may return
  REQUIRE(big);
  CHECK(big->size() == (1u << 20));
  std::set<char> seen(big->begin(), big->end());
  CHECK(seen.size() == 256); // a megabyte of CSPRNG output covers every byte value

  std::set<std::string> values;
  for (int i = 0; i < 16; ++i) {
    auto hex = zt::host::random_hex(32);
    REQUIRE(hex);
    CHECK(hex->size() == 64);
    CHECK(hex->find_first_not_of("0123456789abcdef") == std::string::npos);
    values.insert(*hex);
  }
  CHECK(values.size() == 16);
}
