// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 2 (user): the service account. Postcondition: the account exists (system or regular as the
// site config says), its primary group is a group with the user's name, home and shell are as
// configured, and the home directory exists, owned by the user and not writable by group or others.

#include "checks/check.hpp"
#include "profile/spec.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// The account the site config asks for, with defaults filled in.
struct UserSpec {
  std::string name;
  bool system = true;
  std::string home; // never empty: "/home/<name>" when the site config leaves it empty
  std::string shell;
};

[[nodiscard]] UserSpec user_spec(const profile::SiteConfig& site);

/// UID_MIN from /etc/login.defs text: the first regular (non-system) uid. 1000 when absent or
/// malformed, as shadow's useradd assumes.
[[nodiscard]] std::uint32_t parse_uid_min(std::string_view login_defs);

/// UID_MIN of the host (or --root tree), read through Fs; 1000 when login.defs is missing.
[[nodiscard]] Result<std::uint32_t> read_uid_min(const host::HostView& host);

/// "system" when uid < uid_min, else "regular".
[[nodiscard]] std::string_view account_kind(std::uint32_t uid, std::uint32_t uid_min);

/// "user.account", "user.group", "user.home".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_user_checks(const UserSpec& spec);

} // namespace zt::checks
