// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 2 (user): the service account. Postcondition: the account exists (system or regular as the
// site config says), its primary group is a group with the user's name, home and shell are as
// configured, and the home directory exists, owned by the user and not writable by group or others.

#include "checks/check.hpp"
#include "checks/subids.hpp"
#include "profile/spec.hpp"

#include <cstdint>
#include <memory>
#include <optional>
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

/// The id limits of /etc/login.defs the service account is judged by (shadow's defaults when a key
/// is absent).
struct LoginDefsIds {
  std::uint32_t uid_min = 1000;    // first regular uid
  std::uint32_t sys_uid_min = 101; // first uid useradd --system hands out
  std::uint32_t gid_min = 1000;
  std::uint32_t sys_gid_min = 101;
};

/// UID_MIN, SYS_UID_MIN, GID_MIN and SYS_GID_MIN from /etc/login.defs text. Strict: a value that is
/// not a decimal number in 1..4294967295 is Errc::parse "/etc/login.defs:<line>: UID_MIN 'x' is
/// not a decimal id above 0" (shadow itself only warns and falls back, so a typo would silently
/// change which accounts count as system accounts).
[[nodiscard]] Result<LoginDefsIds> parse_login_defs_ids(std::string_view login_defs);

/// The limits of the host (or --root tree), read through Fs; the defaults when login.defs is missing.
[[nodiscard]] Result<LoginDefsIds> read_login_defs_ids(const host::HostView& host);

/// What makes an existing account unusable as the rootless service account, one phrase each (empty:
/// fine): uid 0 (the "rootless" stack would run as root), a system account's uid below
/// SYS_UID_MIN (the distribution's static ids), a uid inside another owner's range of /etc/subuid
/// (that user's containers could act as it), and the same for the gid of the account's own group
/// (`own_gid`, the group of its name; nullopt when there is none yet: groupadd makes one). The
/// account's current primary gid is not judged here: the user step sets it to the own group and
/// user.group reports it. Pure; `subuid`/`subgid` are the parsed files.
[[nodiscard]] std::vector<std::string> account_id_problems(const host::Account& account,
                                                           std::optional<std::uint32_t> own_gid,
                                                           bool system,
                                                           const LoginDefsIds& ids,
                                                           const std::vector<SubIdEntry>& subuid,
                                                           const std::vector<SubIdEntry>& subgid);

/// The fix for account_id_problems(): remove the account or pick another name.
[[nodiscard]] std::string account_id_fix(const std::string& name);

/// account_id_problems() with login.defs, /etc/subuid and /etc/subgid read from the host (missing
/// files: defaults, no entries). Errc::parse for a malformed file.
[[nodiscard]] Result<std::vector<std::string>>
read_account_id_problems(const host::HostView& host, const host::Account& account, bool system);

/// "system" when uid < uid_min, else "regular".
[[nodiscard]] std::string_view account_kind(std::uint32_t uid, std::uint32_t uid_min);

/// "user.account", "user.group", "user.home".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_user_checks(const UserSpec& spec);

} // namespace zt::checks
