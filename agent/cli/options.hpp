// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "run/orchestrator.hpp"
#include "util/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace zt::cli {

enum class Verb { provision, plan, verify, drift, explain, list, schedule, profiles, help, version };
enum class ScheduleAction { install, remove };
/// Where log lines go: stderr (default), syslog (the journal where systemd runs; one line per
/// failing check too), or auto (syslog when stderr is not a TTY, e.g. under cron or a timer).
enum class LogTarget { stderr_stream, syslog, automatic };
enum class Format { text, json, junit, tap, prometheus, nagios };

/// One `--report FORMAT:FILE`: an extra report written atomically to FILE after the run.
struct ReportTarget {
  Format format = Format::text;
  std::string path;
  bool operator==(const ReportTarget&) const = default;
};

struct Options {
  Verb verb = Verb::help;
  std::string profile = "auto";
  std::optional<std::string> config; // --config FILE
  std::vector<std::string> sets;     // --set KEY=VALUE
  std::string root = "/";
  std::vector<std::string> only;
  std::vector<std::string> skip;
  bool dry_run = false;
  bool keep_going = false;
  bool allow_host_commands = false;
  Format format = Format::text;
  std::optional<std::string> output;
  std::vector<ReportTarget> reports; // --report FORMAT:FILE (repeatable)
  std::chrono::milliseconds retry_timeout{0};
  bool retry_timeout_set = false;  // given on the command line (provision defaults to k_provision_retry)
  unsigned jobs = 4;
  int verbosity = 0; // -q = -1, -v = 1, -vv = 2
  std::optional<std::string> log_level;
  bool no_color = false;
  LogTarget log_target = LogTarget::stderr_stream;
  bool remediate = false; // verify/drift --remediate
  std::string explain_id; // explain CHECK-ID
  ScheduleAction schedule_action = ScheduleAction::install;
  std::chrono::minutes every{15}; // schedule install --every
};

/// The help text: one literal beside the parser (mold src/cmdline.cc).
extern const char* const k_help_text;

/// Parses argv: CLI11 (libcli11-dev) tokenizes and collects the values, ztagent checks them. Every
/// error (Errc::invalid_config, shown as a usage error, exit 64) names the offending option
/// ("unknown option '--frobnicate'").
[[nodiscard]] Result<Options> parse_options(const std::vector<std::string>& args);

/// "text", "json", "junit", "tap", "prometheus", "nagios"; nullopt for anything else.
[[nodiscard]] std::optional<Format> parse_format(std::string_view name);

/// "stderr", "syslog", "auto"; nullopt for anything else.
[[nodiscard]] std::optional<LogTarget> parse_log_target(std::string_view name);

/// "90s", "5m", "1h", "250ms", "30" (seconds).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace zt::cli
