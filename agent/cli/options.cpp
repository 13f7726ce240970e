// SPDX-License-Identifier: Apache-2.0
#include "cli/options.hpp"

#include "util/strings.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iterator>
#include <string_view>
#include <tuple>

namespace zt::cli {

const char* const k_help_text = R"(ztagent - provision and verify a rootless Podman host for ZTNet

Usage:
  ztagent provision [OPTIONS]   converge the host: for each step plan, apply, plan again
                                (must be empty), then run the checks of the steps it ran
  ztagent plan [OPTIONS]        show what provision would change; changes nothing
                                (same as provision --dry-run)
  ztagent verify [OPTIONS]      run every check read-only; never changes the host
                                (with --remediate: re-run the steps whose checks failed)
  ztagent drift [OPTIONS]       compare every file ztagent manages with the state recorded by
                                the last provision (/var/lib/ztagent/state.json) and run the
                                checks; names what changed ("content changed", "mode 0750 ->
                                0755", "ACL entry default:user:165605:rwx removed", "missing")
  ztagent explain CHECK-ID      what a check verifies, why it matters (with the source), its
                                current result and the fix
  ztagent list                  the steps of the profile in order, with their checks
  ztagent schedule install|remove
                                run `verify` periodically: a systemd timer (ztagent-verify.timer)
                                where systemd runs, else /etc/cron.d/ztagent; the schedule runs
                                this binary (under --root: /usr/bin/ztagent); remove deletes
                                exactly what install wrote
  ztagent profiles              list the shipped profiles
  ztagent help | --help         show this text
  ztagent --version             show the version

Options:
  -p, --profile NAME|FILE|auto  profile to use (default: auto, picked from /etc/os-release
                                of the target root); FILE is a path to a .toml profile
  -c, --config FILE             site config (default: ROOT/etc/ztagent/ztagent.toml if present)
      --set KEY=VALUE           override a site config key, e.g. --set service.user=ztnet or
                                --set ports.strategy=none (repeatable)
      --root DIR                operate on the image tree DIR instead of / ; live kernel state
                                is then reported as skipped
      --only STEP[,STEP..]      run only these steps (and only their checks)
      --skip STEP[,STEP..]      skip these steps (and their checks)
      --dry-run                 with provision: plan only, like `ztagent plan`
      --keep-going              go on with later steps after a step fails, and provision even
                                when a host file is corrupt or a blocking preflight check fails
      --allow-host-commands     under --root, allow commands that act on this machine
  -f, --format FORMAT           report format: text (default), json, junit, tap (TAP 13),
                                prometheus (node_exporter textfile) or nagios (one status
                                line; the exit code is then the Nagios status, see below)
  -o, --output FILE             write the report atomically to FILE instead of stdout
                                (- = stdout)
      --report FORMAT:FILE      also write a report in FORMAT atomically to FILE after the
                                run (repeatable), e.g. --report junit:/tmp/r.xml --report
                                prometheus:/var/lib/prometheus/node-exporter/ztagent.prom;
                                a prometheus FILE keeps ztagent_last_success_timestamp_seconds
                                across runs; a run that stops early writes ztagent_up 0
      --retry-timeout DURATION  retry failing runtime checks until they pass or DURATION
                                (e.g. 90s, 5m) has passed; services need a while after boot
                                (provision: default 2m, 0 = do not wait; verify: default 0)
      --remediate               with verify or drift: re-run (plan + apply) only the steps whose
                                checks failed or whose files drifted, record them, check again;
                                with schedule install: scheduled runs remediate
      --every DURATION          with schedule install: how often (default 15m; whole minutes,
                                1m to 24h)
  -j, --jobs N                  run file checks on N threads (default: 4); checks that wait on
                                podman or systemctl each get their own; -j 1: all in order
  -v, --verbose                 more log output on stderr (-vv for trace)
  -q, --quiet                   only errors on stderr
      --log-level LEVEL         trace, debug, info, warn, error or off
      --no-color                no colors (also when NO_COLOR is set or output is not a TTY)
      --log-target TARGET       stderr (default), syslog (the journal; adds one line per
                                failing check and drifted file), or auto (syslog when stderr is
                                not a TTY); scheduled runs use syslog

Steps (in profile order): preflight (checks only), packages, user, subids, data, linger, ports,
secrets, units, start, runtime (checks only). `ztagent list` shows them with their checks.

Exit codes:
  0   all checks passed; provision converged; plan succeeded
  1   a check failed or could not run, or a managed file drifted
  2   provision failed or a step did not converge (plan: planning failed;
      --remediate: a re-run step failed)
  64  usage error (explain: unknown check id)
  66  drift: no provision recorded (no /var/lib/ztagent/state.json) or it is unreadable
  70  internal error
  75  another ztagent run holds ROOT/run/ztagent.lock after 10 s (5 s with --format
      nagios; scheduled runs treat this as success)
  78  profile or site config invalid (nothing was changed)
  130 interrupted
With --format nagios every run prints one plugin line and exits with the Nagios status:
0 OK, 2 CRITICAL (a check or step failed), 3 UNKNOWN (checks could not run, interrupted, or
the run stopped early: usage 64, config 78, no state 66, lock busy 75, not root 2, ...);
1 WARNING is not used. Every other format reports a run that stopped early or was
interrupted as such (JSON run.end, JUnit/TAP an error, Prometheus ztagent_up 0).
)";

namespace {

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  for (auto part : util::split(text, ',')) {
    auto t = util::trim(part);
    if (!t.empty()) {
      out.emplace_back(t);
    }
  }
  return out;
}

// `--only "$STEPS"` with an unset variable must not silently mean "every step" (issue 13.14).
std::string empty_step_list(std::string_view option, const std::string& value) {
  return std::string(option) + " needs at least one step name (e.g. " + std::string(option) +
         " user,subids; `ztagent list` shows them), got '" + value + "'";
}

constexpr std::string_view k_formats = "text, json, junit, tap, prometheus, nagios";
constexpr std::string_view k_commands =
    "provision, plan, verify, drift, explain, list, schedule, profiles, help";

} // namespace

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") {
    return Format::text;
  }
  if (name == "json") {
    return Format::json;
  }
  if (name == "junit") {
    return Format::junit;
  }
  if (name == "tap") {
    return Format::tap;
  }
  if (name == "prometheus") {
    return Format::prometheus;
  }
  if (name == "nagios") {
    return Format::nagios;
  }
  return std::nullopt;
}

std::optional<LogTarget> parse_log_target(std::string_view name) {
  if (name == "stderr") {
    return LogTarget::stderr_stream;
  }
  if (name == "syslog") {
    return LogTarget::syslog;
  }
  if (name == "auto") {
    return LogTarget::automatic;
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  auto value = util::parse_uint(text.substr(0, digits));
  if (!value || *value > 1000000) {
    return std::nullopt;
  }
  auto unit = text.substr(digits);
  std::uint64_t ms = 0;
  if (unit.empty() || unit == "s") {
    ms = *value * 1000;
  } else if (unit == "ms") {
    ms = *value;
  } else if (unit == "m" || unit == "min") {
    ms = *value * 60'000;
  } else if (unit == "h") {
    ms = *value * 3'600'000;
  } else {
    return std::nullopt;
  }
  return std::chrono::milliseconds(ms);
}

namespace {

/// The long options that take a value, spelled with an empty one: "--only=".
constexpr std::string_view k_value_options[] = {
    "--profile=", "--config=", "--root=",  "--format=", "--output=",   "--retry-timeout=", "--jobs=",
    "--log-target=", "--every=", "--log-level=", "--set=", "--only=", "--skip=", "--report="};

/// The raw strings CLI11 collected; parse_options() checks them with ztagent's own messages.
struct RawOptions {
  std::vector<std::string> positionals;
  std::optional<std::string> profile, config, root, format, output, retry_timeout, jobs, log_target, every,
      log_level;
  std::vector<std::string> sets, only, skip, reports;
  bool help = false;
  bool version = false;
};

/// CLI11 2.1 (libcli11-dev, Debian 12) as the tokenizer: long and short options, "--name=value",
/// bundled short flags (-vv), repeatable options. Every value is taken as a string and checked
/// afterwards, so the messages and exit codes stay ztagent's.
void define(CLI::App& app, RawOptions& raw, Options& o) {
  app.set_help_flag();
  app.allow_extras();
  app.positionals_at_end(false);
  app.add_flag("-h,--help", raw.help);
  app.add_flag("--version", raw.version);
  auto single = [&](const char* names, std::optional<std::string>& target) {
    app.add_option_function<std::string>(names, [&target](const std::string& v) { target = v; })
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->allow_extra_args(false)
        ->expected(1);
  };
  auto repeated = [&](const char* names, std::vector<std::string>& target) {
    app.add_option_function<std::string>(names, [&target](const std::string& v) { target.push_back(v); })
        ->trigger_on_parse()
        ->allow_extra_args(false)
        ->expected(1);
  };
  single("-p,--profile", raw.profile);
  single("-c,--config", raw.config);
  single("--root", raw.root);
  single("-f,--format", raw.format);
  single("-o,--output", raw.output);
  single("--retry-timeout", raw.retry_timeout);
  single("-j,--jobs", raw.jobs);
  single("--log-target", raw.log_target);
  single("--every", raw.every);
  single("--log-level", raw.log_level);
  repeated("--set", raw.sets);
  repeated("--only", raw.only);
  repeated("--skip", raw.skip);
  repeated("--report", raw.reports);
  app.add_flag("--dry-run", o.dry_run);
  app.add_flag("--keep-going", o.keep_going);
  app.add_flag("--allow-host-commands", o.allow_host_commands);
  app.add_flag("--no-color", o.no_color);
  app.add_flag("--remediate", o.remediate);
  // In argv order: -q after -v is quiet, -v after -q is verbose, -v -v (or -vv) is trace.
  app.add_flag_callback("-v,--verbose", [&o] { o.verbosity = std::min(std::max(o.verbosity, 0) + 1, 2); })
      ->trigger_on_parse();
  app.add_flag_callback("-q,--quiet", [&o] { o.verbosity = -1; })->trigger_on_parse();
  app.add_option("command", raw.positionals);
}

/// "--report: 1 required TEXT missing" -> "--report".
std::string option_name_of(const CLI::Error& e) {
  std::string what = e.what();
  return what.substr(0, what.find(':'));
}

Result<void> check_values(const RawOptions& raw, Options& o) {
  if (raw.profile) {
    o.profile = *raw.profile;
  }
  o.config = raw.config;
  if (raw.root) {
    o.root = *raw.root;
  }
  o.output = raw.output;
  for (const auto& v : raw.sets) {
    if (v.find('=') == std::string::npos) {
      return make_error(Errc::invalid_config, "--set needs KEY=VALUE, got '" + v + "'");
    }
    o.sets.push_back(v);
  }
  for (const auto& [option, values, target] :
       {std::tuple{"--only", &raw.only, &o.only}, std::tuple{"--skip", &raw.skip, &o.skip}}) {
    for (const auto& v : *values) {
      auto l = split_list(v);
      if (l.empty()) {
        return make_error(Errc::invalid_config, empty_step_list(option, v));
      }
      target->insert(target->end(), l.begin(), l.end());
    }
  }
  if (raw.format) {
    auto f = parse_format(*raw.format);
    if (!f) {
      return make_error(Errc::invalid_config,
                        "unknown format '" + *raw.format + "' (formats: " + std::string(k_formats) + ")");
    }
    o.format = *f;
  }
  for (const auto& v : raw.reports) {
    const std::size_t colon = v.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) {
      return make_error(Errc::invalid_config, "--report needs FORMAT:FILE, got '" + v + "'");
    }
    auto f = parse_format(std::string_view(v).substr(0, colon));
    if (!f) {
      return make_error(Errc::invalid_config, "--report " + v + ": unknown format '" + v.substr(0, colon) +
                                                  "' (formats: " + std::string(k_formats) + ")");
    }
    o.reports.push_back(ReportTarget{*f, v.substr(colon + 1)});
  }
  if (raw.retry_timeout) {
    auto d = parse_duration(*raw.retry_timeout);
    if (!d) {
      return make_error(Errc::invalid_config, "invalid duration '" + *raw.retry_timeout +
                                                  "' for --retry-timeout (examples: 90s, 5m, 1h)");
    }
    o.retry_timeout = *d;
    o.retry_timeout_set = true;
  }
  if (raw.jobs) {
    auto n = util::parse_uint(*raw.jobs);
    if (!n || *n == 0 || *n > 64) {
      return make_error(Errc::invalid_config, "--jobs needs a number from 1 to 64, got '" + *raw.jobs + "'");
    }
    o.jobs = static_cast<unsigned>(*n);
  }
  if (raw.log_target) {
    auto t = parse_log_target(*raw.log_target);
    if (!t) {
      return make_error(Errc::invalid_config,
                        "unknown log target '" + *raw.log_target + "' (targets: stderr, syslog, auto)");
    }
    o.log_target = *t;
  }
  if (raw.every) {
    auto d = parse_duration(*raw.every);
    if (!d || d->count() % 60'000 != 0 || *d < std::chrono::minutes(1) || *d > std::chrono::hours(24)) {
      return make_error(Errc::invalid_config,
                        "--every needs whole minutes from 1m to 24h (e.g. 15m, 1h), got '" + *raw.every + "'");
    }
    o.every = std::chrono::duration_cast<std::chrono::minutes>(*d);
  }
  if (raw.log_level) {
    static const char* const k_levels[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::find(std::begin(k_levels), std::end(k_levels), *raw.log_level) == std::end(k_levels)) {
      return make_error(Errc::invalid_config, "unknown log level '" + *raw.log_level +
                                                  "' (levels: trace, debug, info, warn, error, off)");
    }
    o.log_level = *raw.log_level;
  }
  return {};
}

/// The command and its arguments: "verify", "explain CHECK-ID", "schedule install|remove".
Result<bool> take_positionals(const std::vector<std::string>& positionals, Options& o) {
  bool have_verb = false;
  bool have_action = false;
  for (const auto& a : positionals) {
    if (have_verb) {
      if (o.verb == Verb::explain && o.explain_id.empty()) {
        o.explain_id = a;
        continue;
      }
      if (o.verb == Verb::schedule && !have_action) {
        if (a == "install") {
          o.schedule_action = ScheduleAction::install;
        } else if (a == "remove") {
          o.schedule_action = ScheduleAction::remove;
        } else {
          return make_error(Errc::invalid_config, "unknown schedule action '" + a + "' (install or remove)");
        }
        have_action = true;
        continue;
      }
      return make_error(Errc::invalid_config, "unexpected argument '" + a + "'");
    }
    have_verb = true;
    if (a == "provision") {
      o.verb = Verb::provision;
    } else if (a == "plan") {
      o.verb = Verb::plan;
    } else if (a == "verify" || a == "check") {
      o.verb = Verb::verify;
    } else if (a == "drift") {
      o.verb = Verb::drift;
    } else if (a == "explain") {
      o.verb = Verb::explain;
    } else if (a == "list") {
      o.verb = Verb::list;
    } else if (a == "schedule") {
      o.verb = Verb::schedule;
    } else if (a == "profiles") {
      o.verb = Verb::profiles;
    } else {
      return make_error(Errc::invalid_config,
                        "unknown command '" + a + "' (commands: " + std::string(k_commands) + ")");
    }
  }
  if (!have_verb) {
    return make_error(Errc::invalid_config, "no command given (commands: " + std::string(k_commands) + ")");
  }
  if (o.verb == Verb::explain && o.explain_id.empty()) {
    return make_error(
        Errc::invalid_config,
        "explain needs a check id, e.g. `ztagent explain subids.subuid-range` (`ztagent list` shows them)");
  }
  if (o.verb == Verb::schedule && !have_action) {
    return make_error(Errc::invalid_config, "schedule needs an action: install or remove");
  }
  return have_action;
}

} // namespace

Result<Options> parse_options(const std::vector<std::string>& args) {
  Options o;
  RawOptions raw;
  CLI::App app{"ztagent"};
  define(app, raw, o);
  // CLI11 takes argv back to front, and reads "--only=" as a missing value: ztagent reads it as an
  // empty one ("--only ''"), which gets the empty-list message.
  std::vector<std::string> reversed;
  reversed.reserve(args.size() + 1);
  for (auto it = args.rbegin(); it != args.rend(); ++it) {
    if (std::ranges::find(k_value_options, std::string_view(*it)) != std::end(k_value_options)) {
      reversed.emplace_back();
      reversed.push_back(it->substr(0, it->size() - 1));
    } else {
      reversed.push_back(*it);
    }
  }
  try {
    app.parse(reversed);
  } catch (const CLI::ArgumentMismatch& e) {
    return make_error(Errc::invalid_config, "option '" + option_name_of(e) + "' needs a value");
  } catch (const CLI::ParseError& e) {
    return make_error(Errc::invalid_config, e.what());
  }
  const bool help_word = std::ranges::find(raw.positionals, "help") != raw.positionals.end();
  if (raw.help || help_word) {
    o.verb = Verb::help;
    return o;
  }
  if (raw.version) {
    o.verb = Verb::version;
    return o;
  }
  for (const auto& extra : app.remaining()) {
    if (!extra.empty() && extra[0] == '-') {
      return make_error(Errc::invalid_config, "unknown option '" + extra + "'");
    }
    raw.positionals.push_back(extra);
  }
  ZT_TRY(check_values(raw, o));
  ZT_TRY_ASSIGN(have_action, take_positionals(raw.positionals, o));
  const bool schedule_install = o.verb == Verb::schedule && have_action &&
                                o.schedule_action == ScheduleAction::install;
  if (o.remediate && o.verb != Verb::verify && o.verb != Verb::drift && !schedule_install) {
    return make_error(Errc::invalid_config, "--remediate goes with verify, drift or schedule install");
  }
  if (raw.every && !schedule_install) {
    return make_error(Errc::invalid_config, "--every goes with schedule install");
  }
  if (o.dry_run && o.verb == Verb::provision) {
    o.verb = Verb::plan;
  } else if (o.dry_run && o.verb != Verb::plan) {
    return make_error(Errc::invalid_config, "--dry-run goes with provision");
  }
  if (o.retry_timeout_set && o.verb != Verb::verify && o.verb != Verb::drift && o.verb != Verb::provision) {
    return make_error(Errc::invalid_config, "--retry-timeout goes with provision, verify or drift");
  }
  if (o.verb == Verb::provision && !o.retry_timeout_set) {
    // A stack that was just started needs a while until its health checks pass: provision waits
    // for the runtime checks instead of failing them in the first second (0 = do not wait).
    o.retry_timeout = std::chrono::minutes(2);
  }
  if (o.root.empty()) {
    return make_error(Errc::invalid_config, "--root needs a directory");
  }
  return o;
}

} // namespace zt::cli
