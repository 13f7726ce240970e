// SPDX-License-Identifier: Apache-2.0
#pragma once

// The orchestrator runs the steps of a profile in order: plan -> apply -> plan again, which must
// come back empty or the step fails as not converged (the runtime idempotency check). Under `plan`
// it stops after the first plan() and reports would_change. After a failed step the remaining
// steps are skipped unless keep_going. Before provision's first change, run/preapply.hpp validates
// every host input the selected steps parse and runs the preflight checks that make provisioning
// pointless; a problem fails that step and skips all others (nothing changes) unless keep_going. Then the checks of the selected steps run, read-only and
// concurrently (they only get a HostView); `verify` runs only the checks.

#include "host/host.hpp"
#include "provisioners/registry.hpp"
#include "report/report.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace zt::run {

enum class Command { provision, plan, verify };

[[nodiscard]] std::string_view to_string(Command command);

struct RunOptions {
  Command command = Command::verify;
  std::vector<std::string> only;  // step ids; empty = all
  std::vector<std::string> skip;  // step ids
  bool keep_going = false;
  unsigned jobs = 4;  // threads for checks; 1 = sequential
  /// Failing runtime checks are retried until they pass or this much time has passed (0 = no retry).
  std::chrono::milliseconds retry_timeout{0};
  std::chrono::milliseconds retry_interval{2000};
  /// Set asynchronously (SIGINT/SIGTERM): no further step starts.
  const std::atomic<bool>* interrupted = nullptr;
};

/// --only/--skip must name steps of the profile: Errc::invalid_config "unknown step 'x' in --only
/// (steps of this profile: ...)".
[[nodiscard]] Result<void> validate_selection(const std::vector<provisioners::Step>& steps,
                                              const RunOptions& options);

/// Runs the command and returns the report. Never throws for host state; every failure is a
/// report entry.
[[nodiscard]] report::Report execute(std::vector<provisioners::Step>& steps,
                                     host::Host& host,
                                     const RunOptions& options,
                                     const std::string& profile_name);

/// True when the run should exit 2: a step failed (apply error, plan error, not converged).
[[nodiscard]] bool any_step_failed(const report::Report& report);
/// True when a check failed or could not run.
[[nodiscard]] bool any_check_failed(const report::Report& report);

} // namespace zt::run
