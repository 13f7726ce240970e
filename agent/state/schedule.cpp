// SPDX-License-Identifier: Apache-2.0
#include "state/schedule.hpp"

#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace zt::state {

namespace {

bool plain_word(std::string_view word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_-./:=,+@").find(c) != std::string_view::npos;
  });
}

/// One ExecStart word: systemd's own quoting ("..." with \" and \\), '%' -> "%%" (specifiers),
/// '$' -> "$$" (variable expansion).
std::string systemd_word(std::string_view word) {
  std::string escaped;
  for (char c : word) {
    if (c == '%') {
      escaped += "%%";
    } else if (c == '$') {
      escaped += "$$";
    } else if (c == '"' || c == '\\') {
      escaped += '\\';
      escaped += c;
    } else {
      escaped += c;
    }
  }
  return plain_word(word) ? escaped : "\"" + escaped + "\"";
}

/// One /bin/sh word: single-quoted unless plain.
std::string shell_word(std::string_view word) {
  if (plain_word(word)) {
    return std::string(word);
  }
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string every_text(std::chrono::minutes every) {
  const auto m = every.count();
  if (m % 60 == 0) {
    return std::to_string(m / 60) + "h";
  }
  return std::to_string(m) + "min";
}

std::string header() {
  return std::string(k_schedule_marker) + "; remove with `ztagent schedule remove`.\n";
}

Result<std::string> machine_seed(const host::Fs& fs) {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id", "/etc/hostname"}) {
    auto text = fs.read_file(path);
    if (text && !util::trim(*text).empty()) {
      return std::string(util::trim(*text));
    }
  }
  // No identity in the tree: the root path still spreads several image trees apart.
  return fs.root().string();
}

/// Writes `content` when it differs; records the action.
Result<void>
put_file(host::Fs& fs, std::string_view path, const std::string& content, ScheduleResult& result) {
  auto current = fs.read_file(path);
  if (current && *current == content) {
    result.actions.push_back("unchanged " + std::string(path));
    return {};
  }
  if (!current && current.error().code != Errc::not_found) {
    return std::unexpected(current.error());
  }
  if (current && current->rfind(k_schedule_marker, 0) != 0) {
    return make_error(Errc::refused, std::string(path) +
                                         ": exists and was not written by ztagent; move it away "
                                         "and run `ztagent schedule install` again");
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  ZT_TRY(fs.make_directories(parent, 0755));
  host::WriteSpec spec;
  spec.mode = 0644;
  ZT_TRY(fs.write_file(path, content, spec));
  result.actions.push_back("wrote " + std::string(path));
  return {};
}

/// Removes `path` when it is a regular file carrying the marker.
Result<void> remove_ours(host::Fs& fs, std::string_view path, ScheduleResult& result) {
  auto current = fs.read_file(path);
  if (!current) {
    if (current.error().code == Errc::not_found) {
      return {};
    }
    return std::unexpected(current.error());
  }
  if (current->rfind(k_schedule_marker, 0) != 0) {
    spdlog::warn("{}: not written by ztagent; left alone", path);
    return {};
  }
  ZT_TRY(fs.remove_file(path));
  result.actions.push_back("removed " + std::string(path));
  return {};
}

Result<void> systemctl(host::Host& host, std::vector<std::string> args, ScheduleResult& result) {
  host::Command cmd;
  cmd.argv = {"systemctl"};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.effect = host::Effect::mutating;
  cmd.scope = host::Scope::host;
  ZT_TRY_ASSIGN(r, host.runner().run(cmd));
  if (r.exit_code != 0) {
    return make_error(Errc::command_failed, util::quote_argv(cmd.argv) + " failed (exit " +
                                                std::to_string(r.exit_code) +
                                                "): " + util::last_nonempty_line(r.err));
  }
  result.actions.push_back("ran " + util::quote_argv(cmd.argv));
  return {};
}

} // namespace

std::vector<std::string> scheduled_argv(const ScheduleSpec& spec) {
  std::vector<std::string> argv = {spec.binary, "verify", "--log-target", "syslog"};
  if (spec.remediate) {
    argv.emplace_back("--remediate");
  }
  argv.insert(argv.end(), spec.selection.begin(), spec.selection.end());
  return argv;
}

std::uint32_t host_offset_seconds(std::string_view seed, std::chrono::minutes every) {
  const std::uint64_t span = std::min<std::uint64_t>(static_cast<std::uint64_t>(every.count()) * 30, 300);
  if (span == 0) {
    return 0;
  }
  const std::string digest = util::sha256_hex(seed);
  const std::uint64_t value = std::stoull(digest.substr(0, 12), nullptr, 16);
  return static_cast<std::uint32_t>(value % span);
}

std::string render_service(const ScheduleSpec& spec) {
  std::string exec;
  for (const auto& word : scheduled_argv(spec)) {
    exec += (exec.empty() ? "" : " ") + systemd_word(word);
  }
  return header() +
         "[Unit]\n"
         "Description=ztagent verify: detect drift of the rootless Podman ZTNet host\n"
         "Documentation=man:ztagent(8)\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "ExecStart=" +
         exec +
         "\n"
         "# 75: another ztagent run holds /run/ztagent.lock; the next run catches up.\n"
         "SuccessExitStatus=75\n"
         "# The report is not needed here: failing checks are logged to the journal one line each.\n"
         "StandardOutput=null\n"
         "Nice=10\n"
         "IOSchedulingClass=idle\n";
}

std::string render_timer(const ScheduleSpec& spec) {
  const std::uint32_t delay = static_cast<std::uint32_t>(std::min<long>(spec.every.count() * 30L, 300L));
  return header() +
         "[Unit]\n"
         "Description=Run ztagent verify every " +
         every_text(spec.every) +
         "\n"
         "Documentation=man:ztagent(8)\n"
         "\n"
         "[Timer]\n"
         "# The first run after boot: one interval, at most 5 minutes (the stack needs a moment).\n"
         "OnBootSec=" +
         every_text(std::min(spec.every, std::chrono::minutes(5))) +
         "\n"
         "OnUnitActiveSec=" +
         every_text(spec.every) +
         "\n"
         "# Jitter: a per-host delay, stable across runs (derived from the machine id).\n"
         "RandomizedDelaySec=" +
         std::to_string(delay) +
         "s\n"
         "FixedRandomDelay=true\n"
         "AccuracySec=1min\n"
         "\n"
         "[Install]\n"
         "WantedBy=timers.target\n";
}

Result<std::string> render_cron(const ScheduleSpec& spec, std::uint32_t offset_seconds) {
  const auto m = spec.every.count();
  std::string when;
  if (m < 60 && 60 % m == 0) {
    when = m == 1 ? "* * * * *" : "*/" + std::to_string(m) + " * * * *";
  } else if (m % 60 == 0 && 24 % (m / 60) == 0) {
    const auto h = m / 60;
    // A per-host minute too, so hourly runs of a fleet do not all start at :00.
    const std::string minute = std::to_string(offset_seconds % 60);
    when = minute + (h == 1 ? " * * * *" : h == 24 ? " 0 * * *" : " */" + std::to_string(h) + " * * *");
  } else {
    return make_error(Errc::invalid_config,
                      "--every " + every_text(spec.every) +
                          ": cron cannot run at that interval (use a divisor of 60 minutes "
                          "or whole hours dividing 24, e.g. 15m, 30m, 1h, 6h)");
  }
  std::string command;
  for (const auto& word : scheduled_argv(spec)) {
    if (word.find_first_of("%\n") != std::string::npos) {
      return make_error(Errc::invalid_config, "schedule: argument '" + word +
                                                  "' contains '%' or a newline, which cron would change");
    }
    command += (command.empty() ? "" : " ") + shell_word(word);
  }
  return header() + "# Runs `ztagent verify` every " + every_text(spec.every) +
         " after a fixed per-host delay (jitter); exit 75 (another run holds\n"
         "# /run/ztagent.lock) counts as success. Failing checks go to syslog, one line each.\n"
         "SHELL=/bin/sh\n"
         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" +
         when + " root sleep " + std::to_string(offset_seconds) + "; " + command +
         " >/dev/null || [ $? -eq 75 ]\n";
}

Scheduler choose_scheduler(const host::HostView& view) {
  if (view.live()) {
    return view.systemd_running() ? Scheduler::systemd : Scheduler::cron;
  }
  // An image with systemd as its init has the systemd binary; /usr/lib/systemd alone is not enough
  // (packages such as podman ship user units there on cron-only systems too).
  for (const char* init : {"/usr/lib/systemd/systemd", "/lib/systemd/systemd"}) {
    auto st = view.fs().stat(init);
    if (st && st->type == host::FileType::regular) {
      return Scheduler::systemd;
    }
  }
  return Scheduler::cron;
}

bool ScheduleResult::changed() const {
  return std::any_of(actions.begin(), actions.end(),
                     [](const std::string& a) { return a.rfind("unchanged ", 0) != 0; });
}

Result<ScheduleResult> install_schedule(host::Host& host, const ScheduleSpec& spec) {
  ScheduleResult result;
  result.scheduler = choose_scheduler(host.view());
  host::Fs& fs = host.fs();
  if (result.scheduler == Scheduler::cron) {
    ZT_TRY_ASSIGN(seed, machine_seed(fs));
    ZT_TRY_ASSIGN(cron, render_cron(spec, host_offset_seconds(seed, spec.every)));
    ZT_TRY(put_file(fs, k_cron_path, cron, result));
    return result;
  }
  ZT_TRY(put_file(fs, k_service_path, render_service(spec), result));
  ZT_TRY(put_file(fs, k_timer_path, render_timer(spec), result));
  ZT_TRY(fs.make_directories(std::filesystem::path(k_timer_wants_path).parent_path(), 0755));
  auto link = fs.read_link(k_timer_wants_path);
  if (link && *link == k_timer_path) {
    result.actions.push_back("unchanged " + std::string(k_timer_wants_path));
  } else {
    ZT_TRY(fs.make_symlink(k_timer_wants_path, std::string(k_timer_path), 0, 0));
    result.actions.push_back("wrote " + std::string(k_timer_wants_path) + " -> " + std::string(k_timer_path));
  }
  if (host.live() && result.changed()) {
    ZT_TRY(systemctl(host, {"daemon-reload"}, result));
    ZT_TRY(systemctl(host, {"start", "ztagent-verify.timer"}, result));
  }
  return result;
}

Result<ScheduleResult> remove_schedule(host::Host& host) {
  ScheduleResult result;
  result.scheduler = choose_scheduler(host.view());
  host::Fs& fs = host.fs();
  ZT_TRY_ASSIGN(timer, fs.lstat(k_timer_path));
  if (host.live() && result.scheduler == Scheduler::systemd && timer.exists()) {
    ZT_TRY(systemctl(host, {"stop", "ztagent-verify.timer"}, result));
  }
  ZT_TRY_ASSIGN(wants, fs.lstat(k_timer_wants_path));
  if (wants.type == host::FileType::symlink) {
    ZT_TRY_ASSIGN(link, fs.read_link(k_timer_wants_path));
    if (link == k_timer_path) {
      ZT_TRY(fs.remove_file(k_timer_wants_path));
      result.actions.push_back("removed " + std::string(k_timer_wants_path));
    } else {
      spdlog::warn("{}: does not point at {}; left alone", k_timer_wants_path, k_timer_path);
    }
  }
  ZT_TRY(remove_ours(fs, k_timer_path, result));
  ZT_TRY(remove_ours(fs, k_service_path, result));
  ZT_TRY(remove_ours(fs, k_cron_path, result));
  if (host.live() && result.scheduler == Scheduler::systemd && result.changed()) {
    ZT_TRY(systemctl(host, {"daemon-reload"}, result));
  }
  return result;
}

} // namespace zt::state
