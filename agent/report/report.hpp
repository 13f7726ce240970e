// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "checks/check.hpp"
#include "provisioners/provisioner.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::report {

enum class StepStatus { unchanged, changed, would_change, failed, skipped };

/// How a run ended: it ran to the end, it was interrupted (SIGINT/SIGTERM) after it started, or it
/// stopped before running anything (usage or config error, drift without a state, lock busy, ...).
enum class RunEnd { completed, interrupted, stopped };

struct StepReport {
  std::string id;
  StepStatus status = StepStatus::unchanged;
  std::vector<provisioners::Change> changes;
  double duration_s = 0;
  std::string error;  // why it failed or was skipped; empty otherwise
};

struct CheckReport {
  std::string id;
  std::string step;
  checks::Outcome outcome = checks::Outcome::error;
  std::string expected;
  std::string actual;
  std::string fix;
  double duration_s = 0;
  /// Set when a site-config waiver covers this check: the check ran and `outcome` is what it found,
  /// but the run treats it as waived (it neither fails the run nor counts as pass/fail/skip/error).
  std::optional<std::string> waiver_reason;
  std::string waiver_expires;  // "YYYY-MM-DD" or empty (no expiry)
};

/// One active waiver of the site config, as `plan`/`verify` list it.
struct WaiverReport {
  std::string check;    // a check id or a glob ("units.*")
  std::string reason;
  std::string expires;  // "YYYY-MM-DD" or empty
  int matched = 0;      // how many checks of this run it covers
};

struct Report {
  std::string command;     // provision | plan | verify
  std::string profile;     // profile name
  std::string root;        // "/" or the --root directory
  std::string started_at;  // RFC 3339 UTC, "2026-11-22T05:00:00Z"
  double duration_s = 0;
  std::vector<StepReport> steps;
  std::vector<CheckReport> checks;
  std::string hostname;    // the host the report is about (ROOT/etc/hostname under --root)
  RunEnd end = RunEnd::completed;
  int exit_code = 0;       // the exit code ztagent returns for this run
  std::string stop_reason; // interrupted/stopped: "usage", "config", "no_state", "lock_busy", ...
  std::string stop_error;  // interrupted/stopped: what happened, in one sentence
  std::vector<WaiverReport> waivers;
};

struct StepCounts {
  int changed = 0, unchanged = 0, would_change = 0, failed = 0, skipped = 0;
};
/// Waived checks count only as `waived`, whatever their outcome.
struct CheckCounts {
  int pass = 0, fail = 0, skip = 0, error = 0, waived = 0;
};
[[nodiscard]] StepCounts count_steps(const Report& report);
[[nodiscard]] CheckCounts count_checks(const Report& report);
[[nodiscard]] std::string_view to_string(StepStatus status);
/// "completed", "interrupted", "stopped".
[[nodiscard]] std::string_view to_string(RunEnd end);
/// True when a check that is not waived failed or could not run.
[[nodiscard]] bool any_unwaived_failure(const Report& report);

enum class Color { no, yes };

/// Pure Report -> text functions (golden files in tests/data/).
[[nodiscard]] std::string render_text(const Report& report, Color color);
/// The ztagent.report/1 JSON contract (see README.md). One line, '\n'-terminated.
[[nodiscard]] std::string render_json(const Report& report);
/// JUnit XML (valid against Jenkins xunit's junit-10.xsd, tests/data/junit-10.xsd): testsuites >
/// testsuite (one per step, with hostname and timestamp) > testcase (one per check). <testsuites>
/// time is the run's wall time; each suite's time is the wall time shared out in proportion to the
/// serial time of its checks, so the suite times add up to the wall time (checks run concurrently).
/// A stopped or interrupted run adds a suite "ztagent" with an errored testcase "run".
[[nodiscard]] std::string render_junit(const Report& report);

/// JSON string escaping (quotes included in the output): "\"a\\nb\"".
[[nodiscard]] std::string json_quote(std::string_view text);
/// XML attribute/text escaping (&, <, >, ", ', and control characters dropped or escaped).
[[nodiscard]] std::string xml_escape(std::string_view text);
/// "%.6g"-free fixed seconds with a '.' decimal regardless of locale: 0.031 -> "0.031000".
[[nodiscard]] std::string format_seconds(double seconds);
/// Like format_seconds without trailing zeros (JSON "duration_s"): 0.031 -> "0.031", 0.0001 ->
/// "0.0001", 0 -> "0", 12 -> "12"; never exponent notation. Negative or non-finite -> "0".
[[nodiscard]] std::string format_duration(double seconds);

// ---- monitoring and CI formats (monitoring.cpp) -------------------------------------------------

/// TAP version 13 (Test::Harness 3.44, Debian 12's prove, rejects 14): one test point per check in
/// report order ("ok 3 - id", "ok 2 - id # SKIP reason", "ok 5 - id # SKIP waived: reason",
/// "not ok 4 - id" with a YAML block of expected/actual/fix), then one "not ok N - <step>.apply"
/// per failed step with its error. Values are single-quoted YAML on one line. An interrupted run
/// ends with "Bail out! <why>"; a stopped run is one "not ok 1 - <command> did not run" with why.
[[nodiscard]] std::string render_tap(const Report& report);

/// node_exporter textfile collector format (Prometheus text exposition 0.0.4), '\n'-terminated:
/// ztagent_check_outcome{check,step,outcome} (the four outcomes and "waived" per check, 1 for the
/// current one; a waived check is 1 only for "waived"), ztagent_checks{outcome},
/// ztagent_steps{status}, ztagent_run_duration_seconds, ztagent_run_timestamp_seconds (= now),
/// ztagent_last_success_timestamp_seconds (only when `last_success_unix` is set),
/// ztagent_exit_code, ztagent_up (1 when the run completed, 0 when it stopped early or was
/// interrupted) and, when it did not complete, ztagent_run_stopped{reason} 1. A stopped run writes
/// no check or step metrics (nothing ran). All gauges.
[[nodiscard]] std::string render_prometheus(const Report& report,
                                            double now_unix_seconds,
                                            std::optional<double> last_success_unix);

/// The value of ztagent_last_success_timestamp_seconds in a file render_prometheus wrote earlier;
/// nullopt when absent, unparsable, negative or not finite.
[[nodiscard]] std::optional<double> parse_last_success(std::string_view prometheus_text);

/// Label value escaping of the exposition format: \ -> \\, " -> \", newline -> \n; invalid
/// UTF-8 bytes become U+FFFD. Quotes not included.
[[nodiscard]] std::string prometheus_label_escape(std::string_view text);

/// One YAML single-quoted scalar on one line: ' doubled, control characters shown as visible
/// escapes ("\n", "\x1b"), invalid UTF-8 bytes as U+FFFD. Quotes included.
[[nodiscard]] std::string yaml_quote(std::string_view text);

/// Nagios plugin status: 0 OK, 2 CRITICAL (a check failed or a step failed), 3 UNKNOWN (checks
/// errored, none failed; or the run stopped early or was interrupted). Waived checks never make it
/// CRITICAL. 1 WARNING is never returned: ztagent has no "degraded but fine" result.
[[nodiscard]] int nagios_status(const Report& report);

/// One Nagios plugin status line with performance data, '\n'-terminated:
/// "ZTAGENT OK - 42 checks passed | pass=42 fail=0 skip=5 error=0 waived=0 duration=0.031s";
/// a stopped run: "ZTAGENT UNKNOWN - verify did not run: <why>".
[[nodiscard]] std::string render_nagios(const Report& report);

} // namespace zt::report
