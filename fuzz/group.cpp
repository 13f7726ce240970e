// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: /etc/group (host::parse_group). Invariant: every group has a name.
#include "fuzz.hpp"
#include "host/accounts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto groups = zt::host::parse_group(zt::fuzz::text_of(data, size));
  if (groups) {
    for (const auto& g : *groups) {
      zt::fuzz::require(!g.name.empty());
    }
  }
  return 0;
}
