// SPDX-License-Identifier: Apache-2.0
#pragma once

// Preflight checks (HOST-SPEC "Preflight checks"): what the kernel and base system must offer before
// rootless Podman can work. All read-only. Live kernel state (/proc, /sys, /dev) is only looked at
// on the live host; under --root those checks skip with "not live: --root <dir>".
//
// Each check is a pure evaluate_*() over the values read (table-tested) plus a thin reader.

#include "checks/check.hpp"
#include "profile/spec.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// Facts about this invocation (only cli calls geteuid()).
struct PreflightContext {
  bool euid_root = false;
  bool provisioning = false; // provision/plan (root needed) vs verify
};

/// preflight.userns, preflight.apparmor-userns, preflight.newuidmap, preflight.newgidmap,
/// preflight.cgroup-v2, preflight.cgroup-delegation, preflight.tun-device, preflight.free-space,
/// preflight.root-privileges. A failing preflight.userns or preflight.free-space, and a
/// preflight.newuidmap/newgidmap failing on a helper that exists (a missing one is what the
/// packages step installs), block provisioning (Check::blocks_provision).
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_preflight_checks(const profile::Config& config,
                                                                        const PreflightContext& context);

// --- evaluators (pure) -------------------------------------------------------------------------

/// /proc/sys/user/max_user_namespaces (nullopt: missing, no CONFIG_USER_NS) must be > 0;
/// /proc/sys/kernel/unprivileged_userns_clone (Debian/Ubuntu patch; nullopt: absent) must be 1.
[[nodiscard]] CheckResult evaluate_userns(const std::optional<std::string>& max_user_namespaces,
                                          const std::optional<std::string>& unprivileged_userns_clone);

/// True when an AppArmor profile text confines podman (a profile header naming podman) and grants
/// user namespaces ("userns," or "userns create,", optionally with allow/audit; not "deny").
[[nodiscard]] bool apparmor_profile_grants_userns(std::string_view content);

/// `restriction`: /proc/sys/kernel/apparmor_restrict_unprivileged_userns (nullopt: absent);
/// `granting_profiles`: /etc/apparmor.d files for which apparmor_profile_grants_userns() holds.
/// (Under --root the sysctl is not read: the check passes on a granting profile, else skips.)
[[nodiscard]] CheckResult evaluate_apparmor_userns(const std::optional<std::string>& restriction,
                                                   const std::vector<std::string>& granting_profiles);

/// The permitted capability set of a "security.capability" xattr (VFS_CAP_REVISION_1/2/3, little
/// endian); nullopt when malformed.
[[nodiscard]] std::optional<std::uint64_t> parse_file_caps_permitted(std::string_view xattr);

inline constexpr unsigned k_cap_setgid = 6;
inline constexpr unsigned k_cap_setuid = 7;

/// newuidmap/newgidmap: setuid root, or file capabilities with `needed_cap` permitted.
/// `caps` is the security.capability xattr (nullopt: none).
[[nodiscard]] CheckResult evaluate_idmap_helper(std::string_view path,
                                                const host::FileStat& stat,
                                                const std::optional<std::string>& caps,
                                                unsigned needed_cap,
                                                std::string_view install_fix);

/// `unified`: /sys/fs/cgroup/cgroup.controllers exists; `hybrid`: /sys/fs/cgroup/unified does.
[[nodiscard]] CheckResult evaluate_cgroup_v2(bool unified, bool hybrid);

/// The cgroup.controllers of user@<uid>.service must list cpu, memory and pids.
[[nodiscard]] CheckResult evaluate_cgroup_delegation(std::string_view controllers, std::string_view path);

/// /dev/net/tun must be a character device 10:200 that everyone may read and write (0666): the
/// service user opens it for the rootless zerotier container.
[[nodiscard]] CheckResult evaluate_tun_device(const host::FileStat& stat);

[[nodiscard]] CheckResult
evaluate_free_space(std::uint64_t available_bytes, std::uint64_t min_free_mib, std::string_view path);

[[nodiscard]] CheckResult evaluate_root_privileges(const PreflightContext& context);

} // namespace zt::checks
