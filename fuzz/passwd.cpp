// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: /etc/passwd (host::parse_passwd). Invariant: every account has a name.
#include "fuzz.hpp"
#include "host/accounts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto accounts = zt::host::parse_passwd(zt::fuzz::text_of(data, size));
  if (accounts) {
    for (const auto& a : *accounts) {
      zt::fuzz::require(!a.name.empty());
    }
  }
  return 0;
}
