// SPDX-License-Identifier: Apache-2.0
#include "report/report.hpp"

#include "report/utf8.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// Report writers for monitoring and CI: TAP 13 (prove, CI test viewers), the Prometheus text format
// for node_exporter's textfile collector, and a Nagios/Icinga plugin line. Pure, like report.cpp.
// Host-supplied strings (check "actual" values, step errors) are sanitized per format:
// - TAP: descriptions and SKIP reasons on one line, '#' and '\' escaped; YAML values single-quoted.
// - Prometheus: label values escaped (\\, \", \n) and valid UTF-8 (the format requires it).
// - Nagios: one line; '|' (starts performance data) replaced by '/'.

namespace zt::report {

namespace {

using detail::for_each_code_point;
using detail::k_replacement_utf8;
using detail::visible;

/// TAP description or directive reason: '\' and '#' escaped (TAP::Parser unescapes "\#").
std::string tap_text(std::string_view text) {
  return visible(text, [](char32_t cp, std::string& out) {
    if (cp == '\\' || cp == '#') {
      out += '\\';
      out += static_cast<char>(cp);
      return true;
    }
    return false;
  });
}

std::string nagios_text(std::string_view text) {
  return visible(text, [](char32_t cp, std::string& out) {
    if (cp == '|') {
      out += '/';
      return true;
    }
    return false;
  });
}

std::string plural(int count, std::string_view singular, std::string_view plural_form) {
  return std::to_string(count) + " " + std::string(count == 1 ? singular : plural_form);
}

/// "a, b, c, d, e and 3 more" (at most five names).
std::string name_list(const std::vector<std::string>& names) {
  constexpr std::size_t k_max = 5;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < k_max; ++i) {
    out += i == 0 ? "" : ", ";
    out += nagios_text(names[i]);
  }
  if (names.size() > k_max) {
    out += " and " + std::to_string(names.size() - k_max) + " more";
  }
  return out;
}

void append_help(std::string& out, std::string_view name, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " gauge\n";
}

void append_sample(std::string& out, std::string_view name, std::string_view labels, std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + prometheus_label_escape(value) + "\"";
}

/// ztagent_checks{outcome} and ztagent_steps{status}.
void append_counts(std::string& out, const Report& report) {
  const CheckCounts checks = count_checks(report);
  append_help(out, "ztagent_checks", "Number of ztagent checks in the last run by outcome.");
  append_sample(out, "ztagent_checks", label("outcome", "pass"), std::to_string(checks.pass));
  append_sample(out, "ztagent_checks", label("outcome", "fail"), std::to_string(checks.fail));
  append_sample(out, "ztagent_checks", label("outcome", "skip"), std::to_string(checks.skip));
  append_sample(out, "ztagent_checks", label("outcome", "error"), std::to_string(checks.error));
  append_sample(out, "ztagent_checks", label("outcome", "waived"), std::to_string(checks.waived));

  const StepCounts steps = count_steps(report);
  append_help(out, "ztagent_steps", "Number of ztagent steps in the last run by status.");
  append_sample(out, "ztagent_steps", label("status", "changed"), std::to_string(steps.changed));
  append_sample(out, "ztagent_steps", label("status", "unchanged"), std::to_string(steps.unchanged));
  append_sample(out, "ztagent_steps", label("status", "would_change"), std::to_string(steps.would_change));
  append_sample(out, "ztagent_steps", label("status", "failed"), std::to_string(steps.failed));
  append_sample(out, "ztagent_steps", label("status", "skipped"), std::to_string(steps.skipped));
}

constexpr checks::Outcome k_outcomes[] = {checks::Outcome::pass, checks::Outcome::fail, checks::Outcome::skip,
                                          checks::Outcome::error};

} // namespace

// ---- escaping ---------------------------------------------------------------------------------

std::string prometheus_label_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    if (bytes.empty()) {
      out += k_replacement_utf8;
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\n') {
      out += "\\n";
    } else {
      out += bytes;
    }
  });
  return out;
}

std::string yaml_quote(std::string_view text) {
  return "'" +
         visible(text,
                 [](char32_t cp, std::string& out) {
                   if (cp == '\'') {
                     out += "''";
                     return true;
                   }
                   return false;
                 }) +
         "'";
}

// ---- TAP --------------------------------------------------------------------------------------

std::string render_tap(const Report& report) {
  std::vector<const StepReport*> failed_steps;
  for (const StepReport& step : report.steps) {
    if (step.status == StepStatus::failed) {
      failed_steps.push_back(&step);
    }
  }
  if (report.end == RunEnd::stopped) {
    // Nothing ran: one failing test point that says why (prove: Result: FAIL, not NOTESTS).
    return "TAP version 13\n1..1\nnot ok 1 - " + tap_text(report.command) + " did not run\n  ---\n  reason: " +
           yaml_quote(report.stop_reason) + "\n  error: " + yaml_quote(report.stop_error) + "\n  ...\n";
  }
  // Version 13: Test::Harness 3.44 (Debian 12's prove) fails a stream that declares 14 ("we don't
  // know about versions later than 13"); nothing here needs TAP 14 syntax.
  std::string out = "TAP version 13\n1.." + std::to_string(report.checks.size() + failed_steps.size()) + "\n";
  int number = 0;
  for (const CheckReport& check : report.checks) {
    const std::string point = std::to_string(++number) + " - " + tap_text(check.id);
    if (check.waiver_reason) {
      std::string why = "waived: " + *check.waiver_reason;
      if (!check.waiver_expires.empty()) {
        why += " (until " + check.waiver_expires + ")";
      }
      why += "; measured " + std::string(checks::to_string(check.outcome));
      out += "ok " + point + " # SKIP " + tap_text(why) + "\n";
      continue;
    }
    switch (check.outcome) {
    case checks::Outcome::pass: out += "ok " + point + "\n"; break;
    case checks::Outcome::skip:
      out += "ok " + point + " # SKIP";
      if (!check.actual.empty()) {
        out += " " + tap_text(check.actual);
      }
      out += "\n";
      break;
    case checks::Outcome::fail:
    case checks::Outcome::error:
      out += "not ok " + point + "\n  ---\n";
      out += "  outcome: " + std::string(checks::to_string(check.outcome)) + "\n";
      out += "  expected: " + yaml_quote(check.expected) + "\n";
      out += "  actual: " + yaml_quote(check.actual) + "\n";
      if (!check.fix.empty()) {
        out += "  fix: " + yaml_quote(check.fix) + "\n";
      }
      out += "  ...\n";
      break;
    }
  }
  for (const StepReport* step : failed_steps) {
    out += "not ok " + std::to_string(++number) + " - " + tap_text(step->id + ".apply") + "\n  ---\n";
    out += "  error: " + yaml_quote(step->error) + "\n  ...\n";
  }
  if (report.end == RunEnd::interrupted) {
    // prove reports a bailed-out stream as FAIL: a run that did not happen or did not finish must
    // not read as a short passing one.
    out += "Bail out! " + tap_text(report.command + " " + std::string(to_string(report.end)) + ": " +
                                   report.stop_error) + "\n";
  }
  return out;
}

// ---- Prometheus -------------------------------------------------------------------------------

std::string render_prometheus(const Report& report,
                              double now_unix_seconds,
                              std::optional<double> last_success_unix) {
  std::string out;
  const bool stopped = report.end == RunEnd::stopped;
  if (!report.checks.empty()) {
    append_help(out, "ztagent_check_outcome",
                "Outcome of each ztagent check in the last run: 1 for the current outcome, 0 for the others.");
    for (const CheckReport& check : report.checks) {
      const std::string prefix = label("check", check.id) + "," + label("step", check.step) + ",";
      const bool waived = check.waiver_reason.has_value();
      for (const checks::Outcome outcome : k_outcomes) {
        append_sample(out, "ztagent_check_outcome", prefix + label("outcome", checks::to_string(outcome)),
                      !waived && outcome == check.outcome ? "1" : "0");
      }
      append_sample(out, "ztagent_check_outcome", prefix + label("outcome", "waived"), waived ? "1" : "0");
    }
  }
  if (!stopped) {
    append_counts(out, report);
  }
  append_help(out, "ztagent_run_duration_seconds", "Wall time of the last ztagent run.");
  append_sample(out, "ztagent_run_duration_seconds", {}, format_duration(report.duration_s));
  append_help(out, "ztagent_run_timestamp_seconds", "Unix time the last ztagent run wrote this file.");
  append_sample(out, "ztagent_run_timestamp_seconds", {}, format_duration(now_unix_seconds));
  if (last_success_unix) {
    append_help(out, "ztagent_last_success_timestamp_seconds",
                "Unix time of the last ztagent run that exited 0.");
    append_sample(out, "ztagent_last_success_timestamp_seconds", {}, format_duration(*last_success_unix));
  }
  append_help(out, "ztagent_exit_code", "Exit code of the last ztagent run.");
  append_sample(out, "ztagent_exit_code", {}, std::to_string(report.exit_code));
  if (report.end != RunEnd::completed) {
    append_help(out, "ztagent_run_stopped",
                "1 when the last ztagent run stopped early or was interrupted; reason says why.");
    append_sample(out, "ztagent_run_stopped",
                  label("reason", report.stop_reason.empty() ? std::string(to_string(report.end)) : report.stop_reason),
                  "1");
  }
  append_help(out, "ztagent_up", "1 when the last ztagent run ran to the end, 0 when it stopped early or was interrupted.");
  append_sample(out, "ztagent_up", {}, report.end == RunEnd::completed ? "1" : "0");
  return out;
}

std::optional<double> parse_last_success(std::string_view prometheus_text) {
  constexpr std::string_view k_name = "ztagent_last_success_timestamp_seconds";
  std::size_t start = 0;
  while (start < prometheus_text.size()) {
    std::size_t end = prometheus_text.find('\n', start);
    if (end == std::string_view::npos) {
      end = prometheus_text.size();
    }
    std::string_view line = prometheus_text.substr(start, end - start);
    start = end + 1;
    if (!line.starts_with(k_name)) {
      continue;
    }
    line.remove_prefix(k_name.size());
    if (line.starts_with("{}")) {
      line.remove_prefix(2);
    }
    if (line.empty() || (line.front() != ' ' && line.front() != '\t')) {
      continue;  // a longer metric name or labels we never write
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    double value = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
    const std::string_view rest = line.substr(static_cast<std::size_t>(ptr - line.data()));
    if (ec != std::errc{} || (!rest.empty() && rest.front() != ' ' && rest.front() != '\t' && rest != "\r")) {
      return std::nullopt;
    }
    if (!std::isfinite(value) || value < 0) {
      return std::nullopt;
    }
    return value;
  }
  return std::nullopt;
}

// ---- Nagios -----------------------------------------------------------------------------------

int nagios_status(const Report& report) {
  if (report.end != RunEnd::completed) {
    return 3;  // a run that did not happen or did not finish proves nothing
  }
  const CheckCounts checks = count_checks(report);
  if (checks.fail > 0 || count_steps(report).failed > 0) {
    return 2;
  }
  if (checks.error > 0) {
    return 3;
  }
  return 0;
}

std::string render_nagios(const Report& report) {
  const CheckCounts counts = count_checks(report);
  const int total = static_cast<int>(report.checks.size());
  std::vector<std::string> failed_checks;
  std::vector<std::string> errored_checks;
  if (report.end == RunEnd::stopped) {
    return "ZTAGENT UNKNOWN - " + nagios_text(report.command) + " did not run: " + nagios_text(report.stop_error) +
           " | exit_code=" + std::to_string(report.exit_code) + "\n";
  }
  for (const CheckReport& check : report.checks) {
    if (check.waiver_reason) {
      continue;
    } else if (check.outcome == checks::Outcome::fail) {
      failed_checks.push_back(check.id);
    } else if (check.outcome == checks::Outcome::error) {
      errored_checks.push_back(check.id);
    }
  }
  std::vector<std::string> failed_steps;
  for (const StepReport& step : report.steps) {
    if (step.status == StepStatus::failed) {
      failed_steps.push_back(step.id);
    }
  }

  std::string out = "ZTAGENT ";
  switch (nagios_status(report)) {
  case 2: {
    out += "CRITICAL - ";
    std::string sep;
    if (!failed_checks.empty()) {
      out += std::to_string(failed_checks.size()) + " of " + plural(total, "check", "checks") +
             " failed: " + name_list(failed_checks);
      sep = "; ";
    }
    if (!failed_steps.empty()) {
      out += sep + plural(static_cast<int>(failed_steps.size()), "step", "steps") +
             " failed: " + name_list(failed_steps);
    }
    break;
  }
  case 3:
    if (report.end == RunEnd::interrupted) {
      out += "UNKNOWN - " + nagios_text(report.command) + " was interrupted: " + nagios_text(report.stop_error);
      break;
    }
    out += "UNKNOWN - " + std::to_string(errored_checks.size()) + " of " + plural(total, "check", "checks") +
           " could not run: " + name_list(errored_checks);
    break;
  default: out += "OK - " + plural(counts.pass, "check", "checks") + " passed"; break;
  }
  if (counts.waived > 0) {
    out += " (" + std::to_string(counts.waived) + " waived)";
  }
  out += " | pass=" + std::to_string(counts.pass) + " fail=" + std::to_string(counts.fail) +
         " skip=" + std::to_string(counts.skip) + " error=" + std::to_string(counts.error) +
         " waived=" + std::to_string(counts.waived) + " duration=" + format_duration(report.duration_s) + "s\n";
  return out;
}

} // namespace zt::report
