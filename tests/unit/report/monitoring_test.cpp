// SPDX-License-Identifier: Apache-2.0
#include "report/report.hpp"

#include "representative.hpp"
#include "support/catch.hpp"

#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

// Golden files: tests/data/report/representative.{tap,prom,nagios}, rendered from the same report as
// report_test.cpp (regenerate with ZTAGENT_UPDATE_GOLDEN=1, then review the diff).

namespace {

using zt::checks::Outcome;
using zt::report::CheckReport;
using zt::report::Report;
using zt::report::StepReport;
using zt::report::StepStatus;
using zt::test::check_golden;
using zt::test::representative_report;

constexpr double k_now = 1795410000.25;  // 2026-11-22T...; any fixed instant

Report with_checks(std::vector<CheckReport> checks, std::vector<StepReport> steps = {}) {
  Report report;
  report.command = "verify";
  report.duration_s = 0.031;
  report.checks = std::move(checks);
  report.steps = std::move(steps);
  return report;
}

CheckReport check(std::string id, Outcome outcome) {
  return CheckReport{std::move(id), "step", outcome, "e", "a", {}, 0, {}, {}};
}

} // namespace

// ---- golden files -----------------------------------------------------------------------------

TEST_CASE("render_tap matches the golden file", "[report][monitoring][tap]") {
  check_golden("representative.tap", zt::report::render_tap(representative_report()));
}

TEST_CASE("render_prometheus matches the golden file", "[report][monitoring][prometheus]") {
  check_golden("representative.prom",
               zt::report::render_prometheus(representative_report(), k_now, 1795400000.0));
}

TEST_CASE("render_nagios matches the golden file", "[report][monitoring][nagios]") {
  const std::string line = zt::report::render_nagios(representative_report());
  CHECK(line.find('\n') == line.size() - 1);
  check_golden("representative.nagios", line);
}

// ---- TAP --------------------------------------------------------------------------------------

TEST_CASE("render_tap: exact small outputs", "[report][monitoring][tap]") {
  CHECK(zt::report::render_tap(Report{}) == "TAP version 13\n1..0\n");

  CheckReport failing = check("a#b\\c", Outcome::fail);
  failing.actual = "it's\nbroken";
  CheckReport skipped = check("s", Outcome::skip);
  skipped.actual = "no kernel # here";
  const Report report = with_checks({check("p", Outcome::pass), failing, skipped},
                                    {StepReport{"users", StepStatus::failed, {}, 0, "useradd: 'x'\n"}});
  CHECK(zt::report::render_tap(report) == "TAP version 13\n"
                                          "1..4\n"
                                          "ok 1 - p\n"
                                          "not ok 2 - a\\#b\\\\c\n"
                                          "  ---\n"
                                          "  outcome: fail\n"
                                          "  expected: 'e'\n"
                                          "  actual: 'it''s\\nbroken'\n"
                                          "  ...\n"
                                          "ok 3 - s # SKIP no kernel \\# here\n"
                                          "not ok 4 - users.apply\n"
                                          "  ---\n"
                                          "  error: 'useradd: ''x''\\n'\n"
                                          "  ...\n");
}

TEST_CASE("yaml_quote keeps one line of valid UTF-8", "[report][monitoring][tap]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", "''"},
      {"plain", "'plain'"},
      {"it's", "'it''s'"},
      {"''", "''''''"},
      {"a\nb\tc\rd", "'a\\nb\\tc\\rd'"},
      {"esc\x1b[0m", "'esc\\x1b[0m'"},
      {"\"double\" \\ back", "'\"double\" \\ back'"},
      {"Gr\xC3\xBC\xC3\x9F" "e", "'Gr\xC3\xBC\xC3\x9F" "e'"},
      {"bad\xFF", "'bad\xEF\xBF\xBD'"},
      {"c1\xC2\x9B", "'c1\\u009b'"},
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::yaml_quote(input) == expected);
  }
}

// ---- Prometheus -------------------------------------------------------------------------------

TEST_CASE("prometheus_label_escape follows the exposition format", "[report][monitoring][prometheus]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", ""},
      {"data.zerotier.mode", "data.zerotier.mode"},
      {"say \"hi\"", "say \\\"hi\\\""},
      {"C:\\dir", "C:\\\\dir"},
      {"a\nb", "a\\nb"},
      {"tab\tkept", "tab\tkept"},
      {"{x=\"y\"}", "{x=\\\"y\\\"}"},
      {"Gr\xC3\xBC\xC3\x9F" "e", "Gr\xC3\xBC\xC3\x9F" "e"},
      {"bad\xFF", "bad\xEF\xBF\xBD"},
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::prometheus_label_escape(input) == expected);
  }
}

TEST_CASE("render_prometheus: every outcome series per check, escaped labels", "[report][monitoring][prometheus]") {
  Report report = with_checks({CheckReport{"odd\"id\\\n", "st", Outcome::skip, "", "", {}, 0, {}, {}}});
  report.duration_s = 1.5;
  const std::string text = zt::report::render_prometheus(report, 100, std::nullopt);
  CHECK(text ==
        "# HELP ztagent_check_outcome Outcome of each ztagent check in the last run: 1 for the current outcome, "
        "0 for the others.\n"
        "# TYPE ztagent_check_outcome gauge\n"
        "ztagent_check_outcome{check=\"odd\\\"id\\\\\\n\",step=\"st\",outcome=\"pass\"} 0\n"
        "ztagent_check_outcome{check=\"odd\\\"id\\\\\\n\",step=\"st\",outcome=\"fail\"} 0\n"
        "ztagent_check_outcome{check=\"odd\\\"id\\\\\\n\",step=\"st\",outcome=\"skip\"} 1\n"
        "ztagent_check_outcome{check=\"odd\\\"id\\\\\\n\",step=\"st\",outcome=\"error\"} 0\n"
        "ztagent_check_outcome{check=\"odd\\\"id\\\\\\n\",step=\"st\",outcome=\"waived\"} 0\n"
        "# HELP ztagent_checks Number of ztagent checks in the last run by outcome.\n"
        "# TYPE ztagent_checks gauge\n"
        "ztagent_checks{outcome=\"pass\"} 0\n"
        "ztagent_checks{outcome=\"fail\"} 0\n"
        "ztagent_checks{outcome=\"skip\"} 1\n"
        "ztagent_checks{outcome=\"error\"} 0\n"
        "ztagent_checks{outcome=\"waived\"} 0\n"
        "# HELP ztagent_steps Number of ztagent steps in the last run by status.\n"
        "# TYPE ztagent_steps gauge\n"
        "ztagent_steps{status=\"changed\"} 0\n"
        "ztagent_steps{status=\"unchanged\"} 0\n"
        "ztagent_steps{status=\"would_change\"} 0\n"
        "ztagent_steps{status=\"failed\"} 0\n"
        "ztagent_steps{status=\"skipped\"} 0\n"
        "# HELP ztagent_run_duration_seconds Wall time of the last ztagent run.\n"
        "# TYPE ztagent_run_duration_seconds gauge\n"
        "ztagent_run_duration_seconds 1.5\n"
        "# HELP ztagent_run_timestamp_seconds Unix time the last ztagent run wrote this file.\n"
        "# TYPE ztagent_run_timestamp_seconds gauge\n"
        "ztagent_run_timestamp_seconds 100\n"
        "# HELP ztagent_exit_code Exit code of the last ztagent run.\n"
        "# TYPE ztagent_exit_code gauge\n"
        "ztagent_exit_code 0\n"
        "# HELP ztagent_up 1 when the last ztagent run ran to the end, 0 when it stopped early or was "
        "interrupted.\n"
        "# TYPE ztagent_up gauge\n"
        "ztagent_up 1\n");
  // Without checks there is no ztagent_check_outcome family at all (no HELP without samples).
  const std::string empty = zt::report::render_prometheus(Report{}, 100, 50);
  CHECK(empty.find("ztagent_check_outcome") == std::string::npos);
  CHECK(empty.find("\nztagent_last_success_timestamp_seconds 50\n") != std::string::npos);
}

TEST_CASE("parse_last_success reads back what render_prometheus wrote", "[report][monitoring][prometheus]") {
  const Report report = representative_report();
  CHECK(zt::report::parse_last_success(zt::report::render_prometheus(report, k_now, 1795400000.5)) ==
        1795400000.5);
  CHECK(zt::report::parse_last_success(zt::report::render_prometheus(report, k_now, std::nullopt)) ==
        std::nullopt);

  const std::vector<std::pair<std::string, std::optional<double>>> table = {
      {"", std::nullopt},
      {"ztagent_last_success_timestamp_seconds 1700000000\n", 1700000000.0},
      {"ztagent_last_success_timestamp_seconds 1700000000.25", 1700000000.25},
      {"ztagent_last_success_timestamp_seconds\t12 1700000000000\n", 12.0},  // with a sample timestamp
      {"ztagent_last_success_timestamp_seconds{} 7\r\n", 7.0},
      {"# HELP ztagent_last_success_timestamp_seconds x\nztagent_up 1\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds_total 5\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds{host=\"a\"} 5\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds abc\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds 12abc\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds -1\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds NaN\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds +Inf\n", std::nullopt},
      {"ztagent_last_success_timestamp_seconds \n", std::nullopt},
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::parse_last_success(input) == expected);
  }
}

// ---- Nagios -----------------------------------------------------------------------------------

TEST_CASE("nagios_status: CRITICAL on failures, UNKNOWN on errors only, OK otherwise",
          "[report][monitoring][nagios]") {
  const StepReport failed_step{"users", StepStatus::failed, {}, 0, "x"};
  const StepReport changed_step{"users", StepStatus::changed, {}, 0, {}};
  struct Case {
    Report report;
    int status;
  };
  const std::vector<Case> cases = {
      {Report{}, 0},
      {with_checks({check("a", Outcome::pass)}), 0},
      {with_checks({check("a", Outcome::skip)}), 0},
      {with_checks({check("a", Outcome::pass)}, {changed_step}), 0},
      {with_checks({check("a", Outcome::fail)}), 2},
      {with_checks({check("a", Outcome::error)}), 3},
      {with_checks({check("a", Outcome::error), check("b", Outcome::fail)}), 2},
      {with_checks({check("a", Outcome::pass)}, {failed_step}), 2},
      {with_checks({check("a", Outcome::error)}, {failed_step}), 2},
      {representative_report(), 2},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    CHECK(zt::report::nagios_status(cases[i].report) == cases[i].status);
  }
}

TEST_CASE("render_nagios: exact status lines", "[report][monitoring][nagios]") {
  std::vector<CheckReport> passing(42, check("ok", Outcome::pass));
  for (int i = 0; i < 5; ++i) {
    passing.push_back(check("s", Outcome::skip));
  }
  CHECK(zt::report::render_nagios(with_checks(passing)) ==
        "ZTAGENT OK - 42 checks passed | pass=42 fail=0 skip=5 error=0 waived=0 duration=0.031s\n");
  CHECK(zt::report::render_nagios(with_checks({check("a", Outcome::pass)})) ==
        "ZTAGENT OK - 1 check passed | pass=1 fail=0 skip=0 error=0 waived=0 duration=0.031s\n");

  std::vector<CheckReport> one_failing(47, check("ok", Outcome::pass));
  one_failing.push_back(check("data.zerotier.mode", Outcome::fail));
  CHECK(zt::report::render_nagios(with_checks(one_failing)) ==
        "ZTAGENT CRITICAL - 1 of 48 checks failed: data.zerotier.mode | pass=47 fail=1 skip=0 error=0 waived=0 "
        "duration=0.031s\n");

  std::vector<CheckReport> many;
  for (int i = 1; i <= 8; ++i) {
    many.push_back(check("c" + std::to_string(i), Outcome::fail));
  }
  many.push_back(check("pipe|and\nnewline", Outcome::fail));
  CHECK(zt::report::render_nagios(with_checks(many, {StepReport{"users", StepStatus::failed, {}, 0, "x"}})) ==
        "ZTAGENT CRITICAL - 9 of 9 checks failed: c1, c2, c3, c4, c5 and 4 more; 1 step failed: users | "
        "pass=0 fail=9 skip=0 error=0 waived=0 duration=0.031s\n");

  CHECK(zt::report::render_nagios(with_checks({check("pipe|and\nnewline", Outcome::fail)})) ==
        "ZTAGENT CRITICAL - 1 of 1 check failed: pipe/and\\nnewline | pass=0 fail=1 skip=0 error=0 waived=0 "
        "duration=0.031s\n");
  CHECK(zt::report::render_nagios(with_checks({}, {StepReport{"a", StepStatus::failed, {}, 0, "x"},
                                                  StepReport{"b", StepStatus::failed, {}, 0, "y"}})) ==
        "ZTAGENT CRITICAL - 2 steps failed: a, b | pass=0 fail=0 skip=0 error=0 waived=0 duration=0.031s\n");
  CHECK(zt::report::render_nagios(with_checks({check("p", Outcome::pass), check("linger.enabled", Outcome::error)})) ==
        "ZTAGENT UNKNOWN - 1 of 2 checks could not run: linger.enabled | pass=1 fail=0 skip=0 error=1 waived=0 "
        "duration=0.031s\n");
}
