// SPDX-License-Identifier: Apache-2.0
#include "state/schedule.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

using zt::state::ScheduleSpec;

TEST_CASE("schedule: the service runs verify to syslog, 75 counts as success", "[state][schedule]") {
  ScheduleSpec spec;
  spec.selection = {"--profile", "debian-12", "--config", "/etc/my site/z%.toml"};
  spec.remediate = true;
  CHECK(zt::state::render_service(spec) ==
        "# Managed by ztagent (ztagent schedule install); remove with `ztagent schedule remove`.\n"
        "[Unit]\n"
        "Description=ztagent verify: detect drift of the rootless Podman ZTNet host\n"
        "Documentation=man:ztagent(8)\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "ExecStart=/usr/bin/ztagent verify --log-target syslog --remediate --profile debian-12 --config "
        "\"/etc/my site/z%%.toml\"\n"
        "# 75: another ztagent run holds /run/ztagent.lock; the next run catches up.\n"
        "SuccessExitStatus=75\n"
        "# The report is not needed here: failing checks are logged to the journal one line each.\n"
        "StandardOutput=null\n"
        "Nice=10\n"
        "IOSchedulingClass=idle\n");
}

TEST_CASE("schedule: the timer has boot and interval triggers and a stable per-host delay",
          "[state][schedule]") {
  ScheduleSpec spec;
  spec.every = std::chrono::minutes(60);
  CHECK(zt::state::render_timer(spec) ==
        "# Managed by ztagent (ztagent schedule install); remove with `ztagent schedule remove`.\n"
        "[Unit]\n"
        "Description=Run ztagent verify every 1h\n"
        "Documentation=man:ztagent(8)\n"
        "\n"
        "[Timer]\n"
        "# The first run after boot: one interval, at most 5 minutes (the stack needs a moment).\n"
        "OnBootSec=5min\n"
        "OnUnitActiveSec=1h\n"
        "# Jitter: a per-host delay, stable across runs (derived from the machine id).\n"
        "RandomizedDelaySec=300s\n"
        "FixedRandomDelay=true\n"
        "AccuracySec=1min\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n");
  spec.every = std::chrono::minutes(2);
  CHECK(zt::state::render_timer(spec).find("RandomizedDelaySec=60s\n") != std::string::npos);
  // Short intervals do not wait 5 minutes for their first run after boot.
  CHECK(zt::state::render_timer(spec).find("OnBootSec=2min\nOnUnitActiveSec=2min\n") != std::string::npos);
}

TEST_CASE("schedule: cron lines, jitter by a fixed sleep, intervals cron can express", "[state][schedule]") {
  ScheduleSpec spec;
  spec.selection = {"--profile", "debian-12", "--set", "service.user=it's"};
  auto cron = zt::state::render_cron(spec, 37);
  REQUIRE(cron);
  CHECK(*cron ==
        "# Managed by ztagent (ztagent schedule install); remove with `ztagent schedule remove`.\n"
        "# Runs `ztagent verify` every 15min after a fixed per-host delay (jitter); exit 75 (another run "
        "holds\n"
        "# /run/ztagent.lock) counts as success. Failing checks go to syslog, one line each.\n"
        "SHELL=/bin/sh\n"
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
        "*/15 * * * * root sleep 37; /usr/bin/ztagent verify --log-target syslog --profile debian-12 --set "
        "'service.user=it'\\''s' >/dev/null || [ $? -eq 75 ]\n");
  struct Row {
    int minutes;
    const char* when;
  };
  for (const Row& r : {Row{1, "* * * * * root"}, Row{5, "*/5 * * * * root"}, Row{60, "37 * * * * root"},
                       Row{360, "37 */6 * * * root"}, Row{1440, "37 0 * * * root"}}) {
    spec.every = std::chrono::minutes(r.minutes);
    auto c = zt::state::render_cron(spec, 37);
    REQUIRE(c);
    INFO(r.minutes);
    CHECK(c->find(std::string("\n") + r.when + " sleep 37; ") != std::string::npos);
  }
  spec.every = std::chrono::minutes(45);
  auto bad = zt::state::render_cron(spec, 0);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message ==
        "--every 45min: cron cannot run at that interval (use a divisor of 60 minutes or "
        "whole hours dividing 24, e.g. 15m, 30m, 1h, 6h)");
  spec.every = std::chrono::minutes(15);
  spec.selection = {"--config", "/etc/50%.toml"};
  auto percent = zt::state::render_cron(spec, 0);
  REQUIRE_FALSE(percent);
  CHECK(percent.error().message ==
        "schedule: argument '/etc/50%.toml' contains '%' or a newline, which cron would change");
}

TEST_CASE("schedule: host offset is stable and bounded", "[state][schedule]") {
  const auto a = zt::state::host_offset_seconds("0123456789abcdef", std::chrono::minutes(15));
  CHECK(a == zt::state::host_offset_seconds("0123456789abcdef", std::chrono::minutes(15)));
  CHECK(a < 300);
  CHECK(zt::state::host_offset_seconds("x", std::chrono::minutes(1)) < 30);
  bool differs = false;
  for (int i = 0; i < 10; ++i) {
    differs =
        differs || zt::state::host_offset_seconds("host" + std::to_string(i), std::chrono::minutes(15)) != a;
  }
  CHECK(differs);
}

TEST_CASE("schedule: install is idempotent, remove deletes only ztagent's files", "[state][schedule]") {
  zt::test::TempRoot root;
  root.write("/etc/machine-id", "abc\n");
  zt::test::FakeRunner runner; // under --root nothing runs
  zt::host::Host host = root.host(runner);
  CHECK(zt::state::choose_scheduler(host.view()) == zt::state::Scheduler::cron);
  root.write("/usr/lib/systemd/user/podman-auto-update.timer", "");  // units alone: still cron
  CHECK(zt::state::choose_scheduler(host.view()) == zt::state::Scheduler::cron);
  auto first = zt::state::install_schedule(host, ScheduleSpec{});
  REQUIRE(first);
  CHECK(first->actions == std::vector<std::string>{"wrote /etc/cron.d/ztagent"});
  CHECK(first->changed());
  auto second = zt::state::install_schedule(host, ScheduleSpec{});
  REQUIRE(second);
  CHECK(second->actions == std::vector<std::string>{"unchanged /etc/cron.d/ztagent"});
  CHECK_FALSE(second->changed());

  // A cron file someone else wrote is neither replaced nor removed.
  root.write("/etc/cron.d/ztagent", "# mine\n");
  auto refused = zt::state::install_schedule(host, ScheduleSpec{});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message ==
        "/etc/cron.d/ztagent: exists and was not written by ztagent; move it away and run "
        "`ztagent schedule install` again");
  auto kept = zt::state::remove_schedule(host);
  REQUIRE(kept);
  CHECK(kept->actions.empty());
  CHECK(root.read("/etc/cron.d/ztagent") == "# mine\n");
  CHECK(runner.calls().empty());
}
