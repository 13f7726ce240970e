// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a site config (ztagent.toml) through load_site_config, then resolve_stack
// against the embedded debian-12 profile. Invariant: every rejection is located.
#include "fuzz.hpp"
#include "profile/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto profile = zt::profile::load_profile("debian-12", "");
  zt::fuzz::require(profile.has_value());
  auto site = zt::profile::load_site_config(zt::fuzz::text_of(data, size), "/fuzz/ztagent.toml", {});
  if (!site) {
    zt::fuzz::require(!site.error().empty());
    return 0;
  }
  auto stack = zt::profile::resolve_stack(*profile, *site);
  if (!stack) {
    zt::fuzz::require(!stack.error().empty());
  }
  return 0;
}
