// SPDX-License-Identifier: Apache-2.0
#include "cli/options.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

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
  -f, --format FORMAT           report format: text (default), json, junit, tap (TAP 14),
                                prometheus (node_exporter textfile) or nagios (one status
                                line; the exit code is then the Nagios status, see below)
  -o, --output FILE             write the report atomically to FILE instead of stdout
      --report FORMAT:FILE      also write a report in FORMAT atomically to FILE after the
                                run (repeatable), e.g. --report junit:/tmp/r.xml --report
                                prometheus:/var/lib/node_exporter/textfile_collector/ztagent.prom;
                                a prometheus FILE keeps ztagent_last_success_timestamp_seconds
                                across runs
      --retry-timeout DURATION  retry failing runtime checks until they pass or DURATION
                                (e.g. 90s, 5m) has passed; services need a while after boot
                                (provision: default 2m, 0 = do not wait; verify: default 0)
      --remediate               with verify or drift: re-run (plan + apply) only the steps whose
                                checks failed or whose files drifted, record them, check again;
                                with schedule install: scheduled runs remediate
      --every DURATION          with schedule install: how often (default 15m; whole minutes,
                                1m to 24h)
  -j, --jobs N                  run checks on N threads (default: 4)
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
  75  another ztagent run holds ROOT/run/ztagent.lock (scheduled runs treat this as success)
  78  profile or site config invalid (nothing was changed)
  130 interrupted
With --format nagios, a run that gets as far as running exits with the Nagios status instead:
0 OK, 2 CRITICAL (a check or step failed), 3 UNKNOWN (checks could not run, or interrupted);
1 WARNING is not used. Usage and config errors keep 64 and 78.
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

Result<Options> parse_options(const std::vector<std::string>& args) {
  Options o;
  std::size_t i = 0;
  bool have_verb = false;
  bool have_action = false;
  bool every_given = false;

  auto value_of = [&](const std::string& arg, std::string_view name, std::string& out) -> Result<bool> {
    // "--name=value" or "--name value"
    if (arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 && arg[name.size()] == '=') {
      out = arg.substr(name.size() + 1);
      return true;
    }
    if (arg != name) {
      return false;
    }
    if (i + 1 >= args.size()) {
      return make_error(Errc::invalid_config, "option '" + std::string(name) + "' needs a value");
    }
    out = args[++i];
    return true;
  };

  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    auto is = [&](std::string_view s1, std::string_view s2 = {}) -> Result<bool> {
      if (!s2.empty()) {
        auto r = value_of(a, s2, v);
        if (!r || *r) {
          return r;
        }
      }
      return value_of(a, s1, v);
    };
#define ZT_OPT(...)                                                                                          \
  if (auto r_ = is(__VA_ARGS__); !r_) {                                                                      \
    return std::unexpected(r_.error());                                                                      \
  } else if (*r_)
    if (a == "-h" || a == "--help" || a == "help") {
      o.verb = Verb::help;
      return o;
    }
    if (a == "--version") {
      o.verb = Verb::version;
      return o;
    }
    if (!a.empty() && a[0] != '-') {
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
            return make_error(Errc::invalid_config,
                              "unknown schedule action '" + a + "' (install or remove)");
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
      continue;
    }
    if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--keep-going") {
      o.keep_going = true;
    } else if (a == "--allow-host-commands") {
      o.allow_host_commands = true;
    } else if (a == "-v" || a == "--verbose") {
      o.verbosity = std::max(o.verbosity, 0) + 1;
    } else if (a == "-vv") {
      o.verbosity = 2;
    } else if (a == "-q" || a == "--quiet") {
      o.verbosity = -1;
    } else if (a == "--no-color") {
      o.no_color = true;
    } else if (a == "--remediate") {
      o.remediate = true;
    } else {
      ZT_OPT("--profile", "-p") {
        o.profile = v;
        continue;
      }
      ZT_OPT("--config", "-c") {
        o.config = v;
        continue;
      }
      ZT_OPT("--set") {
        if (v.find('=') == std::string::npos) {
          return make_error(Errc::invalid_config, "--set needs KEY=VALUE, got '" + v + "'");
        }
        o.sets.push_back(v);
        continue;
      }
      ZT_OPT("--root") {
        o.root = v;
        continue;
      }
      ZT_OPT("--only") {
        auto l = split_list(v);
        o.only.insert(o.only.end(), l.begin(), l.end());
        continue;
      }
      ZT_OPT("--skip") {
        auto l = split_list(v);
        o.skip.insert(o.skip.end(), l.begin(), l.end());
        continue;
      }
      ZT_OPT("--format", "-f") {
        auto f = parse_format(v);
        if (!f) {
          return make_error(Errc::invalid_config,
                            "unknown format '" + v + "' (formats: " + std::string(k_formats) + ")");
        }
        o.format = *f;
        continue;
      }
      ZT_OPT("--report") {
        const std::size_t colon = v.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) {
          return make_error(Errc::invalid_config, "--report needs FORMAT:FILE, got '" + v + "'");
        }
        auto f = parse_format(std::string_view(v).substr(0, colon));
        if (!f) {
          return make_error(Errc::invalid_config, "--report " + v + ": unknown format '" +
                                                      v.substr(0, colon) +
                                                      "' (formats: " + std::string(k_formats) + ")");
        }
        o.reports.push_back(ReportTarget{*f, v.substr(colon + 1)});
        continue;
      }
      ZT_OPT("--output", "-o") {
        o.output = v;
        continue;
      }
      ZT_OPT("--retry-timeout") {
        auto d = parse_duration(v);
        if (!d) {
          return make_error(Errc::invalid_config,
                            "invalid duration '" + v + "' for --retry-timeout (examples: 90s, 5m, 1h)");
        }
        o.retry_timeout = *d;
        o.retry_timeout_set = true;
        continue;
      }
      ZT_OPT("--jobs", "-j") {
        auto n = util::parse_uint(v);
        if (!n || *n == 0 || *n > 64) {
          return make_error(Errc::invalid_config, "--jobs needs a number from 1 to 64, got '" + v + "'");
        }
        o.jobs = static_cast<unsigned>(*n);
        continue;
      }
      ZT_OPT("--log-target") {
        auto t = parse_log_target(v);
        if (!t) {
          return make_error(Errc::invalid_config,
                            "unknown log target '" + v + "' (targets: stderr, syslog, auto)");
        }
        o.log_target = *t;
        continue;
      }
      ZT_OPT("--every") {
        auto d = parse_duration(v);
        if (!d || d->count() % 60'000 != 0 || *d < std::chrono::minutes(1) || *d > std::chrono::hours(24)) {
          return make_error(Errc::invalid_config,
                            "--every needs whole minutes from 1m to 24h (e.g. 15m, 1h), got '" + v + "'");
        }
        o.every = std::chrono::duration_cast<std::chrono::minutes>(*d);
        every_given = true;
        continue;
      }
      ZT_OPT("--log-level") {
        static const char* const k_levels[] = {"trace", "debug", "info", "warn", "error", "off"};
        if (std::find(std::begin(k_levels), std::end(k_levels), v) == std::end(k_levels)) {
          return make_error(Errc::invalid_config,
                            "unknown log level '" + v + "' (levels: trace, debug, info, warn, error, off)");
        }
        o.log_level = v;
        continue;
      }
      return make_error(Errc::invalid_config, "unknown option '" + a + "'");
    }
#undef ZT_OPT
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
  if (o.remediate && o.verb != Verb::verify && o.verb != Verb::drift &&
      !(o.verb == Verb::schedule && o.schedule_action == ScheduleAction::install)) {
    return make_error(Errc::invalid_config, "--remediate goes with verify, drift or schedule install");
  }
  if (every_given && !(o.verb == Verb::schedule && o.schedule_action == ScheduleAction::install)) {
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
