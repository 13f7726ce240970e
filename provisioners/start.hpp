// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "start" (HOST-SPEC step 9): on a live host with systemd running, brings the stack up under the
// service user's manager and restarts exactly the units whose unit file changed. Elsewhere (image,
// --root, container build) the plan is empty: the user manager starts the enabled units at boot.
//
// systemd sets NeedDaemonReload=yes when a unit file, a drop-in or a Quadlet source (SourcePath)
// changed on disk since it was loaded; that is how this step knows what the units step changed,
// without keeping state of its own. Plan: daemon-reload when anything changed or a unit is not loaded
// yet, restart the changed running units, start the ones not running (pod first), start the timer.
// Enabling is the units step's job (symlinks).

#include "checks/start.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace zt::provisioners {

/// Timeout for start/restart: starting the pod may pull images.
constexpr std::chrono::seconds k_start_timeout{600};

/// What to do, decided from the units' state (pure; units in start_units() order).
struct StartActions {
  bool daemon_reload = false;
  std::vector<std::string> restart; // running units whose unit file changed
  std::vector<std::string> start;   // units not running (or not loaded yet)
  std::vector<Change> changes;      // the same in words
  [[nodiscard]] bool empty() const { return !daemon_reload && restart.empty() && start.empty(); }
};
/// Errc::refused for a masked unit ("systemctl --user unmask" is the admin's call).
[[nodiscard]] Result<StartActions> start_actions(const std::string& user,
                                                 const std::vector<checks::UnitState>& states);

class Start final : public Provisioner {
public:
  Start(std::string user, profile::Stack stack);

  [[nodiscard]] std::string_view id() const override { return "start"; }
  /// Empty unless live with systemd running; then plan_start. When the user does not exist yet, one
  /// change saying the stack starts once it does.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Errc::not_found when the user does not exist; else apply_start (nothing without systemd).
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;

private:
  std::string m_user;
  profile::Stack m_stack;
};

/// One read-only `systemctl --user show` as the user, turned into start_actions' changes.
/// Errc::command_failed when the user manager is not reachable (the message says what to do).
[[nodiscard]] Result<Plan>
plan_start(const host::HostView& host, const host::Account& account, const profile::Stack& stack);
/// Re-reads the state, then: one `daemon-reload` if needed (then reads again: a unit still not
/// loaded is Errc::not_found), `restart` each changed unit, `start` each unit not running (pod
/// first, then containers in stack order, then the timer). One systemctl call per unit, so a failure
/// names the unit. Errc::command_failed with the last stderr line and where to look.
[[nodiscard]] Result<void>
apply_start(host::Host& host, const host::Account& account, const profile::Stack& stack);

/// Step "start": Start plus checks::make_start_checks(config.site.user, config.stack).
[[nodiscard]] Step make_start_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
