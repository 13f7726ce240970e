// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "start" (HOST-SPEC step 9): the stack's user units run under the service user's systemd
// manager, and podman-auto-update.timer is active. Only meaningful on a live host with systemd
// running; elsewhere the user manager starts everything at boot (the units step enabled them).
//
// The state comes from one read-only call, as the user:
//   systemctl --user show -p Id,LoadState,ActiveState,NeedDaemonReload,UnitFileState <units...>
// which prints one block of Key=Value lines per unit, in argument order, separated by blank lines.

#include "checks/check.hpp"
#include "checks/stack.hpp"
#include "profile/spec.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

constexpr std::string_view k_auto_update_timer = "podman-auto-update.timer";

/// What the user manager says about one unit.
struct UnitState {
  std::string id;                  // the name asked for
  std::string load_state;          // "loaded", "not-found", "masked", ...
  std::string active_state;        // "active", "inactive", "failed", "activating", ...
  bool need_daemon_reload = false; // the unit file (or its Quadlet source) changed on disk
  std::string unit_file_state;     // "enabled", "disabled", "generated", "static", ...
  /// active, reloading or activating: running or on its way (no start needed).
  [[nodiscard]] bool running() const;
};

/// stack_services(stack) followed by podman-auto-update.timer.
[[nodiscard]] std::vector<std::string> start_units(const profile::Stack& stack);
/// `systemctl --user show -p Id,LoadState,ActiveState,NeedDaemonReload,UnitFileState <units...>` as the user.
[[nodiscard]] host::Command unit_show_command(const host::Account& account,
                                              const std::vector<std::string>& units);
/// Parses the show output into one UnitState per unit, in order. Errc::parse when the number of
/// blocks differs from units.size() or a line is not Key=Value.
[[nodiscard]] Result<std::vector<UnitState>> parse_unit_show(std::string_view out,
                                                             const std::vector<std::string>& units);
/// Runs unit_show_command and parses it. When systemctl cannot reach the user manager:
/// Errc::command_failed "user manager of <user> not running: run `ztagent provision --only linger` or
/// check `systemctl status user@<uid>.service`".
[[nodiscard]] Result<std::vector<UnitState>>
query_units(const host::HostView& host, const host::Account& account, const std::vector<std::string>& units);

/// "" on a live host with systemd running, else "not a running system: started at boot by the user
/// manager".
[[nodiscard]] std::string start_skip_reason(const host::HostView& host);

// Pure verdicts (this machine has no systemd), from query_units(start_units(stack)).
[[nodiscard]] CheckResult judge_units_active(const profile::Stack& stack,
                                             const Result<std::vector<UnitState>>& states);
[[nodiscard]] CheckResult judge_auto_update_timer(const Result<std::vector<UnitState>>& states);

/// Runtime checks "start.units-active" and "start.auto-update-timer".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_start_checks(const std::string& user,
                                                                    const profile::Stack& stack);

} // namespace zt::checks
