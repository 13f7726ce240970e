// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 5 (linger): the service user's systemd manager starts at boot without a login. Postcondition:
// /var/lib/systemd/linger/<user> is a regular file. After boot (runtime checks, live host with systemd
// only): user@<uid>.service is active, /run/user/<uid> is a directory owned by the user, and the user
// bus socket /run/user/<uid>/bus exists.

#include "checks/check.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// "/var/lib/systemd/linger/<user>".
[[nodiscard]] std::string linger_path(std::string_view user);

/// Why a runtime check cannot run here, or "" when it can (live host with systemd as PID 1).
[[nodiscard]] std::string runtime_skip_reason(const host::HostView& host);

// Pure verdicts of the runtime checks, exposed for table tests (this machine has no systemd).

/// From `systemctl is-active user@<uid>.service` (its result, or the error running it).
[[nodiscard]] CheckResult judge_user_manager(std::uint32_t uid, const Result<host::CommandResult>& is_active);
/// From stat of /run/user/<uid>.
[[nodiscard]] CheckResult judge_runtime_dir(std::uint32_t uid, const host::FileStat& st);
/// From lstat of /run/user/<uid>/bus.
[[nodiscard]] CheckResult judge_user_bus(std::uint32_t uid, const host::FileStat& st);

/// "linger.enabled", and the runtime checks "linger.user-manager", "linger.runtime-dir",
/// "linger.user-bus".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_linger_checks(const std::string& user);

} // namespace zt::checks
