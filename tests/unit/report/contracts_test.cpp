// SPDX-License-Identifier: Apache-2.0
// The exit contracts of every output mode (README "Exit contracts"): how each format says that a run
// stopped early or was interrupted, and how each reports a waived check. The consumers themselves
// read these in tests/consumers/run-consumers.sh.
#include "report/report.hpp"

#include "support/catch.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using zt::checks::Outcome;
using zt::report::CheckReport;
using zt::report::Report;
using zt::report::RunEnd;

Report stopped(std::string reason, std::string error) {
  Report r;
  r.command = "verify";
  r.profile = "debian-12";
  r.root = "/";
  r.started_at = "2026-11-22T05:00:00Z";
  r.hostname = "h1";
  r.end = RunEnd::stopped;
  r.exit_code = 78;
  r.stop_reason = std::move(reason);
  r.stop_error = std::move(error);
  return r;
}

Report with_waived() {
  Report r;
  r.command = "verify";
  r.hostname = "h1";
  r.started_at = "2026-11-22T05:00:00Z";
  r.duration_s = 0.5;
  CheckReport failing{"runtime.http", "runtime", Outcome::fail, "HTTP 200", "connection refused", "fix it", 0.1, {}, {}};
  failing.waiver_reason = "no DNS in this lab";
  failing.waiver_expires = "2027-01-31";
  r.checks = {CheckReport{"user.account", "user", Outcome::pass, "x", "x", {}, 0.1, {}, {}}, failing};
  r.waivers = {{"runtime.*", "no DNS in this lab", "2027-01-31", 1}};
  return r;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

} // namespace

TEST_CASE("a stopped run says so in every format", "[report][contracts]") {
  const Report r = stopped("config", "/etc/ztagent/ztagent.toml:1:1: bad");
  const std::string json = zt::report::render_json(r);
  CHECK(json.find(R"("run":{"end":"stopped","exit_code":78,"reason":"config","error":"/etc/ztagent/ztagent.toml:1:1: bad"})") !=
        std::string::npos);
  CHECK(json.find(R"("hostname":"h1")") != std::string::npos);

  const std::string junit = zt::report::render_junit(r);
  CHECK(junit.find(R"(<testsuite name="ztagent" tests="1" failures="0" errors="1" skipped="0" time="0.000000" hostname="h1" timestamp="2026-11-22T05:00:00Z">)") !=
        std::string::npos);
  CHECK(junit.find(R"(<error message="verify stopped: /etc/ztagent/ztagent.toml:1:1: bad" type="config"/>)") !=
        std::string::npos);
  CHECK(junit.find(R"(<testsuites name="ztagent verify" tests="1" failures="0" errors="1" time=)") != std::string::npos);

  CHECK(zt::report::render_tap(r) == "TAP version 13\n1..1\nnot ok 1 - verify did not run\n  ---\n  reason: 'config'\n"
                                     "  error: '/etc/ztagent/ztagent.toml:1:1: bad'\n  ...\n");

  const std::string prom = zt::report::render_prometheus(r, 100, 50);
  CHECK(prom.find("\nztagent_up 0\n") != std::string::npos);
  CHECK(prom.find("\nztagent_run_stopped{reason=\"config\"} 1\n") != std::string::npos);
  CHECK(prom.find("\nztagent_exit_code 78\n") != std::string::npos);
  CHECK(prom.find("\nztagent_last_success_timestamp_seconds 50\n") != std::string::npos);
  CHECK(prom.find("ztagent_checks") == std::string::npos);  // nothing ran: no zero counts that read as "all fine"

  CHECK(zt::report::nagios_status(r) == 3);
  CHECK(zt::report::render_nagios(r) ==
        "ZTAGENT UNKNOWN - verify did not run: /etc/ztagent/ztagent.toml:1:1: bad | exit_code=78\n");
  CHECK(zt::report::render_text(r, zt::report::Color::no).find("\nverify did not run: /etc/ztagent/ztagent.toml:1:1: bad\n") !=
        std::string::npos);
}

TEST_CASE("an interrupted run keeps its results and is marked", "[report][contracts]") {
  Report r;
  r.command = "verify";
  r.checks = {CheckReport{"a", "s", Outcome::pass, "", "", {}, 0, {}, {}}};
  r.end = RunEnd::interrupted;
  r.exit_code = 130;
  r.stop_reason = "interrupted";
  r.stop_error = "SIGTERM received";
  const std::string tap = zt::report::render_tap(r);
  CHECK(tap.find("ok 1 - a\n") != std::string::npos);
  CHECK(tap.ends_with("Bail out! verify interrupted: SIGTERM received\n"));
  CHECK(zt::report::render_nagios(r).starts_with("ZTAGENT UNKNOWN - verify was interrupted: SIGTERM received | pass=1"));
  CHECK(zt::report::nagios_status(r) == 3);
  const std::string prom = zt::report::render_prometheus(r, 1, std::nullopt);
  CHECK(prom.find("\nztagent_up 0\n") != std::string::npos);
  CHECK(prom.find("ztagent_run_stopped{reason=\"interrupted\"} 1") != std::string::npos);
  CHECK(prom.find("ztagent_check_outcome{check=\"a\",step=\"s\",outcome=\"pass\"} 1") != std::string::npos);
  CHECK(zt::report::render_json(r).find(R"("run":{"end":"interrupted","exit_code":130,"reason":"interrupted")") !=
        std::string::npos);
  CHECK(zt::report::render_junit(r).find(R"(type="interrupted")") != std::string::npos);
}

TEST_CASE("a waived check is reported as waived, with its reason, in every format", "[report][contracts][waivers]") {
  const Report r = with_waived();
  const zt::report::CheckCounts counts = zt::report::count_checks(r);
  CHECK(counts.pass == 1);
  CHECK(counts.fail == 0);
  CHECK(counts.waived == 1);
  CHECK_FALSE(zt::report::any_unwaived_failure(r));

  CHECK(zt::report::nagios_status(r) == 0);  // not CRITICAL
  CHECK(zt::report::render_nagios(r) ==
        "ZTAGENT OK - 1 check passed (1 waived) | pass=1 fail=0 skip=0 error=0 waived=1 duration=0.5s\n");

  CHECK(zt::report::render_tap(r).find(
            "ok 2 - runtime.http # SKIP waived: no DNS in this lab (until 2027-01-31); measured fail\n") !=
        std::string::npos);

  const std::string prom = zt::report::render_prometheus(r, 1, std::nullopt);
  CHECK(prom.find("ztagent_check_outcome{check=\"runtime.http\",step=\"runtime\",outcome=\"waived\"} 1\n") !=
        std::string::npos);
  CHECK(prom.find("ztagent_check_outcome{check=\"runtime.http\",step=\"runtime\",outcome=\"fail\"} 0\n") !=
        std::string::npos);
  CHECK(prom.find("ztagent_checks{outcome=\"waived\"} 1\n") != std::string::npos);

  const std::string junit = zt::report::render_junit(r);
  CHECK(junit.find("<skipped message=\"waived: no DNS in this lab (until 2027-01-31); measured fail: expected HTTP "
                   "200, got connection refused\"/>") != std::string::npos);
  CHECK(count(junit, "<failure") == 0);

  const std::string json = zt::report::render_json(r);
  CHECK(json.find(R"("outcome":"fail","expected":"HTTP 200","actual":"connection refused","fix":"fix it","duration_s":0.1,"waived":{"reason":"no DNS in this lab","expires":"2027-01-31"}})") !=
        std::string::npos);
  CHECK(json.find(R"("waivers":[{"check":"runtime.*","reason":"no DNS in this lab","expires":"2027-01-31","matched":1}])") !=
        std::string::npos);
  CHECK(json.find(R"("checks":{"pass":1,"fail":0,"skip":0,"error":0,"waived":1})") != std::string::npos);

  const std::string text = zt::report::render_text(r, zt::report::Color::no);
  CHECK(text.find("WAIVED runtime.http: waived: no DNS in this lab (until 2027-01-31); measured fail") !=
        std::string::npos);
  CHECK(text.find("active waivers:\n  runtime.* (until 2027-01-31): no DNS in this lab [1 check]\n") != std::string::npos);
  CHECK(text.find("verify: 1 passed, 0 failed, 0 skipped, 0 errors, 1 waived;") != std::string::npos);
}

TEST_CASE("JUnit suite times add up to the wall time exactly", "[report][contracts][junit]") {
  Report r;
  r.command = "verify";
  r.duration_s = 0.1;  // checks ran concurrently: their serial sum (0.6 s) is six times the wall time
  for (int i = 0; i < 6; ++i) {
    const std::string step = "s" + std::to_string(i % 3);
    r.checks.push_back(CheckReport{step + ".c" + std::to_string(i), step, Outcome::pass, "", "", {}, 0.1, {}, {}});
  }
  const std::string junit = zt::report::render_junit(r);
  long total_us = 0;
  int suites = 0;
  for (std::size_t pos = junit.find("<testsuite "); pos != std::string::npos; pos = junit.find("<testsuite ", pos + 1)) {
    const std::size_t t = junit.find(" time=\"", pos) + 7;
    total_us += std::lround(std::strtod(junit.c_str() + t, nullptr) * 1e6);
    ++suites;
  }
  CHECK(suites == 3);
  CHECK(total_us == 100000);
  CHECK(junit.find("<testsuites name=\"ztagent verify\" tests=\"6\" failures=\"0\" errors=\"0\" time=\"0.100000\">") !=
        std::string::npos);
}
