// SPDX-License-Identifier: Apache-2.0
#pragma once

// `ztagent schedule install|remove`: periodic `ztagent verify` runs.
//
// Where systemd runs (live: /run/systemd/system; under --root: the image has /usr/lib/systemd or
// /lib/systemd) it writes /etc/systemd/system/ztagent-verify.{service,timer} and enables the timer
// with the symlink `systemctl enable` makes (timers.target.wants/), then, live, `systemctl
// daemon-reload` and `systemctl start ztagent-verify.timer`. Elsewhere it writes /etc/cron.d/ztagent.
//
// Jitter: the timer uses RandomizedDelaySec with FixedRandomDelay=true (a stable per-host delay
// derived from the machine id); cron has no $RANDOM (/bin/sh), so the cron line sleeps a fixed
// per-host offset computed at install time from /etc/machine-id (host_offset_seconds).
// Overlap: two runs never interleave because every run takes /run/ztagent.lock; the loser exits 75,
// which the service (SuccessExitStatus=75) and the cron line (`|| [ $? -eq 75 ]`) treat as success.
// Output: the scheduled command logs with --log-target syslog (one line per failing check) and its
// report goes to /dev/null (StandardOutput=null), so cron mails and the journal carry only problems.
//
// Every file starts with k_schedule_marker; remove deletes only files that carry it (and the enable
// symlink only when it points at ztagent's timer), i.e. exactly what install wrote.

#include "host/host.hpp"
#include "util/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zt::state {

inline constexpr std::string_view k_schedule_marker = "# Managed by ztagent (ztagent schedule install)";
inline constexpr std::string_view k_service_path = "/etc/systemd/system/ztagent-verify.service";
inline constexpr std::string_view k_timer_path = "/etc/systemd/system/ztagent-verify.timer";
inline constexpr std::string_view k_timer_wants_path =
    "/etc/systemd/system/timers.target.wants/ztagent-verify.timer";
inline constexpr std::string_view k_cron_path = "/etc/cron.d/ztagent";
/// Where the package installs ztagent: what a schedule in an image tree runs.
inline constexpr std::string_view k_packaged_binary = "/usr/bin/ztagent";

enum class Scheduler { systemd, cron };

struct ScheduleSpec {
  std::chrono::minutes every{15};
  bool remediate = false;
  /// Arguments that select what to verify, passed on: "--profile", "debian-12", "--config", "/x.toml",
  /// "--set", "k=v" ...
  std::vector<std::string> selection;
  /// The command the schedule runs: the running binary on a live host, the packaged path in an image.
  std::string binary = std::string(k_packaged_binary);
};

/// The scheduled command: BINARY verify --log-target syslog [--remediate] SELECTION...
[[nodiscard]] std::vector<std::string> scheduled_argv(const ScheduleSpec& spec);

/// The jitter in seconds for this host: a stable hash of `seed` (the machine id) modulo
/// min(every / 2, 5 min); at least 0, always the same for the same seed.
[[nodiscard]] std::uint32_t host_offset_seconds(std::string_view seed, std::chrono::minutes every);

[[nodiscard]] std::string render_service(const ScheduleSpec& spec);
[[nodiscard]] std::string render_timer(const ScheduleSpec& spec);
/// The cron.d file. Errc::invalid_config when `every` is not expressible in cron (it must divide an
/// hour or be whole hours dividing a day) or an argument holds a character cron would mangle ('%',
/// newline).
[[nodiscard]] Result<std::string> render_cron(const ScheduleSpec& spec, std::uint32_t offset_seconds);

/// systemd when systemd runs here (live) or the image has systemd (--root); cron otherwise.
[[nodiscard]] Scheduler choose_scheduler(const host::HostView& view);

struct ScheduleResult {
  Scheduler scheduler = Scheduler::cron;
  /// One line per path: "wrote /etc/cron.d/ztagent", "unchanged /etc/cron.d/ztagent", "removed ...",
  /// "ran systemctl daemon-reload".
  std::vector<std::string> actions;
  [[nodiscard]] bool changed() const;
};

/// Writes the schedule (only files whose content differs; atomically, 0644 root). Live with systemd:
/// daemon-reload and start the timer when something changed. A second install changes nothing.
[[nodiscard]] Result<ScheduleResult> install_schedule(host::Host& host, const ScheduleSpec& spec);

/// Deletes what install wrote (files with k_schedule_marker, the enable symlink pointing at ztagent's
/// timer), for both schedulers; stops the timer first when live with systemd. Nothing installed:
/// no actions.
[[nodiscard]] Result<ScheduleResult> remove_schedule(host::Host& host);

} // namespace zt::state
