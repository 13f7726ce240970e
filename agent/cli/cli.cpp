// SPDX-License-Identifier: Apache-2.0
#include "cli/cli.hpp"

#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "host/lock.hpp"
#include "profile/loader.hpp"
#include "provisioners/registry.hpp"
#include "report/report.hpp"
#include "run/orchestrator.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace zt::cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_signal(int /*sig*/) { g_interrupted.store(true); }

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

void setup_logging(const Options& o) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (o.no_color || no_color_env()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();  // colors only on a TTY
  }
  auto logger = std::make_shared<spdlog::logger>("ztagent", sink);
  logger->set_pattern("ztagent: %^%l%$: %v");
  spdlog::level::level_enum level = o.verb == Verb::provision ? spdlog::level::info : spdlog::level::warn;
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
/// through host::Fs as well).
Result<std::string> read_host_file(const std::filesystem::path& path) {
  host::Fs local("/");
  return local.read_file(path);
}

/// What a renderer needs beyond the report: the wall clock and whether the run passed (exit 0).
struct ReportContext {
  double now_unix_seconds = 0;
  bool passed = false;
};

/// The last-success time to write into a Prometheus file: now after a passing run, else the value
/// the previous file at `path` held (none when there is no readable previous file).
std::optional<double> last_success(const ReportContext& context, const std::filesystem::path* path) {
  if (context.passed) {
    return context.now_unix_seconds;
  }
  if (path == nullptr) {
    return std::nullopt;
  }
  host::Fs local("/");
  auto previous = local.read_file(*path);
  if (!previous) {
    if (previous.error().code != Errc::not_found) {
      spdlog::warn("{}: cannot read the previous last-success time ({})", path->string(),
                   previous.error().message);
    }
    return std::nullopt;
  }
  return report::parse_last_success(*previous);
}

/// `path` is the file the report goes to (nullptr for stdout).
std::string render_report(Format format,
                          const report::Report& rep,
                          report::Color color,
                          const ReportContext& context,
                          const std::filesystem::path* path) {
  switch (format) {
  case Format::json: return report::render_json(rep);
  case Format::junit: return report::render_junit(rep);
  case Format::tap: return report::render_tap(rep);
  case Format::nagios: return report::render_nagios(rep);
  case Format::prometheus:
    return report::render_prometheus(rep, context.now_unix_seconds, last_success(context, path));
  case Format::text: return report::render_text(rep, color);
  }
  return report::render_text(rep, color);
}

int run_main(const Options& o) {
  // --- target root --------------------------------------------------------------------------
  auto root = absolute_path(o.root);
  {
    host::Fs local("/");
    auto st = local.stat(root);
    if (!st || st->type != host::FileType::directory) {
      return usage_error("--root " + root.string() + ": not a directory");
    }
  }
  host::Fs target(root);

  std::optional<std::filesystem::path> output;
  if (o.output) {
    output = absolute_path(*o.output);
    host::Fs local("/");
    auto st = local.stat(output->parent_path());
    if (!st || st->type != host::FileType::directory) {
      return usage_error("--output " + output->string() + ": directory " + output->parent_path().string() +
                         " does not exist");
    }
  }

  std::vector<std::filesystem::path> report_paths;  // parallel to o.reports
  for (const ReportTarget& extra : o.reports) {
    report_paths.push_back(absolute_path(extra.path));
    const std::filesystem::path& path = report_paths.back();
    host::Fs local("/");
    auto st = local.stat(path.parent_path());
    if (!st || st->type != host::FileType::directory) {
      return usage_error("--report " + path.string() + ": directory " + path.parent_path().string() +
                         " does not exist");
    }
  }

  // --- profile and site config (all validated before anything changes) ------------------------
  profile::Loaded<profile::ProfileSpec> spec;
  if (looks_like_file(o.profile)) {
    auto path = absolute_path(o.profile);
    auto text = read_host_file(path);
    if (!text) {
      return config_errors({{path.string(), 0, 0, "cannot read profile: " + text.error().message}});
    }
    spec = profile::load_profile_file(*text, path.string());
  } else {
    std::string os_release;
    if (o.profile == "auto") {
      auto text = target.read_file("/etc/os-release");
      if (!text) {
        text = target.read_file("/usr/lib/os-release");
      }
      if (!text) {
        return config_errors({{(root / "etc/os-release").string(), 0, 0,
                               "cannot detect the distribution (" + text.error().message +
                                   "); pass --profile NAME (see `ztagent profiles`)"}});
      }
      os_release = *text;
    }
    spec = profile::load_profile(o.profile, os_release);
  }
  if (!spec) {
    return config_errors(spec.error());
  }

  std::string site_text;
  std::string site_source;
  if (o.config) {
    auto path = absolute_path(*o.config);
    auto text = read_host_file(path);
    if (!text) {
      return config_errors({{path.string(), 0, 0, "cannot read site config: " + text.error().message}});
    }
    site_text = std::move(*text);
    site_source = path.string();
  } else {
    auto text = target.read_file("/etc/ztagent/ztagent.toml");
    if (text) {
      site_text = std::move(*text);
      site_source = target.real_path("/etc/ztagent/ztagent.toml").string();
    } else if (text.error().code != Errc::not_found) {
      return config_errors({{target.real_path("/etc/ztagent/ztagent.toml").string(), 0, 0,
                             "cannot read site config: " + text.error().message}});
    }
  }
  auto site = profile::load_site_config(site_text, site_source.empty() ? "<defaults>" : site_source, o.sets);
  if (!site) {
    return config_errors(site.error());
  }
  auto stack = profile::resolve_stack(*spec, *site);
  if (!stack) {
    return config_errors(stack.error());
  }
  profile::Config config{std::move(*spec), std::move(*site), site_source, std::move(*stack)};

  // --- steps ------------------------------------------------------------------------------------
  run::RunOptions ro;
  ro.command = o.verb == Verb::provision ? run::Command::provision
               : o.verb == Verb::plan    ? run::Command::plan
                                         : run::Command::verify;
  ro.only = o.only;
  ro.skip = o.skip;
  ro.keep_going = o.keep_going;
  ro.jobs = o.jobs;
  ro.retry_timeout = o.retry_timeout;
  ro.interrupted = &g_interrupted;

  bool euid_root = ::geteuid() == 0;
  provisioners::StepContext ctx{euid_root, ro.command != run::Command::verify};
  auto steps = provisioners::build_steps(config, ctx);
  if (!steps) {
    return config_errors({{config.profile.source, 0, 0, steps.error().message}});
  }
  if (auto sel = run::validate_selection(*steps, ro); !sel) {
    return usage_error(sel.error().message);
  }
  if (ro.command == run::Command::provision && !euid_root && root == "/") {
    std::fprintf(stderr, "ztagent: error: provision changes the host and must run as root: sudo ztagent "
                         "provision (or `ztagent plan` to see what it would change)\n");
    return k_exit_step_failed;
  }

  // --- lock: two ztagent runs never interleave ----------------------------------------------------
  std::optional<host::RunLock> lock;
  {
    auto l = host::RunLock::acquire("/run/ztagent.lock", std::chrono::seconds(10));
    if (l) {
      lock.emplace(std::move(*l));
    } else if (l.error().code == Errc::busy) {
      std::fprintf(stderr, "ztagent: error: %s\n", l.error().message.c_str());
      return k_exit_busy;
    } else if (ro.command == run::Command::verify && !euid_root) {
      // An unprivileged verify cannot create /run/ztagent.lock; it only reads, so it goes on.
      spdlog::debug("no lock: {}", l.error().message);
    } else {
      std::fprintf(stderr, "ztagent: error: %s\n", l.error().message.c_str());
      return k_exit_step_failed;
    }
  }

  // --- run ----------------------------------------------------------------------------------------
  host::RunnerPolicy policy{ro.command == run::Command::provision, root == "/", o.allow_host_commands};
  host::RealCommandRunner runner(policy);
  host::Host host(std::move(target), runner);
  auto rep = run::execute(*steps, host, ro, config.profile.name);

  // --- exit code, then reports ------------------------------------------------------------------
  int code = k_exit_ok;
  if (g_interrupted.load()) {
    code = k_exit_interrupted;
  } else if (run::any_step_failed(rep)) {
    code = k_exit_step_failed;
  } else if (run::any_check_failed(rep)) {
    code = k_exit_check_failed;
  }
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const ReportContext context{now, code == k_exit_ok};

  bool write_failed = false;
  const auto write_report = [&](const std::filesystem::path& path, Format format) {
    host::Fs local("/");
    host::WriteSpec ws;
    ws.mode = 0644;
    const std::string text = render_report(format, rep, report::Color::no, context, &path);
    if (auto w = local.write_file(path, text, ws); !w) {
      std::fprintf(stderr, "ztagent: error: cannot write report: %s\n", w.error().message.c_str());
      write_failed = true;
    }
  };
  if (output) {
    write_report(*output, o.format);
  } else {
    bool color = o.format == Format::text && !o.no_color && !no_color_env() && ::isatty(STDOUT_FILENO) == 1;
    const std::string text =
        render_report(o.format, rep, color ? report::Color::yes : report::Color::no, context, nullptr);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  for (std::size_t i = 0; i < o.reports.size(); ++i) {
    write_report(report_paths[i], o.reports[i].format);
  }

  if (write_failed) {
    return k_exit_internal;
  }
  if (o.format == Format::nagios) {
    // The Nagios plugin contract: 0 OK, 2 CRITICAL, 3 UNKNOWN (an interrupted run proves nothing).
    return code == k_exit_interrupted ? 3 : report::nagios_status(rep);
  }
  return code;
}

} // namespace

int run(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto opts = parse_options(args);
    if (!opts) {
      return usage_error(opts.error().message);
    }
    switch (opts->verb) {
    case Verb::help: std::fputs(k_help_text, stdout); return k_exit_ok;
    case Verb::version: std::printf("ztagent %s\n", ZTAGENT_VERSION); return k_exit_ok;
    case Verb::profiles: return list_profiles();
    default: break;
    }
    setup_logging(*opts);
    install_signal_handlers();
    return run_main(*opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ztagent: internal error: %s\n", e.what());
    return k_exit_internal;
  }
}

} // namespace zt::cli
