// SPDX-License-Identifier: Apache-2.0
#include "report/report.hpp"

#include "report/utf8.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// Report writers: pure Report -> string functions, no I/O (the CLI writes the result).
//
// Every string that reaches a report may come from the host (file contents turned into "actual",
// command stderr in a step error), so each format sanitizes on the way out, through one UTF-8 decoder:
// - JSON: ", \ and control characters escaped; invalid UTF-8 bytes become \ufffd, one per byte.
// - XML: & < > " ' escaped; characters XML 1.0 forbids (C0 controls other than \t \n \r, U+FFFE,
//   U+FFFF) dropped; invalid UTF-8 bytes become U+FFFD, so the document stays well-formed UTF-8.
// - Text: control characters (C0, DEL, C1) shown as visible escapes ("\n", "\x1b", "\u009b") so a
//   value can neither break the one-line-per-item layout nor smuggle terminal escape sequences.
// Numbers go through std::to_chars, which ignores the C and C++ locales: always a '.' decimal.

namespace zt::report {

namespace {

using detail::append_hex;
using detail::for_each_code_point;
using detail::k_replacement_utf8;

// ---- numbers ----------------------------------------------------------------------------------

/// Fixed notation with `precision` decimals. Durations are never negative or non-finite; if one is
/// (a clock jump, a bug upstream), it is shown as 0 so JSON stays valid and XML stays schema-clean.
std::string format_fixed(double seconds, int precision) {
  if (!std::isfinite(seconds) || !(seconds > 0)) {
    seconds = 0;  // also turns -0.0 into 0
  }
  std::array<char, 400> buffer{};  // DBL_MAX has 309 integral digits
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), seconds,
                                       std::chars_format::fixed, precision);
  if (ec != std::errc{}) {
    return "0";
  }
  return std::string(buffer.data(), end);
}

// ---- text helpers -----------------------------------------------------------------------------

/// One line for a terminal: control characters become visible escapes, invalid UTF-8 becomes U+FFFD.
std::string text_safe(std::string_view text) {
  return detail::visible(text, [](char32_t, std::string&) { return false; });
}

/// Collapses \t \n \r runs to single spaces (for one-line XML attributes).
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_space = false;
  for (const char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!in_space) {
        out += ' ';
      }
      in_space = true;
    } else {
      out += c;
      in_space = false;
    }
  }
  return out;
}

std::string_view step_word(StepStatus status) {
  switch (status) {
  case StepStatus::unchanged: return "unchanged";
  case StepStatus::changed: return "changed";
  case StepStatus::would_change: return "would change";
  case StepStatus::failed: return "FAILED";
  case StepStatus::skipped: return "skipped";
  }
  return "unknown";
}

std::string_view check_word(checks::Outcome outcome) {
  switch (outcome) {
  case checks::Outcome::pass: return "PASS";
  case checks::Outcome::fail: return "FAIL";
  case checks::Outcome::skip: return "SKIP";
  case checks::Outcome::error: return "ERROR";
  }
  return "ERROR";
}

constexpr std::string_view k_green = "\x1b[32m";
constexpr std::string_view k_red = "\x1b[31m";
constexpr std::string_view k_yellow = "\x1b[33m";
constexpr std::string_view k_reset = "\x1b[0m";

std::string_view step_color(StepStatus status) {
  switch (status) {
  case StepStatus::changed: return k_green;
  case StepStatus::would_change: return k_yellow;
  case StepStatus::failed: return k_red;
  case StepStatus::skipped: return k_yellow;
  case StepStatus::unchanged: return {};
  }
  return {};
}

constexpr std::string_view k_cyan = "\x1b[36m";

std::string_view check_color(checks::Outcome outcome) {
  switch (outcome) {
  case checks::Outcome::pass: return k_green;
  case checks::Outcome::fail: return k_red;
  case checks::Outcome::error: return k_red;
  case checks::Outcome::skip: return k_yellow;
  }
  return {};
}

/// `word` padded to `width`, colored when asked (the padding stays outside the escape codes so
/// columns line up the same with and without color).
std::string column(std::string_view word, std::size_t width, std::string_view color, Color use) {
  std::string out;
  if (use == Color::yes && !color.empty()) {
    out += color;
    out += word;
    out += k_reset;
  } else {
    out += word;
  }
  if (word.size() < width) {
    out.append(width - word.size(), ' ');
  }
  return out;
}

std::string or_empty(std::string_view value) {
  return value.empty() ? std::string("(empty)") : text_safe(value);
}

std::string plural(int count, std::string_view singular, std::string_view plural_form) {
  return std::to_string(count) + " " + std::string(count == 1 ? singular : plural_form);
}

// ---- JUnit helpers ----------------------------------------------------------------------------

/// One <testsuite>: the checks of one step plus, if the step failed to apply, its apply testcase.
struct Suite {
  std::string step;
  const StepReport* failed_step = nullptr;
  std::vector<const CheckReport*> checks;
};

std::vector<Suite> junit_suites(const Report& report) {
  std::vector<Suite> suites;
  const auto find = [&](std::string_view step) -> Suite* {
    for (Suite& suite : suites) {
      if (suite.step == step) {
        return &suite;
      }
    }
    return nullptr;
  };
  for (const CheckReport& check : report.checks) {
    Suite* suite = find(check.step);
    if (suite == nullptr) {
      suites.push_back(Suite{check.step, nullptr, {}});
      suite = &suites.back();
    }
    suite->checks.push_back(&check);
  }
  for (const StepReport& step : report.steps) {
    if (step.status != StepStatus::failed) {
      continue;
    }
    Suite* suite = find(step.id);
    if (suite == nullptr) {
      suites.push_back(Suite{step.id, nullptr, {}});
      suite = &suites.back();
    }
    if (suite->failed_step == nullptr) {
      suite->failed_step = &step;
    }
  }
  return suites;
}

struct SuiteCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
};

SuiteCounts count_suite(const Suite& suite) {
  SuiteCounts counts;
  if (suite.failed_step != nullptr) {
    ++counts.tests;
    ++counts.errors;
    counts.time += suite.failed_step->duration_s;
  }
  for (const CheckReport* check : suite.checks) {
    ++counts.tests;
    counts.time += check->duration_s;
    if (check->waiver_reason) {
      ++counts.skipped;
      continue;
    }
    switch (check->outcome) {
    case checks::Outcome::pass: break;
    case checks::Outcome::fail: ++counts.failures; break;
    case checks::Outcome::error: ++counts.errors; break;
    case checks::Outcome::skip: ++counts.skipped; break;
    }
  }
  return counts;
}

/// `with_skipped`: junit-10.xsd allows `skipped` on <testsuite> only, not on <testsuites>.
std::string junit_counts(const SuiteCounts& counts, double time, bool with_skipped) {
  std::string out = "tests=\"" + std::to_string(counts.tests) + "\" failures=\"" +
                    std::to_string(counts.failures) + "\" errors=\"" + std::to_string(counts.errors) + "\"";
  if (with_skipped) {
    out += " skipped=\"" + std::to_string(counts.skipped) + "\"";
  }
  return out + " time=\"" + format_seconds(time) + "\"";
}

/// "waived: REASON (until 2027-01-31); measured fail: expected X, got Y" (one line).
std::string waiver_text(const CheckReport& check) {
  std::string out = "waived: " + check.waiver_reason.value_or("");
  if (!check.waiver_expires.empty()) {
    out += " (until " + check.waiver_expires + ")";
  }
  out += "; measured " + std::string(checks::to_string(check.outcome));
  if (check.outcome == checks::Outcome::fail || check.outcome == checks::Outcome::error) {
    out += ": expected " + check.expected + ", got " + check.actual;
  }
  return out;
}

/// Each suite's share of the run's wall time, in whole microseconds, in proportion to its serial
/// time; the shares add up to the wall time exactly (the last suite takes the rounding remainder).
/// Jenkins adds suite times up to show a run's duration: with concurrent checks, the serial sums
/// would show a run several times longer than it was.
std::vector<double> suite_shares(const std::vector<SuiteCounts>& counts, double wall_s) {
  std::vector<double> shares(counts.size(), 0.0);
  if (counts.empty() || !std::isfinite(wall_s) || !(wall_s > 0)) {
    return shares;
  }
  const auto wall_us = static_cast<std::int64_t>(std::llround(wall_s * 1e6));
  double serial = 0;
  for (const SuiteCounts& c : counts) {
    serial += std::isfinite(c.time) && c.time > 0 ? c.time : 0;
  }
  std::int64_t given = 0;
  for (std::size_t i = 0; i + 1 < counts.size(); ++i) {
    const double t = std::isfinite(counts[i].time) && counts[i].time > 0 ? counts[i].time : 0;
    const double fraction = serial > 0 ? t / serial : 1.0 / static_cast<double>(counts.size());
    const auto us = static_cast<std::int64_t>(std::floor(static_cast<double>(wall_us) * fraction));
    shares[i] = static_cast<double>(us) / 1e6;
    given += us;
  }
  shares.back() = static_cast<double>(wall_us - given) / 1e6;
  return shares;
}

std::string junit_body(const CheckReport& check) {
  std::string body = "expected: " + xml_escape(check.expected) + "\nactual: " + xml_escape(check.actual);
  if (!check.fix.empty()) {
    body += "\nfix: " + xml_escape(check.fix);
  }
  return body;
}

void append_testcase(std::string& out, const CheckReport& check) {
  out += "    <testcase classname=\"ztagent.";
  out += xml_escape(check.step);
  out += "\" name=\"";
  out += xml_escape(check.id);
  out += "\" time=\"";
  out += format_seconds(check.duration_s);
  out += "\"";
  if (check.waiver_reason) {
    out += ">\n      <skipped message=\"" + xml_escape(one_line(waiver_text(check))) + "\"/>\n";
    out += "    </testcase>\n";
    return;
  }
  switch (check.outcome) {
  case checks::Outcome::pass: out += "/>\n"; return;
  case checks::Outcome::skip:
    out += ">\n      <skipped message=\"" + xml_escape(one_line(check.actual)) + "\"/>\n";
    break;
  case checks::Outcome::fail:
    out += ">\n      <failure message=\"" +
           xml_escape(one_line("expected " + check.expected + ", got " + check.actual)) +
           "\" type=\"fail\">" + junit_body(check) + "</failure>\n";
    break;
  case checks::Outcome::error:
    out += ">\n      <error message=\"" + xml_escape(one_line(check.actual)) +
           "\" type=\"error\">" + junit_body(check) + "</error>\n";
    break;
  }
  out += "    </testcase>\n";
}

void append_json_step(std::string& out, const StepReport& step) {
  out += "{\"id\":" + json_quote(step.id);
  out += ",\"status\":" + json_quote(to_string(step.status));
  out += ",\"changes\":[";
  bool first = true;
  for (const provisioners::Change& change : step.changes) {
    out += first ? "" : ",";
    first = false;
    out += "{\"target\":" + json_quote(change.target) + ",\"summary\":" + json_quote(change.summary) +
           "}";
  }
  out += "],\"duration_s\":" + format_duration(step.duration_s);
  if ((step.status == StepStatus::failed || step.status == StepStatus::skipped) &&
      !step.error.empty()) {
    out += ",\"error\":" + json_quote(step.error);
  }
  out += "}";
}

void append_json_check(std::string& out, const CheckReport& check) {
  out += "{\"id\":" + json_quote(check.id);
  out += ",\"step\":" + json_quote(check.step);
  out += ",\"outcome\":" + json_quote(checks::to_string(check.outcome));
  out += ",\"expected\":" + json_quote(check.expected);
  out += ",\"actual\":" + json_quote(check.actual);
  out += ",\"fix\":" + json_quote(check.fix);
  out += ",\"duration_s\":" + format_duration(check.duration_s);
  if (check.waiver_reason) {
    out += ",\"waived\":{\"reason\":" + json_quote(*check.waiver_reason);
    if (!check.waiver_expires.empty()) {
      out += ",\"expires\":" + json_quote(check.waiver_expires);
    }
    out += "}";
  }
  out += "}";
}

} // namespace

// ---- counts -----------------------------------------------------------------------------------

StepCounts count_steps(const Report& report) {
  StepCounts counts;
  for (const StepReport& step : report.steps) {
    switch (step.status) {
    case StepStatus::unchanged: ++counts.unchanged; break;
    case StepStatus::changed: ++counts.changed; break;
    case StepStatus::would_change: ++counts.would_change; break;
    case StepStatus::failed: ++counts.failed; break;
    case StepStatus::skipped: ++counts.skipped; break;
    }
  }
  return counts;
}

CheckCounts count_checks(const Report& report) {
  CheckCounts counts;
  for (const CheckReport& check : report.checks) {
    if (check.waiver_reason) {
      ++counts.waived;
      continue;
    }
    switch (check.outcome) {
    case checks::Outcome::pass: ++counts.pass; break;
    case checks::Outcome::fail: ++counts.fail; break;
    case checks::Outcome::skip: ++counts.skip; break;
    case checks::Outcome::error: ++counts.error; break;
    }
  }
  return counts;
}

std::string_view to_string(StepStatus status) {
  switch (status) {
  case StepStatus::unchanged: return "unchanged";
  case StepStatus::changed: return "changed";
  case StepStatus::would_change: return "would_change";
  case StepStatus::failed: return "failed";
  case StepStatus::skipped: return "skipped";
  }
  return "failed";
}

std::string_view to_string(RunEnd end) {
  switch (end) {
  case RunEnd::completed: return "completed";
  case RunEnd::interrupted: return "interrupted";
  case RunEnd::stopped: return "stopped";
  }
  return "stopped";
}

bool any_unwaived_failure(const Report& report) {
  const CheckCounts counts = count_checks(report);
  return counts.fail > 0 || counts.error > 0;
}

// ---- escaping and numbers ---------------------------------------------------------------------

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    if (bytes.empty()) {
      out += "\\ufffd";
      return;
    }
    switch (cp) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\t': out += "\\t"; return;
    case '\r': out += "\\r"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    default: break;
    }
    if (cp < 0x20) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else {
      out += bytes;
    }
  });
  out += '"';
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for_each_code_point(text, [&](char32_t cp, std::string_view bytes) {
    if (bytes.empty()) {
      out += k_replacement_utf8;
      return;
    }
    switch (cp) {
    case '&': out += "&amp;"; return;
    case '<': out += "&lt;"; return;
    case '>': out += "&gt;"; return;
    case '"': out += "&quot;"; return;
    case '\'': out += "&apos;"; return;
    default: break;
    }
    const bool allowed_control = cp == '\t' || cp == '\n' || cp == '\r';
    if ((cp < 0x20 && !allowed_control) || cp == 0xFFFE || cp == 0xFFFF) {
      return;  // not a legal XML 1.0 character, not even as a character reference
    }
    out += bytes;
  });
  return out;
}

std::string format_seconds(double seconds) {
  return format_fixed(seconds, 6);
}

std::string format_duration(double seconds) {
  std::string out = format_fixed(seconds, 6);
  const std::size_t dot = out.find('.');
  if (dot != std::string::npos) {
    std::size_t end = out.find_last_not_of('0');
    if (end == dot) {
      end = dot - 1;
    }
    out.erase(end + 1);
  }
  return out;
}

// ---- JSON -------------------------------------------------------------------------------------

std::string render_json(const Report& report) {
  std::string out;
  out += "{\"schema\":\"ztagent.report/1\"";
  out += ",\"command\":" + json_quote(report.command);
  out += ",\"profile\":" + json_quote(report.profile);
  out += ",\"root\":" + json_quote(report.root);
  out += ",\"started_at\":" + json_quote(report.started_at);
  out += ",\"duration_s\":" + format_duration(report.duration_s);
  out += ",\"steps\":[";
  for (std::size_t i = 0; i < report.steps.size(); ++i) {
    out += i == 0 ? "" : ",";
    append_json_step(out, report.steps[i]);
  }
  out += "],\"checks\":[";
  for (std::size_t i = 0; i < report.checks.size(); ++i) {
    out += i == 0 ? "" : ",";
    append_json_check(out, report.checks[i]);
  }
  const StepCounts steps = count_steps(report);
  const CheckCounts checks = count_checks(report);
  out += "],\"summary\":{\"steps\":{\"changed\":" + std::to_string(steps.changed) +
         ",\"unchanged\":" + std::to_string(steps.unchanged) +
         ",\"would_change\":" + std::to_string(steps.would_change) +
         ",\"failed\":" + std::to_string(steps.failed) +
         ",\"skipped\":" + std::to_string(steps.skipped) + "}";
  out += ",\"checks\":{\"pass\":" + std::to_string(checks.pass) +
         ",\"fail\":" + std::to_string(checks.fail) + ",\"skip\":" + std::to_string(checks.skip) +
         ",\"error\":" + std::to_string(checks.error) + ",\"waived\":" + std::to_string(checks.waived) + "}}";
  // Added to ztagent.report/1 without changing the fields above (docs/schema/ztagent.report-1.schema.json).
  out += ",\"hostname\":" + json_quote(report.hostname);
  out += ",\"run\":{\"end\":" + json_quote(to_string(report.end)) +
         ",\"exit_code\":" + std::to_string(report.exit_code);
  if (report.end != RunEnd::completed) {
    out += ",\"reason\":" + json_quote(report.stop_reason) + ",\"error\":" + json_quote(report.stop_error);
  }
  out += "},\"waivers\":[";
  for (std::size_t i = 0; i < report.waivers.size(); ++i) {
    const WaiverReport& w = report.waivers[i];
    out += i == 0 ? "" : ",";
    out += "{\"check\":" + json_quote(w.check) + ",\"reason\":" + json_quote(w.reason);
    if (!w.expires.empty()) {
      out += ",\"expires\":" + json_quote(w.expires);
    }
    out += ",\"matched\":" + std::to_string(w.matched) + "}";
  }
  out += "]}\n";
  return out;
}

// ---- JUnit XML --------------------------------------------------------------------------------

std::string render_junit(const Report& report) {
  const std::vector<Suite> suites = junit_suites(report);
  std::vector<SuiteCounts> counts;
  SuiteCounts total;
  for (const Suite& suite : suites) {
    counts.push_back(count_suite(suite));
    total.tests += counts.back().tests;
    total.failures += counts.back().failures;
    total.errors += counts.back().errors;
  }
  const bool incomplete = report.end != RunEnd::completed;
  if (incomplete) {
    ++total.tests;
    ++total.errors;
  }
  std::vector<double> shares = suite_shares(counts, report.duration_s);

  const std::string host_attrs = " hostname=\"" + xml_escape(report.hostname.empty() ? "localhost" : report.hostname) +
                                 "\" timestamp=\"" + xml_escape(report.started_at) + "\"";
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"ztagent " + xml_escape(report.command) + "\" " +
         junit_counts(total, report.duration_s, false) + ">\n";
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const Suite& suite = suites[i];
    out += "  <testsuite name=\"" + xml_escape(suite.step) + "\" " + junit_counts(counts[i], shares[i], true) +
           host_attrs + ">\n";
    if (suite.failed_step != nullptr) {
      const StepReport& step = *suite.failed_step;
      out += "    <testcase classname=\"ztagent." + xml_escape(step.id) + "\" name=\"" +
             xml_escape(step.id) + ".apply\" time=\"" + format_seconds(step.duration_s) + "\">\n";
      out += "      <error message=\"" + xml_escape(one_line(step.error)) + "\" type=\"apply\"/>\n";
      out += "    </testcase>\n";
    }
    for (const CheckReport* check : suite.checks) {
      append_testcase(out, *check);
    }
    out += "  </testsuite>\n";
  }
  if (incomplete) {
    // The run did not finish (or never started): one errored testcase says so, so that a CI viewer
    // shows it red instead of a short green run.
    const std::string end(to_string(report.end));
    out += "  <testsuite name=\"ztagent\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" "
           "time=\"0.000000\"" + host_attrs + ">\n";
    out += "    <testcase classname=\"ztagent.run\" name=\"run\" time=\"0.000000\">\n";
    out += "      <error message=\"" + xml_escape(one_line(report.command + " " + end + ": " + report.stop_error)) +
           "\" type=\"" + xml_escape(report.stop_reason.empty() ? end : report.stop_reason) + "\"/>\n";
    out += "    </testcase>\n  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

// ---- text -------------------------------------------------------------------------------------

std::string render_text(const Report& report, Color color) {
  std::string out;
  out += "ztagent " + text_safe(report.command) + ": profile " + text_safe(report.profile) +
         ", root " + text_safe(report.root) + ", started " + text_safe(report.started_at) + "\n";

  if (!report.steps.empty()) {
    out += "\n";
    for (const StepReport& step : report.steps) {
      out += column(step_word(step.status), 13, step_color(step.status), color);
      out += text_safe(step.id) + " (" + format_fixed(step.duration_s, 3) + " s)\n";
      for (const provisioners::Change& change : step.changes) {
        out += "  - " + text_safe(change.target) + ": " + text_safe(change.summary) + "\n";
      }
      if (!step.error.empty() && step.status == StepStatus::failed) {
        out += "  error: " + text_safe(step.error) + "\n";
      } else if (!step.error.empty() && step.status == StepStatus::skipped) {
        out += "  reason: " + text_safe(step.error) + "\n";
      }
    }
  }

  if (!report.checks.empty()) {
    out += "\n";
    for (const CheckReport& check : report.checks) {
      if (check.waiver_reason) {
        out += column("WAIVED", 7, k_cyan, color) + text_safe(check.id) + ": " + text_safe(waiver_text(check)) + "\n";
        continue;
      }
      out += column(check_word(check.outcome), 6, check_color(check.outcome), color);
      out += text_safe(check.id);
      switch (check.outcome) {
      case checks::Outcome::pass: break;
      case checks::Outcome::skip:
        if (!check.actual.empty()) {
          out += ": " + text_safe(check.actual);
        }
        break;
      case checks::Outcome::fail:
      case checks::Outcome::error:
        out += ": expected " + or_empty(check.expected) + ", got " + or_empty(check.actual);
        break;
      }
      out += "\n";
      if (!check.fix.empty() &&
          (check.outcome == checks::Outcome::fail || check.outcome == checks::Outcome::error)) {
        out += "      fix: " + text_safe(check.fix) + "\n";
      }
    }
  }

  if (!report.waivers.empty()) {
    out += "\nactive waivers:\n";
    for (const WaiverReport& w : report.waivers) {
      out += "  " + text_safe(w.check) + (w.expires.empty() ? "" : " (until " + text_safe(w.expires) + ")") + ": " +
             text_safe(w.reason) + " [" + plural(w.matched, "check", "checks") + "]\n";
    }
  }
  if (report.end == RunEnd::stopped) {
    out += "\n" + text_safe(report.command) + " did not run: " + text_safe(report.stop_error) + "\n";
  } else if (report.end == RunEnd::interrupted) {
    out += "\n" + text_safe(report.command) + " was interrupted: " + text_safe(report.stop_error) +
           " (the results above are incomplete)\n";
  }

  // The last line: never colored, and always "N passed, N failed" so CI log scrapers can match it.
  const StepCounts steps = count_steps(report);
  const CheckCounts checks = count_checks(report);
  out += "\n";
  out += text_safe(report.command) + ": " + std::to_string(checks.pass) + " passed, " +
         std::to_string(checks.fail) + " failed, " + std::to_string(checks.skip) + " skipped, " +
         plural(checks.error, "error", "errors");
  if (checks.waived > 0) {
    out += ", " + std::to_string(checks.waived) + " waived";
  }
  out += "; steps: " + std::to_string(steps.changed) + " changed, " +
         std::to_string(steps.unchanged) + " unchanged";
  if (steps.would_change > 0 || report.command == "plan") {
    out += ", " + std::to_string(steps.would_change) + " would change";
  }
  if (steps.failed > 0) {
    out += ", " + std::to_string(steps.failed) + " failed";
  }
  if (steps.skipped > 0) {
    out += ", " + std::to_string(steps.skipped) + " skipped";
  }
  out += " (" + format_fixed(report.duration_s, 2) + " s)\n";
  return out;
}

} // namespace zt::report
