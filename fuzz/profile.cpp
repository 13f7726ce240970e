// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a profile file through the loader's public API (load_profile_file, then
// resolve_stack with the default site config). Invariant: every rejection is located (at least
// one diagnostic, each naming the file).
#include "fuzz.hpp"
#include "profile/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = zt::fuzz::text_of(data, size);
  auto profile = zt::profile::load_profile_file(text, "/fuzz/profile.toml");
  if (!profile) {
    zt::fuzz::require(!profile.error().empty());
    return 0;
  }
  auto site = zt::profile::load_site_config("", "<defaults>", {});
  zt::fuzz::require(site.has_value());
  auto stack = zt::profile::resolve_stack(*profile, *site);
  if (!stack) {
    zt::fuzz::require(!stack.error().empty());
  }
  return 0;
}
