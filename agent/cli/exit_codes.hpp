// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace zt::cli {

/// Every exit code ztagent returns (ninja src/exit_status.h). Documented in --help and README.md.
enum ExitCode : int {
  k_exit_ok = 0,            // everything passed / converged
  k_exit_check_failed = 1,  // a check failed or could not run (drift)
  k_exit_step_failed = 2,   // provision failed or did not converge
  k_exit_usage = 64,        // bad command line (EX_USAGE); explain: unknown check id
  k_exit_no_state = 66,     // drift: no provision recorded, or state.json unreadable (EX_NOINPUT)
  k_exit_internal = 70,     // a bug in ztagent (EX_SOFTWARE)
  k_exit_busy = 75,         // another ztagent run holds the lock (EX_TEMPFAIL)
  k_exit_config = 78,       // profile or site config invalid (EX_CONFIG); nothing was changed
  k_exit_interrupted = 130, // SIGINT/SIGTERM
};

} // namespace zt::cli
