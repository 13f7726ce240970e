// SPDX-License-Identifier: Apache-2.0
#include "cli/options.hpp"
#include "support/catch.hpp"

using zt::cli::Format;
using zt::cli::parse_options;
using zt::cli::Verb;

TEST_CASE("Options: verbs and options", "[cli][options]") {
  auto o = parse_options({"provision", "--profile", "debian-12", "--root=/img", "--set", "service.user=bob",
                          "--only", "user,subids", "--skip", "ports", "-f", "json", "-o", "r.json",
                          "--keep-going"});
  REQUIRE(o);
  CHECK(o->verb == Verb::provision);
  CHECK(o->profile == "debian-12");
  CHECK(o->root == "/img");
  CHECK(o->sets == std::vector<std::string>{"service.user=bob"});
  CHECK(o->only == std::vector<std::string>{"user", "subids"});
  CHECK(o->skip == std::vector<std::string>{"ports"});
  CHECK(o->format == Format::json);
  CHECK(o->output == std::optional<std::string>("r.json"));
  CHECK(o->keep_going);

  auto dry = parse_options({"provision", "--dry-run"});
  REQUIRE(dry);
  CHECK(dry->verb == Verb::plan);
  auto v = parse_options({"verify", "--format", "junit", "--retry-timeout", "90s"});
  REQUIRE(v);
  CHECK(v->verb == Verb::verify);
  CHECK(v->format == Format::junit);
  CHECK(v->retry_timeout == std::chrono::milliseconds(90000));
  CHECK(parse_options({"--help"})->verb == Verb::help);
  CHECK(parse_options({"--version"})->verb == Verb::version);
  CHECK(parse_options({"profiles"})->verb == Verb::profiles);
}

TEST_CASE("Options: usage errors name the problem", "[cli][options]") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{},
       "no command given (commands: provision, plan, verify, drift, explain, list, schedule, profiles, "
       "help)"},
      {{"frobnicate"},
       "unknown command 'frobnicate' (commands: provision, plan, verify, drift, explain, list, schedule, "
       "profiles, help)"},
      {{"verify", "--frobnicate"}, "unknown option '--frobnicate'"},
      {{"verify", "--format", "xml"},
       "unknown format 'xml' (formats: text, json, junit, tap, prometheus, nagios)"},
      {{"verify", "--report", "junit"}, "--report needs FORMAT:FILE, got 'junit'"},
      {{"verify", "--report", ":r.xml"}, "--report needs FORMAT:FILE, got ':r.xml'"},
      {{"verify", "--report=tap:"}, "--report needs FORMAT:FILE, got 'tap:'"},
      {{"verify", "--report", "xml:/tmp/r.xml"},
       "--report xml:/tmp/r.xml: unknown format 'xml' (formats: text, json, junit, tap, prometheus, nagios)"},
      {{"verify", "--report"}, "option '--report' needs a value"},
      {{"verify", "--profile"}, "option '--profile' needs a value"},
      {{"verify", "--set", "novalue"}, "--set needs KEY=VALUE, got 'novalue'"},
      {{"verify", "--retry-timeout", "soon"},
       "invalid duration 'soon' for --retry-timeout (examples: 90s, 5m, 1h)"},
      {{"plan", "--retry-timeout", "5m"}, "--retry-timeout goes with provision, verify or drift"},
      {{"verify", "--dry-run"}, "--dry-run goes with provision"},
      {{"verify", "--jobs", "0"}, "--jobs needs a number from 1 to 64, got '0'"},
      {{"verify", "--log-level", "loud"},
       "unknown log level 'loud' (levels: trace, debug, info, warn, error, off)"},
      {{"verify", "plan"}, "unexpected argument 'plan'"},
      {{"explain"},
       "explain needs a check id, e.g. `ztagent explain subids.subuid-range` (`ztagent list` shows them)"},
      {{"explain", "a.b", "c.d"}, "unexpected argument 'c.d'"},
      {{"schedule"}, "schedule needs an action: install or remove"},
      {{"schedule", "start"}, "unknown schedule action 'start' (install or remove)"},
      {{"schedule", "remove", "--every", "5m"}, "--every goes with schedule install"},
      {{"verify", "--every", "5m"}, "--every goes with schedule install"},
      {{"schedule", "install", "--every", "90s"},
       "--every needs whole minutes from 1m to 24h (e.g. 15m, 1h), got '90s'"},
      {{"schedule", "install", "--every", "25h"},
       "--every needs whole minutes from 1m to 24h (e.g. 15m, 1h), got '25h'"},
      {{"provision", "--remediate"}, "--remediate goes with verify, drift or schedule install"},
      {{"verify", "--log-target", "file"}, "unknown log target 'file' (targets: stderr, syslog, auto)"},
      {{"provision", "--only", ""},
       "--only needs at least one step name (e.g. --only user,subids; `ztagent list` shows them), got ''"},
      {{"provision", "--only", " , "},
       "--only needs at least one step name (e.g. --only user,subids; `ztagent list` shows them), got ' , '"},
      {{"verify", "--skip="},
       "--skip needs at least one step name (e.g. --skip user,subids; `ztagent list` shows them), got ''"},
      {{"verify", "--only", "user", "--skip", " "},
       "--skip needs at least one step name (e.g. --skip user,subids; `ztagent list` shows them), got ' '"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    auto o = parse_options(c.args);
    REQUIRE_FALSE(o);
    CHECK(o.error().message == c.message);
  }
}

TEST_CASE("Options: monitoring formats and repeatable --report", "[cli][options]") {
  using zt::cli::ReportTarget;
  auto o = parse_options({"verify", "--format", "nagios", "--report", "junit:/tmp/r.xml",
                          "--report=prometheus:"
                          "/var/lib/prometheus/node-exporter/ztagent.prom",
                          "--report", "tap:out:1.tap"});
  REQUIRE(o);
  CHECK(o->format == Format::nagios);
  CHECK(o->reports == std::vector<ReportTarget>{
                          {Format::junit, "/tmp/r.xml"},
                          {Format::prometheus, "/var/lib/prometheus/node-exporter/ztagent.prom"},
                          {Format::tap, "out:1.tap"}});
  CHECK(parse_options({"verify"})->reports.empty());

  const std::pair<std::string, Format> names[] = {{"text", Format::text},
                                                  {"json", Format::json},
                                                  {"junit", Format::junit},
                                                  {"tap", Format::tap},
                                                  {"prometheus", Format::prometheus},
                                                  {"nagios", Format::nagios}};
  for (const auto& [name, format] : names) {
    INFO(name);
    CHECK(zt::cli::parse_format(name) == format);
    CHECK(parse_options({"verify", "-f", name})->format == format);
  }
  CHECK(zt::cli::parse_format("TAP") == std::nullopt);
  CHECK(zt::cli::parse_format("") == std::nullopt);
}

TEST_CASE("Options: durations", "[cli][options]") {
  using std::chrono::milliseconds;
  CHECK(zt::cli::parse_duration("90s") == milliseconds(90000));
  CHECK(zt::cli::parse_duration("5m") == milliseconds(300000));
  CHECK(zt::cli::parse_duration("1h") == milliseconds(3600000));
  CHECK(zt::cli::parse_duration("250ms") == milliseconds(250));
  CHECK(zt::cli::parse_duration("30") == milliseconds(30000));
  CHECK_FALSE(zt::cli::parse_duration("-1s"));
  CHECK_FALSE(zt::cli::parse_duration("5 m"));
  CHECK_FALSE(zt::cli::parse_duration(""));
}

TEST_CASE("Options: provision waits 2m for runtime checks unless told otherwise", "[cli][options]") {
  using std::chrono::milliseconds;
  auto provision = parse_options({"provision"});
  REQUIRE(provision);
  CHECK(provision->retry_timeout == milliseconds(120000));
  auto no_wait = parse_options({"provision", "--retry-timeout", "0"});
  REQUIRE(no_wait);
  CHECK(no_wait->retry_timeout == milliseconds(0));
  auto longer = parse_options({"provision", "--retry-timeout", "5m"});
  REQUIRE(longer);
  CHECK(longer->retry_timeout == milliseconds(300000));
  auto verify = parse_options({"verify"});
  REQUIRE(verify);
  CHECK(verify->retry_timeout == milliseconds(0));
}

TEST_CASE("Options: day-2 commands (drift, explain, list, schedule)", "[cli][options]") {
  using zt::cli::LogTarget;
  using zt::cli::ScheduleAction;
  auto d = parse_options({"drift", "--remediate", "--log-target", "syslog"});
  REQUIRE(d);
  CHECK(d->verb == Verb::drift);
  CHECK(d->remediate);
  CHECK(d->log_target == LogTarget::syslog);
  auto v = parse_options({"verify", "--remediate", "--log-target=auto"});
  REQUIRE(v);
  CHECK(v->remediate);
  CHECK(v->log_target == LogTarget::automatic);
  CHECK(parse_options({"verify"})->log_target == LogTarget::stderr_stream);
  auto e = parse_options({"explain", "data.zerotier.mode", "--profile", "debian-12"});
  REQUIRE(e);
  CHECK(e->verb == Verb::explain);
  CHECK(e->explain_id == "data.zerotier.mode");
  CHECK(e->profile == "debian-12");
  CHECK(parse_options({"list"})->verb == Verb::list);
  auto s = parse_options({"schedule", "install", "--every", "1h", "--remediate"});
  REQUIRE(s);
  CHECK(s->verb == Verb::schedule);
  CHECK(s->schedule_action == ScheduleAction::install);
  CHECK(s->every == std::chrono::minutes(60));
  CHECK(s->remediate);
  auto r = parse_options({"schedule", "remove"});
  REQUIRE(r);
  CHECK(r->schedule_action == ScheduleAction::remove);
  CHECK(r->every == std::chrono::minutes(15));
}
