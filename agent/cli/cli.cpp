// SPDX-License-Identifier: Apache-2.0
#include "cli/cli.hpp"

#include "cli/exit_codes.hpp"
#include "cli/explain.hpp"
#include "cli/options.hpp"
#include "cli/run_output.hpp"
#include "host/lock.hpp"
#include "profile/loader.hpp"
#include "profile/waivers.hpp"
#include "provisioners/registry.hpp"
#include "report/report.hpp"
#include "run/orchestrator.hpp"
#include "state/schedule.hpp"
#include "state/state.hpp"
#include "util/strings.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace zt::cli {

namespace {

std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
  g_signal.store(sig);
  g_interrupted.store(true);
}

/// How long a run waits for another run's lock before it exits 75. In Nagios mode shorter than
/// check_nrpe's default 10 s timeout, so the check sees ztagent's UNKNOWN line, not an NRPE timeout.
constexpr std::chrono::seconds k_lock_wait{10};
constexpr std::chrono::seconds k_lock_wait_nagios{5};

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool no_color_env() {
  const char* v = std::getenv("NO_COLOR");
  return v != nullptr && *v != '\0';
}

/// --log-target auto resolved: syslog when stderr is not a TTY (cron, systemd timers).
bool logs_to_syslog(const Options& o) {
  return o.log_target == LogTarget::syslog ||
         (o.log_target == LogTarget::automatic && ::isatty(STDERR_FILENO) != 1);
}

void setup_logging(const Options& o) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  const bool to_syslog = logs_to_syslog(o);
  if (to_syslog) {
    // The journal where systemd runs (it owns /dev/log), else syslog: ident "ztagent", with the pid.
    sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("ztagent", LOG_PID, LOG_DAEMON, true);
  } else if (o.no_color || no_color_env()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(); // colors only on a TTY
  }
  auto logger = std::make_shared<spdlog::logger>("ztagent", sink);
  logger->set_pattern(to_syslog ? "%v" : "ztagent: %^%l%$: %v");
  spdlog::level::level_enum level =
      o.verb == Verb::provision || o.verb == Verb::schedule ? spdlog::level::info : spdlog::level::warn;
  if (o.verbosity < 0) {
    level = spdlog::level::err;
  } else if (o.verbosity == 1) {
    level = spdlog::level::debug;
  } else if (o.verbosity >= 2) {
    level = spdlog::level::trace;
  }
  if (o.log_level) {
    level = spdlog::level::from_str(*o.log_level);
  }
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "ztagent: error: %s\nTry 'ztagent --help'.\n", message.c_str());
  return k_exit_usage;
}

int config_errors(const profile::Diagnostics& diags) {
  for (const auto& d : diags) {
    std::fprintf(stderr, "%s\n", d.to_string().c_str());
  }
  std::fprintf(stderr, "ztagent: error: %zu configuration error%s; nothing was changed\n", diags.size(),
               diags.size() == 1 ? "" : "s");
  return k_exit_config;
}

std::string join_diagnostics(const profile::Diagnostics& diags) {
  std::string out;
  for (const auto& d : diags) {
    out += (out.empty() ? "" : "; ") + d.to_string();
  }
  return out;
}

bool looks_like_file(std::string_view profile) {
  return profile.find('/') != std::string_view::npos ||
         (profile.size() > 5 && profile.substr(profile.size() - 5) == ".toml");
}

std::filesystem::path absolute_path(const std::string& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return (ec ? std::filesystem::path(p) : abs).lexically_normal();
}

int list_profiles() {
  for (const auto& name : profile::profile_names()) {
    auto p = profile::load_profile(name, "");
    if (p) {
      std::printf("%-14s %s\n", name.c_str(), p->description.c_str());
    } else {
      std::printf("%-14s (invalid: %s)\n", name.c_str(), p.error().front().to_string().c_str());
    }
  }
  return k_exit_ok;
}

/// Reads an optional file on the machine ztagent runs on (the CLI's only direct file access goes
/// through host::Fs as well). Configs and profiles: a regular file of at most 1 MiB (-c /dev/zero
/// or a FIFO is refused at once instead of eating memory or blocking).
Result<std::string> read_host_file(const std::filesystem::path& path) {
  host::Fs local("/");
  return local.read_file(path, host::k_max_config_bytes);
}

/// An error line for the person or the log: stderr normally, the log (syslog) for scheduled runs so
/// that cron mails and the journal carry it once.
void report_error(const Options& o, const std::string& message) {
  if (logs_to_syslog(o)) {
    spdlog::error("{}", message);
  } else {
    std::fprintf(stderr, "ztagent: error: %s\n", message.c_str());
  }
}

/// With --log-target syslog: one line per failing check ("check data.zerotier.mode failed: expected
/// 0750, actual 0755") so the journal/syslog says what is wrong without the report.
/// After --remediate, `after_remediation` says so: "check X still fails after --remediate: ...".
void log_failing_checks(const report::Report& rep, bool after_remediation = false) {
  const char* fails = after_remediation ? "still fails after --remediate" : "failed";
  const char* errs = after_remediation ? "still cannot run after --remediate" : "could not run";
  for (const report::CheckReport& c : rep.checks) {
    if (c.waiver_reason) {
      continue;
    }
    if (c.outcome == checks::Outcome::fail) {
      spdlog::error("check {} {}: expected {}, actual {}", c.id, fails, c.expected, c.actual);
    } else if (c.outcome == checks::Outcome::error) {
      spdlog::error("check {} {}: {}", c.id, errs, c.actual);
    }
  }
  for (const report::StepReport& s : rep.steps) {
    if (s.status == report::StepStatus::failed) {
      spdlog::error("step {} failed: {}", s.id, s.error);
    }
  }
}

bool step_ran(const report::Report& rep, const std::string& id) {
  return std::any_of(rep.steps.begin(), rep.steps.end(), [&](const report::StepReport& s) {
    return s.id == id &&
           (s.status == report::StepStatus::changed || s.status == report::StepStatus::unchanged);
  });
}

/// After a provision (or a remediation): records the steps that ran to the end, with fresh digests of
/// their managed paths, in ROOT/var/lib/ztagent/state.json; other steps keep their earlier record.
Result<void>
record_state(const std::vector<provisioners::Step>& steps, host::Host& host, const report::Report& rep) {
  std::vector<state::FileDigest> digests;
  std::vector<std::string> order;
  for (const auto& step : steps) {
    order.push_back(step.id);
    if (!step_ran(rep, step.id)) {
      continue;
    }
    ZT_TRY_ASSIGN(d, state::digest_step(step, host.view()));
    digests.insert(digests.end(), d.begin(), d.end());
  }
  auto previous = state::load_state(host.fs());
  std::optional<state::State> before;
  if (previous) {
    before = std::move(*previous);
  } else {
    spdlog::warn("replacing an unreadable provision state: {}", previous.error().message);
  }
  const auto next = state::record_provision(before, rep, digests, order, rep.started_at, ZTAGENT_VERSION);
  if (before && next == *before) {
    spdlog::debug("provision state unchanged");
    return {};
  }
  ZT_TRY(state::save_state(host.fs(), next));
  spdlog::info("recorded the provision state in {}", host.fs().real_path(state::k_state_path).string());
  return {};
}

/// drift: the recorded paths as report checks ("drift:/etc/subuid"), and one log line per difference.
void add_drift(report::Report& rep, const state::State& recorded, host::Host& host) {
  const auto drift = state::find_drift(recorded, host.fs());
  for (const auto& d : drift) {
    for (const auto& difference : d.differences) {
      spdlog::warn("{}", state::describe(d, difference));
    }
  }
  auto checks = state::drift_checks(recorded, drift);
  rep.checks.insert(rep.checks.end(), std::make_move_iterator(checks.begin()),
                    std::make_move_iterator(checks.end()));
  rep.command = "drift";
}

/// verify/drift --remediate: re-runs (plan -> apply -> plan) only the steps with a failing check or a
/// drifted path, records them in the state, then checks everything again. The returned report holds
/// the re-run steps and the checks after the repair.
report::Report remediate(std::vector<provisioners::Step>& steps,
                         host::Host& host,
                         const run::RunOptions& ro,
                         const profile::Config& config,
                         report::Report before,
                         const std::optional<state::State>& recorded,
                         bool& state_failed) {
  std::set<std::string> wanted;
  for (const auto& c : before.checks) {
    if (!c.waiver_reason && (c.outcome == checks::Outcome::fail || c.outcome == checks::Outcome::error)) {
      wanted.insert(c.step);
    }
  }
  std::vector<std::string> only;
  for (const auto& step : steps) {
    if (wanted.count(step.id) == 0) {
      continue;
    }
    if (!step.provisioner) {
      spdlog::warn(
          "remediate: step {} has checks only; fix its failing checks by hand (`ztagent explain ID`)",
          step.id);
      continue;
    }
    only.push_back(step.id);
  }
  if (only.empty()) {
    spdlog::info("remediate: nothing to re-run");
    return before;
  }
  spdlog::warn("remediate: re-running {}", util::join(only, ", "));
  run::RunOptions fix = ro;
  fix.command = run::Command::provision;
  fix.only = only;
  fix.skip.clear();
  fix.retry_timeout = std::chrono::milliseconds(0);
  auto repaired = run::execute(steps, host, fix, config.profile.name);
  if (auto r = record_state(steps, host, repaired); !r) {
    spdlog::error("cannot record the provision state: {}", r.error().message);
    state_failed = true;
  }
  for (const auto& s : repaired.steps) {
    if (s.status == report::StepStatus::changed) {
      for (const auto& c : s.changes) {
        spdlog::warn("remediate: {} repaired {}: {}", s.id, c.target, c.summary);
      }
    }
  }

  auto after = run::execute(steps, host, ro, config.profile.name);
  if (before.command == "drift") {
    auto fresh = state::load_state(host.fs());
    if (fresh && *fresh) {
      add_drift(after, **fresh, host);
    } else if (recorded) {
      add_drift(after, *recorded, host);
    }
  }
  after.started_at = before.started_at;
  after.duration_s += before.duration_s + repaired.duration_s;
  for (auto& s : repaired.steps) {
    if (std::find(only.begin(), only.end(), s.id) != only.end()) {
      after.steps.push_back(std::move(s));
    }
  }
  return after;
}

/// `ztagent list`: the steps in order with their checks.
int list_steps(const std::vector<provisioners::Step>& steps, const profile::Config& config) {
  std::printf("profile %s: %zu steps\n", config.profile.name.c_str(), steps.size());
  for (const auto& step : steps) {
    std::printf("\n%s%s\n", step.id.c_str(), step.provisioner ? "" : " (checks only)");
    for (const auto& c : step.checks) {
      std::printf("  %-34s %s%s\n", std::string(c->id()).c_str(), std::string(c->description()).c_str(),
                  c->runtime() ? " (runtime)" : "");
    }
  }
  return k_exit_ok;
}

/// `ztagent explain ID`: the check's description and current result (run read-only), why it
/// matters, the source and the fix.
int explain_check(const std::string& id, const std::vector<provisioners::Step>& steps, host::Fs target) {
  const checks::Check* found = nullptr;
  std::vector<std::string> ids;
  for (const auto& step : steps) {
    for (const auto& c : step.checks) {
      ids.emplace_back(c->id());
      if (c->id() == id) {
        found = c.get();
      }
    }
  }
  if (found == nullptr) {
    const std::string near = closest_match(id, ids);
    return usage_error("unknown check '" + id + "' " +
                       (near.empty() ? std::string("(`ztagent list` shows the checks of this profile)")
                                     : "(did you mean '" + near + "'?)"));
  }
  host::RealCommandRunner runner(host::RunnerPolicy{false, target.is_live(), false});
  host::Host host(std::move(target), runner);
  const checks::CheckResult now = found->run(host.view());
  const CheckDoc* doc = find_check_doc(id);
  std::string out =
      id + " (step " + std::string(found->step()) + (found->runtime() ? ", runtime check" : "") + ")\n";
  out += "  verifies: " + std::string(found->description()) + "\n";
  out += "  now:      " + std::string(checks::to_string(now.outcome));
  if (!now.expected.empty()) {
    out += ": expected " + now.expected;
  }
  if (!now.actual.empty()) {
    out += (now.expected.empty() ? ": " : ", actual ") + now.actual;
  }
  out += "\n";
  if (doc != nullptr) {
    out += "  why:      " + std::string(doc->why) + "\n";
    out += "  source:   " + std::string(doc->source) + "\n";
  }
  if (!now.fix.empty()) {
    out += "  fix:      " + now.fix + "\n";
  } else if (doc != nullptr) {
    out += "  fix:      " + std::string(doc->fix) + "\n";
  }
  const bool has_provisioner = std::any_of(steps.begin(), steps.end(), [&](const provisioners::Step& s) {
    return s.id == found->step() && s.provisioner != nullptr;
  });
  if (has_provisioner) {
    out += "  ztagent:  sudo ztagent provision --only " + std::string(found->step()) +
           " (or sudo ztagent verify --remediate)\n";
  }
  std::fputs(out.c_str(), stdout);
  return k_exit_ok;
}

std::string_view format_name(Format format) {
  switch (format) {
  case Format::text:
    return "text";
  case Format::json:
    return "json";
  case Format::junit:
    return "junit";
  case Format::tap:
    return "tap";
  case Format::prometheus:
    return "prometheus";
  case Format::nagios:
    return "nagios";
  }
  return "text";
}

/// The options a scheduled run needs to verify the same thing: profile, config, --set, --only/--skip
/// and extra --report files (never --root: the schedule runs on the host the tree becomes).
std::vector<std::string> schedule_selection(const Options& o) {
  std::vector<std::string> out;
  if (o.profile != "auto") {
    out.push_back("--profile");
    out.push_back(looks_like_file(o.profile) ? absolute_path(o.profile).string() : o.profile);
  }
  if (o.config) {
    out.push_back("--config");
    out.push_back(absolute_path(*o.config).string());
  }
  for (const auto& s : o.sets) {
    out.push_back("--set");
    out.push_back(s);
  }
  if (!o.only.empty()) {
    out.push_back("--only=" + util::join(o.only, ","));
  }
  if (!o.skip.empty()) {
    out.push_back("--skip=" + util::join(o.skip, ","));
  }
  for (const auto& r : o.reports) {
    // e.g. --report prometheus:/var/lib/prometheus/node-exporter/ztagent.prom
    out.push_back("--report=" + std::string(format_name(r.format)) + ":" + absolute_path(r.path).string());
  }
  return out;
}

/// The binary the schedule runs. Live: this one (the package's /usr/bin/ztagent, or wherever the
/// admin installed it), so the timer or cron job runs the version that was tested by hand. In an
/// image tree the running binary is the build host's: the packaged path, with a warning when the
/// tree lacks it.
std::string scheduled_binary(const host::Host& host) {
  const std::string packaged(state::k_packaged_binary);
  if (host.live()) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && self.is_absolute()) {
      const std::string path = self.string();
      if (path.rfind("/usr/", 0) != 0 && path.rfind("/opt/", 0) != 0) {
        spdlog::warn("the schedule runs {}, which is not under /usr or /opt: a rebuild or a cleanup "
                     "there breaks every scheduled run (install the ztagent package, then run "
                     "`ztagent schedule install` again)",
                     path);
      }
      return path;
    }
    spdlog::warn("cannot resolve /proc/self/exe ({}); the schedule runs {}", ec.message(), packaged);
    return packaged;
  }
  auto st = host.view().fs().stat(packaged);
  if (!st || st->type != host::FileType::regular) {
    spdlog::warn("{} does not exist: the schedule runs {}, so install the ztagent package in the image",
                 host.view().fs().real_path(packaged).string(), packaged);
  }
  return packaged;
}

int run_schedule(const Options& o, host::Host& host) {
  Result<state::ScheduleResult> r;
  if (o.schedule_action == ScheduleAction::install) {
    state::ScheduleSpec spec;
    spec.every = o.every;
    spec.remediate = o.remediate;
    spec.selection = schedule_selection(o);
    spec.binary = scheduled_binary(host);
    r = state::install_schedule(host, spec);
  } else {
    r = state::remove_schedule(host);
  }
  if (!r) {
    if (r.error().code == Errc::invalid_config) {
      return usage_error(r.error().message);
    }
    std::fprintf(stderr, "ztagent: error: schedule: %s\n", r.error().message.c_str());
    return k_exit_step_failed;
  }
  for (const auto& a : r->actions) {
    std::printf("%s\n", a.c_str());
  }
  const char* what = r->scheduler == state::Scheduler::systemd ? "systemd timer ztagent-verify.timer"
                                                               : "cron job /etc/cron.d/ztagent";
  if (o.schedule_action == ScheduleAction::install) {
    std::printf("schedule: %s %s\n", what, r->changed() ? "installed" : "unchanged");
  } else {
    std::printf("schedule: %s\n", r->actions.empty() ? "nothing installed" : "removed");
  }
  return k_exit_ok;
}

int run_main(const Options& o) {
  const Outputs outs = outputs_of(o);
  // Every early stop: the error on stderr as before, then a report that says the run did not happen.
  const auto usage = [&](const std::string& message) {
    (void)usage_error(message);
    return stop_run(outs, k_exit_usage, "usage", message);
  };
  const auto config_error = [&](const profile::Diagnostics& diags) {
    (void)config_errors(diags);
    return stop_run(outs, k_exit_config, "config", join_diagnostics(diags));
  };

  // --- target root --------------------------------------------------------------------------
  auto root = absolute_path(o.root);
  {
    host::Fs local("/");
    auto st = local.stat(root);
    if (!st || st->type != host::FileType::directory) {
      return usage("--root " + root.string() + ": not a directory");
    }
  }
  host::Fs target(root);

  std::optional<std::filesystem::path> output;
  if (!output_is_stdout(o.output)) {
    output = absolute_path(*o.output);
    host::Fs local("/");
    auto st = local.stat(output->parent_path());
    if (!st || st->type != host::FileType::directory) {
      return usage("--output " + output->string() + ": directory " + output->parent_path().string() +
                         " does not exist");
    }
  }

  std::vector<std::filesystem::path> report_paths; // parallel to o.reports
  for (const ReportTarget& extra : o.reports) {
    report_paths.push_back(absolute_path(extra.path));
    const std::filesystem::path& path = report_paths.back();
    host::Fs local("/");
    auto st = local.stat(path.parent_path());
    if (o.verb == Verb::schedule) {
      // schedule install passes --report on: the scheduled runs write it on the scheduled host (the
      // tree under --root), and every one of them would exit 64 if the directory is missing.
      if (o.schedule_action == ScheduleAction::install) {
        auto in_target = target.stat(path.parent_path());
        if (!in_target || in_target->type != host::FileType::directory) {
          return usage("--report " + path.string() + ": directory " +
                       target.real_path(path.parent_path()).string() +
                       " does not exist, so every scheduled run would fail; create it first (Debian's "
                       "prometheus-node-exporter reads /var/lib/prometheus/node-exporter)");
        }
      }
    } else if (!st || st->type != host::FileType::directory) {
      return usage("--report " + path.string() + ": directory " + path.parent_path().string() +
                   " does not exist");
    }
  }

  // --- profile and site config (all validated before anything changes) ------------------------
  profile::Loaded<profile::ProfileSpec> spec;
  if (looks_like_file(o.profile)) {
    auto path = absolute_path(o.profile);
    auto text = read_host_file(path);
    if (!text) {
      return config_error({{path.string(), 0, 0, "cannot read profile: " + text.error().message}});
    }
    spec = profile::load_profile_file(*text, path.string());
  } else {
    std::string os_release;
    if (o.profile == "auto") {
      auto text = target.read_file("/etc/os-release", host::k_max_config_bytes);
      if (!text && text.error().code == Errc::not_found) {
        text = target.read_file("/usr/lib/os-release", host::k_max_config_bytes);
      }
      if (!text) {
        return config_error({{(root / "etc/os-release").string(), 0, 0,
                               "cannot detect the distribution (" + text.error().message +
                                   "); pass --profile NAME (see `ztagent profiles`)"}});
      }
      os_release = *text;
    }
    spec = profile::load_profile(o.profile, os_release);
  }
  if (!spec) {
    return config_error(spec.error());
  }

  std::string site_text;
  std::string site_source;
  if (o.config) {
    auto path = absolute_path(*o.config);
    auto text = read_host_file(path);
    if (!text) {
      return config_error({{path.string(), 0, 0, "cannot read site config: " + text.error().message}});
    }
    site_text = std::move(*text);
    site_source = path.string();
  } else {
    auto text = target.read_file("/etc/ztagent/ztagent.toml", host::k_max_config_bytes);
    if (text) {
      site_text = std::move(*text);
      site_source = target.real_path("/etc/ztagent/ztagent.toml").string();
    } else if (text.error().code != Errc::not_found) {
      return config_error({{target.real_path("/etc/ztagent/ztagent.toml").string(), 0, 0,
                             "cannot read site config: " + text.error().message}});
    }
  }
  auto site = profile::load_site_config(site_text, site_source.empty() ? "<defaults>" : site_source, o.sets);
  if (!site) {
    return config_error(site.error());
  }
  auto waivers = profile::load_waivers(site_text, site_source.empty() ? "<defaults>" : site_source);
  if (!waivers) {
    return config_error(waivers.error());
  }
  auto stack = profile::resolve_stack(*spec, *site);
  if (!stack) {
    return config_error(stack.error());
  }
  profile::Config config{std::move(*spec), std::move(*site), site_source, std::move(*stack)};

  // --- steps ------------------------------------------------------------------------------------
  run::RunOptions ro;
  ro.command = o.verb == Verb::provision ? run::Command::provision
               : o.verb == Verb::plan    ? run::Command::plan
                                         : run::Command::verify; // verify, drift, explain, list, schedule
  ro.only = o.only;
  ro.skip = o.skip;
  ro.keep_going = o.keep_going;
  ro.jobs = o.jobs;
  ro.retry_timeout = o.retry_timeout;
  ro.interrupted = &g_interrupted;

  bool euid_root = ::geteuid() == 0;
  // verify/drift --remediate and schedule change the host like provision does.
  const bool changes_host = ro.command == run::Command::provision || o.remediate || o.verb == Verb::schedule;
  provisioners::StepContext ctx{euid_root, ro.command != run::Command::verify || o.remediate};
  auto steps = provisioners::build_steps(config, ctx);
  if (!steps) {
    return config_error({{config.profile.source, 0, 0, steps.error().message}});
  }
  {
    // A waiver must name a check of this profile (all its steps, whatever --only/--skip select).
    std::vector<std::string> ids;
    for (const auto& step : *steps) {
      for (const auto& c : step.checks) {
        ids.emplace_back(c->id());
      }
    }
    if (auto unmatched = profile::waivers_without_checks(*waivers, ids); !unmatched.empty()) {
      return config_error(unmatched);
    }
  }
  if (o.verb == Verb::list) {
    return list_steps(*steps, config);
  }
  if (o.verb == Verb::explain) {
    return explain_check(o.explain_id, *steps, std::move(target));
  }
  if (auto sel = run::validate_selection(*steps, ro); !sel) {
    return usage(sel.error().message);
  }
  if (ro.command == run::Command::provision && !euid_root && root == "/") {
    const std::string message = "provision changes the host and must run as root: sudo ztagent provision (or "
                                "`ztagent plan` to see what it would change)";
    std::fprintf(stderr, "ztagent: error: %s\n", message.c_str());
    return stop_run(outs, k_exit_step_failed, "not_root", message);
  }
  if (changes_host && ro.command != run::Command::provision && !euid_root && root == "/") {
    const std::string message = std::string(o.remediate ? "--remediate" : "schedule") +
                                " changes the host and must run as root: sudo ztagent " +
                                (o.remediate ? std::string(verb_name(o.verb)) + " --remediate" : "schedule ...");
    std::fprintf(stderr, "ztagent: error: %s\n", message.c_str());
    return stop_run(outs, k_exit_step_failed, "not_root", message);
  }

  // --- drift: the state recorded by the last provision ------------------------------------------
  std::optional<state::State> recorded;
  if (o.verb == Verb::drift) {
    auto loaded = state::load_state(target);
    if (!loaded) {
      const std::string message = "cannot read the provision state: " + loaded.error().message;
      report_error(o, message);
      return stop_run(outs, k_exit_no_state, "no_state", message);
    }
    if (!loaded->has_value()) {
      const std::string message = "no provision recorded in " + target.real_path(state::k_state_path).string() +
                                  ": run `ztagent provision` first";
      report_error(o, message);
      return stop_run(outs, k_exit_no_state, "no_state", message);
    }
    recorded = std::move(**loaded);
  }

  // --- lock: two ztagent runs never interleave ----------------------------------------------------
  // The lock lives in the target (ROOT/run/ztagent.lock): runs on different trees and the host's
  // scheduled verify never block each other, and two runs on one tree from different mount
  // namespaces open the same inode (a /run of their own would not serialize them).
  std::optional<host::RunLock> lock;
  {
    auto l = host::RunLock::acquire(target.real_path(host::k_run_lock_path),
                                    o.format == Format::nagios ? k_lock_wait_nagios : k_lock_wait,
                                    changes_host ? host::CreateParent::yes : host::CreateParent::no);
    if (l) {
      lock.emplace(std::move(*l));
    } else if (l.error().code == Errc::busy) {
      report_error(o, l.error().message);
      // Every format, text on stdout too: the caller must see that nothing was verified.
      return stop_run(outs, k_exit_busy, "lock_busy", l.error().message, true);
    } else if (!changes_host) {
      // A read-only run that cannot create the lock (unprivileged, a read-only tree, a tree without
      // /run) only reads, so it goes on.
      spdlog::debug("no lock: {}", l.error().message);
    } else {
      std::fprintf(stderr, "ztagent: error: %s\n", l.error().message.c_str());
      return stop_run(outs, k_exit_step_failed, "lock", l.error().message);
    }
  }

  // --- run ----------------------------------------------------------------------------------------
  host::RunnerPolicy policy{changes_host, root == "/", o.allow_host_commands};
  host::RealCommandRunner runner(policy);
  // The root is opened once; every path of the run is walked from that fd.
  if (auto pinned = target.pin_root(); !pinned) {
    spdlog::debug("root not pinned: {}", pinned.error().message);
  }
  host::Host host(std::move(target), runner);
  // Each host file (package database, passwd, group, subuid, subgid) is parsed once per run.
  host.enable_cache();
  host.abandon_cache_on_destruction();
  if (o.verb == Verb::schedule) {
    return run_schedule(o, host);
  }
  auto rep = run::execute(*steps, host, ro, config.profile.name);
  if (recorded) {
    add_drift(rep, *recorded, host);
  }
  const std::string today = utc_today();
  apply_waivers(rep, *waivers, today);
  bool state_failed = false;
  // The log says what was found, then (with --remediate) what was repaired and what still fails.
  if (logs_to_syslog(o)) {
    log_failing_checks(rep);
  }
  if (o.remediate && !g_interrupted.load()) {
    rep = remediate(*steps, host, ro, config, std::move(rep), recorded, state_failed);
    apply_waivers(rep, *waivers, today);
    if (logs_to_syslog(o)) {
      log_failing_checks(rep, true);
    }
  } else if (ro.command == run::Command::provision) {
    if (auto r = record_state(*steps, host, rep); !r) {
      report_error(o, "cannot record the provision state: " + r.error().message);
      state_failed = true;
    }
  }

  // --- exit code, then reports ------------------------------------------------------------------
  int code = k_exit_ok;
  if (g_interrupted.load()) {
    code = k_exit_interrupted;
  } else if (run::any_step_failed(rep) || state_failed) {
    code = k_exit_step_failed;
  } else if (report::any_unwaived_failure(rep)) {
    code = k_exit_check_failed;
  }
  rep.hostname = report_hostname(root);
  if (g_interrupted.load()) {
    rep.end = report::RunEnd::interrupted;
    rep.stop_reason = "interrupted";
    const int sig = g_signal.load();
    rep.stop_error = std::string(sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal") +
                     " received; steps and checks after it did not run";
  }
  // The Nagios plugin contract: 0 OK, 2 CRITICAL, 3 UNKNOWN (an interrupted run proves nothing).
  rep.exit_code = o.format == Format::nagios ? report::nagios_status(rep) : code;
  const bool color =
      o.format == Format::text && !o.no_color && !no_color_env() && ::isatty(STDOUT_FILENO) == 1;
  const auto failed_files = write_reports(outs, rep, code == k_exit_ok, color, true);
  if (!failed_files.empty()) {
    return o.format == Format::nagios ? 3 : k_exit_internal;
  }
  return rep.exit_code;
}

} // namespace

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Outputs sniffed = sniff_outputs(args);
  try {
    auto opts = parse_options(args);
    if (!opts) {
      (void)usage_error(opts.error().message);
      return stop_run(sniffed, k_exit_usage, "usage", opts.error().message);
    }
    sniffed = outputs_of(*opts);
    switch (opts->verb) {
    case Verb::help:
      std::fputs(k_help_text, stdout);
      return k_exit_ok;
    case Verb::version:
      std::printf("ztagent %s\n", ZTAGENT_VERSION);
      return k_exit_ok;
    case Verb::profiles:
      return list_profiles();
    default:
      break;
    }
    setup_logging(*opts);
    install_signal_handlers();
    return run_main(*opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ztagent: internal error: %s\n", e.what());
    try {
      return stop_run(sniffed, k_exit_internal, "internal", std::string("internal error: ") + e.what());
    } catch (const std::exception&) {
      return sniffed.format == Format::nagios ? 3 : k_exit_internal;
    }
  }
}

} // namespace zt::cli
