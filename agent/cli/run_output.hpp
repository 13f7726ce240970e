// SPDX-License-Identifier: Apache-2.0
#pragma once

// Where a run's reports go, and the report of a run that stops before it runs: every output mode
// says what happened (README "Exit contracts"), whether the run completed, was interrupted or never
// started (usage or config error, drift without a state, lock busy, not root).

#include "cli/options.hpp"
#include "profile/waivers.hpp"
#include "report/report.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::cli {

[[nodiscard]] std::string_view verb_name(Verb verb);
[[nodiscard]] std::string utc_now_rfc3339();
/// The host a report is about: ROOT/etc/hostname under --root (first line), else this machine's name.
[[nodiscard]] std::string report_hostname(const std::filesystem::path& root);

/// What a run writes its reports to.
struct Outputs {
  std::string command = "verify";
  Format format = Format::text;
  std::optional<std::string> output;  // -o FILE; nullopt or "-" = stdout
  std::vector<ReportTarget> reports;  // --report FORMAT:FILE
  std::string profile = "auto";
  std::string root = "/";
};

[[nodiscard]] Outputs outputs_of(const Options& o);
/// The outputs of a command line that did not parse, read the simple way (-f/--format, -o/--output,
/// --report FORMAT:FILE, the first bare word as the command), so that a monitoring caller still
/// gets its plugin line or report file for a usage error.
[[nodiscard]] Outputs sniff_outputs(const std::vector<std::string>& args);
/// True when -o is absent or "-".
[[nodiscard]] bool output_is_stdout(const std::optional<std::string>& output);

/// Renders `rep` to -o FILE or stdout (stdout only when `stdout_too`) and to every --report file,
/// files first (atomically, mode 0644). A Prometheus file keeps the previous file's
/// ztagent_last_success_timestamp_seconds unless `passed`. Returns the files that could not be
/// written (each also said on stderr).
[[nodiscard]] std::vector<std::string> write_reports(const Outputs& out,
                                                     const report::Report& rep,
                                                     bool passed,
                                                     bool color,
                                                     bool stdout_too);

/// A run that stops before it runs (or before its checks): writes a report that says so, with
/// `reason` ("usage", "config", "no_state", "lock_busy", "not_root", "internal") and `message`, to
/// -o FILE and every --report FILE, and to stdout in every format but text (text too when
/// `text_to_stdout`: lock busy). The error itself is on stderr already. Returns the exit code:
/// `code`, or 3 (UNKNOWN) in Nagios mode.
[[nodiscard]] int stop_run(const Outputs& out,
                           int code,
                           std::string_view reason,
                           const std::string& message,
                           bool text_to_stdout = false);

/// Today's date in UTC, "YYYY-MM-DD" (waiver expiry).
[[nodiscard]] std::string utc_today();

/// Applies the site's waivers to a finished run's checks: a check that an unexpired waiver covers
/// (the first matching one) keeps its outcome and gets the waiver's reason, so it no longer fails the
/// run; each active waiver is listed in report.waivers with how many checks it covered. A waiver
/// whose `expires` day is before `today` covers nothing and adds a failing check "waiver:PATTERN"
/// (step "waivers") that names it and where it is, so the run fails until it is renewed or removed.
void apply_waivers(report::Report& rep, const std::vector<profile::Waiver>& waivers, std::string_view today);

/// The exit code of a run in Nagios mode for a non-Nagios `code`: 0 stays 0, everything that is not
/// a plugin status (64, 66, 70, 75, 78, 130, ...) becomes 3 UNKNOWN.
[[nodiscard]] int nagios_exit(int code);

} // namespace zt::cli
