// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: /etc/subuid and /etc/subgid (parse_subid_file) and the SUB_*ID_* keys of
// /etc/login.defs (parse_login_defs_subids). Invariant: a rejection names the file.
#include "checks/subids.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = zt::fuzz::text_of(data, size);
  auto entries = zt::checks::parse_subid_file(text, "/etc/subuid");
  if (!entries) {
    zt::fuzz::require(entries.error().message.starts_with("/etc/subuid"));
  }
  auto defs = zt::checks::parse_login_defs_subids(text);
  if (defs) {
    zt::fuzz::require(defs->uid.min <= defs->uid.max && defs->gid.min <= defs->gid.max);
  }
  return 0;
}
