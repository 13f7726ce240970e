// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: /var/lib/dpkg/status (parse_dpkg_status).
#include "checks/packages.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto installed = zt::checks::parse_dpkg_status(zt::fuzz::text_of(data, size));
  (void)installed;
  return 0;
}
