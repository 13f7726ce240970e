// SPDX-License-Identifier: Apache-2.0
#include "checks/start.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <string>
#include <vector>

using zt::checks::Outcome;
using zt::checks::UnitState;

namespace {

zt::profile::Stack test_stack() {
  zt::profile::Stack s;
  s.pod = "ztnet";
  for (const char* name : {"postgres", "ztnet", "zerotier", "caddy"}) {
    zt::profile::Container c;
    c.name = name;
    s.containers.push_back(c);
  }
  return s;
}

const std::vector<std::string> k_units = {"ztnet-pod.service",   "ztnet-postgres.service",
                                          "ztnet-ztnet.service", "ztnet-zerotier.service",
                                          "ztnet-caddy.service", "podman-auto-update.timer"};

/// `systemctl show` output for k_units, all loaded, active and enabled, with `edits` applied.
std::string show_output(const std::vector<std::pair<std::string, std::string>>& edits = {}) {
  std::string out;
  for (const auto& id : k_units) {
    std::string active = "active";
    std::string file = id.ends_with(".timer") ? "enabled" : "generated";
    std::string load = "loaded";
    for (const auto& [unit, edit] : edits) {
      if (unit != id) {
        continue;
      }
      if (edit.starts_with("ActiveState=")) {
        active = edit.substr(12);
      } else if (edit.starts_with("UnitFileState=")) {
        file = edit.substr(14);
      } else if (edit.starts_with("LoadState=")) {
        load = edit.substr(10);
      }
    }
    if (!out.empty()) {
      out += "\n";
    }
    out += "Id=" + id + "\nLoadState=" + load + "\nActiveState=" + active +
           "\nNeedDaemonReload=no\nUnitFileState=" + file + "\n";
  }
  return out;
}

zt::Result<std::vector<UnitState>> states_of(const std::string& out) {
  return zt::checks::parse_unit_show(out, k_units);
}

} // namespace

TEST_CASE("start_units and unit_show_command", "[checks][start]") {
  CHECK(zt::checks::start_units(test_stack()) == k_units);
  zt::host::Account account{"ztnet", 999, 999, "/home/ztnet", "/usr/sbin/nologin"};
  auto cmd = zt::checks::unit_show_command(account, {"a.service", "b.timer"});
  CHECK(cmd.argv == std::vector<std::string>{"runuser", "-u", "ztnet", "--", "systemctl", "--user", "show",
                                             "-p", "Id,LoadState,ActiveState,NeedDaemonReload,UnitFileState",
                                             "a.service", "b.timer"});
  CHECK(cmd.effect == zt::host::Effect::read_only);
}

TEST_CASE("parse_unit_show: table", "[checks][start]") {
  auto good = zt::checks::parse_unit_show("Id=a.service\nNeedDaemonReload=yes\nLoadState=loaded\nActiveState="
                                          "failed\nUnitFileState=enabled\n\nId=b.timer\nActiveState=active\n",
                                          {"a.service", "b.timer"});
  REQUIRE(good);
  REQUIRE(good->size() == 2);
  CHECK((*good)[0].id == "a.service");
  CHECK((*good)[0].need_daemon_reload);
  CHECK((*good)[0].active_state == "failed");
  CHECK((*good)[0].unit_file_state == "enabled");
  CHECK_FALSE((*good)[0].running());
  CHECK((*good)[1].id == "b.timer");
  CHECK((*good)[1].running());
  CHECK_FALSE((*good)[1].need_daemon_reload);
  CHECK((*good)[1].unit_file_state.empty());

  struct Row {
    std::string out;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"", "systemctl --user show: 0 blocks for 2 units"},
      {"Id=a\n", "systemctl --user show: 1 blocks for 2 units"},
      {"Id=a\n\nId=b\n\nId=c\n", "systemctl --user show: more blocks than the 2 units asked for"},
      {"Id=a\ngarbage\n\nId=b\n", "systemctl --user show: line 2 is not Key=Value"},
  };
  for (const auto& row : rows) {
    INFO(row.out);
    auto parsed = zt::checks::parse_unit_show(row.out, {"a.service", "b.timer"});
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == zt::Errc::parse);
    CHECK(parsed.error().message == row.error);
  }
}

TEST_CASE("start checks: verdicts pass on a running stack and fail on each tampered state",
          "[checks][start]") {
  const auto stack = test_stack();
  const std::string units_expected =
      "ztnet-pod.service, ztnet-postgres.service, ztnet-ztnet.service, ztnet-zerotier.service, "
      "ztnet-caddy.service active";

  auto good = states_of(show_output());
  REQUIRE(good);
  auto units = zt::checks::judge_units_active(stack, good);
  CHECK(units.outcome == Outcome::pass);
  CHECK(units.expected == units_expected);
  CHECK(units.actual == "all 5 units active");
  auto timer = zt::checks::judge_auto_update_timer(good);
  CHECK(timer.outcome == Outcome::pass);
  CHECK(timer.actual == "podman-auto-update.timer active, enabled");

  SECTION("a container failed") {
    auto s = states_of(show_output({{"ztnet-caddy.service", "ActiveState=failed"}}));
    auto r = zt::checks::judge_units_active(stack, s);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "ztnet-caddy.service failed");
    CHECK(r.fix == "ztagent provision --only units,start; see journalctl --user-unit ztnet-caddy.service");
    CHECK(zt::checks::judge_auto_update_timer(s).outcome == Outcome::pass);
  }
  SECTION("the pod is inactive and a unit is missing") {
    auto s = states_of(show_output(
        {{"ztnet-pod.service", "ActiveState=inactive"}, {"ztnet-ztnet.service", "LoadState=not-found"}}));
    auto r = zt::checks::judge_units_active(stack, s);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "ztnet-pod.service inactive, ztnet-ztnet.service not-found");
  }
  SECTION("the timer is inactive") {
    auto s = states_of(show_output({{"podman-auto-update.timer", "ActiveState=inactive"}}));
    auto r = zt::checks::judge_auto_update_timer(s);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "podman-auto-update.timer inactive, enabled");
    CHECK(zt::checks::judge_units_active(stack, s).outcome == Outcome::pass);
  }
  SECTION("the timer is active but not enabled (would not survive a reboot)") {
    auto s = states_of(show_output({{"podman-auto-update.timer", "UnitFileState=disabled"}}));
    auto r = zt::checks::judge_auto_update_timer(s);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "podman-auto-update.timer active, disabled");
    CHECK(r.fix == "ztagent provision --only units,start");
  }
  SECTION("the user manager is not running") {
    zt::Result<std::vector<UnitState>> down = zt::make_error(
        zt::Errc::command_failed, "user manager of ztnet not running: run `ztagent provision --only "
                                  "linger` or check `systemctl status user@999.service`");
    auto r = zt::checks::judge_units_active(stack, down);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == down.error().message);
    CHECK(zt::checks::judge_auto_update_timer(down).outcome == Outcome::fail);
  }
  SECTION("unreadable output is an error, not a verdict") {
    auto s = states_of("nonsense\n");
    CHECK(zt::checks::judge_units_active(stack, s).outcome == Outcome::error);
    CHECK(zt::checks::judge_auto_update_timer(s).outcome == Outcome::error);
  }
}

TEST_CASE("query_units: the user manager unreachable says what to do", "[checks][start]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  zt::host::Account account{"ztnet", 999, 999, "/home/ztnet", "/usr/sbin/nologin"};
  auto cmd = zt::checks::unit_show_command(account, k_units);
  SECTION("no bus") {
    runner.on(cmd.argv, {1, "", "Failed to connect to bus: No such file or directory\n"});
    auto host = root.host(runner);
    auto r = zt::checks::query_units(host.view(), account, k_units);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == zt::Errc::command_failed);
    CHECK(r.error().message ==
          "user manager of ztnet not running: run `ztagent provision --only linger` or check "
          "`systemctl status user@999.service`");
  }
  SECTION("another failure") {
    runner.on(cmd.argv, {1, "", "Access denied\n"});
    auto host = root.host(runner);
    auto r = zt::checks::query_units(host.view(), account, k_units);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "systemctl --user show failed (exit 1): Access denied");
  }
  SECTION("success") {
    runner.on(cmd.argv, {0, show_output(), ""});
    auto host = root.host(runner);
    auto r = zt::checks::query_units(host.view(), account, k_units);
    REQUIRE(r);
    CHECK(r->size() == 6);
  }
  CHECK(runner.mutating_calls() == 0);
}
