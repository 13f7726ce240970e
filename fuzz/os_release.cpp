// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: os-release (parse_os_release, and `--profile auto` matching on it).
#include "fuzz.hpp"
#include "profile/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = zt::fuzz::text_of(data, size);
  const auto parsed = zt::profile::parse_os_release(text);
  zt::fuzz::require(parsed.id.size() <= size && parsed.version_id.size() <= size);
  auto profile = zt::profile::load_profile("auto", text);
  if (!profile) {
    zt::fuzz::require(!profile.error().empty());
  }
  return 0;
}
