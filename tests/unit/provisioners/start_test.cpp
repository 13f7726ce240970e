// SPDX-License-Identifier: Apache-2.0
#include "checks/start.hpp"
#include "provisioners/start.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using zt::provisioners::Change;
using zt::provisioners::Start;

namespace {

zt::profile::Stack test_stack() {
  zt::profile::Stack s;
  s.pod = "ztnet";
  s.secrets = {{"POSTGRES_PASSWORD", 32}, {"NEXTAUTH_SECRET", 32}};
  for (const char* name : {"postgres", "ztnet", "zerotier", "caddy"}) {
    zt::profile::Container c;
    c.name = name;
    s.containers.push_back(c);
  }
  s.containers[0].secrets = {{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD"}};
  s.containers[1].secrets = {{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD"},
                             {"NEXTAUTH_SECRET", "NEXTAUTH_SECRET"}};
  return s;
}

zt::host::Account ztnet_account() {
  return {"ztnet", 999, 999, "/home/ztnet", "/usr/sbin/nologin"};
}

const std::vector<std::string> k_units = {"ztnet-pod.service",   "ztnet-postgres.service",
                                          "ztnet-ztnet.service", "ztnet-zerotier.service",
                                          "ztnet-caddy.service", "podman-auto-update.timer"};

const std::vector<std::string> k_user_systemctl = {"runuser", "-u", "ztnet", "--", "systemctl", "--user"};

std::vector<std::string> show_argv() {
  std::vector<std::string> argv = k_user_systemctl;
  argv.insert(argv.end(), {"show", "-p", "Id,LoadState,ActiveState,NeedDaemonReload,UnitFileState"});
  argv.insert(argv.end(), k_units.begin(), k_units.end());
  return argv;
}

std::vector<std::string> user_systemctl(std::vector<std::string> args) {
  std::vector<std::string> argv = k_user_systemctl;
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

/// A user systemd manager in memory: answers `show`, and carries out daemon-reload, start, restart.
class FakeUserManager final : public zt::host::CommandRunner {
public:
  struct Unit {
    std::string load = "loaded";
    std::string active = "inactive";
    bool need_reload = false;
    std::string file = "enabled";
    bool on_disk = true;       // a not-found unit loads on daemon-reload when its file exists
    bool binds_to_pod = false; // stopped when the pod restarts (BindsTo= without a restart)
  };

  FakeUserManager() {
    for (const auto& u : k_units) {
      units[u] = Unit{};
    }
  }

  zt::Result<zt::host::CommandResult> run(const zt::host::Command& cmd) override {
    m_calls.push_back(cmd);
    if (cmd.argv == show_argv()) {
      CHECK(cmd.effect == zt::host::Effect::read_only);
      std::string out;
      for (const auto& id : k_units) {
        const Unit& u = units.at(id);
        if (!out.empty()) {
          out += "\n";
        }
        out += "Id=" + id + "\nLoadState=" + u.load + "\nActiveState=" + u.active +
               "\nNeedDaemonReload=" + (u.need_reload ? "yes" : "no") + "\nUnitFileState=" + u.file + "\n";
      }
      return zt::host::CommandResult{0, out, ""};
    }
    CHECK(cmd.effect == zt::host::Effect::mutating);
    if (cmd.argv == user_systemctl({"daemon-reload"})) {
      for (auto& [id, u] : units) {
        u.need_reload = false;
        if (u.load == "not-found" && u.on_disk) {
          u.load = "loaded";
        }
      }
      return zt::host::CommandResult{};
    }
    if (cmd.argv.size() == k_user_systemctl.size() + 2) {
      const std::string& verb = cmd.argv[k_user_systemctl.size()];
      const std::string& id = cmd.argv.back();
      if ((verb == "start" || verb == "restart") && units.contains(id)) {
        CHECK(cmd.timeout == std::chrono::seconds{600});
        if (failing.contains(id)) {
          return zt::host::CommandResult{
              1, "", "Job for " + id + " failed because the control process exited with error code.\n"};
        }
        units[id].active = "active";
        if (verb == "restart" && id == "ztnet-pod.service") {
          for (auto& [other, u] : units) {
            if (u.binds_to_pod) {
              u.active = "inactive";
            }
          }
        }
        return zt::host::CommandResult{};
      }
    }
    FAIL_CHECK("FakeUserManager: unexpected command: " << zt::util::quote_argv(cmd.argv));
    return zt::make_error(zt::Errc::internal, "unexpected");
  }

  /// The mutating commands, as "verb unit" strings.
  [[nodiscard]] std::vector<std::string> actions() const {
    std::vector<std::string> out;
    for (const auto& c : m_calls) {
      if (c.effect == zt::host::Effect::mutating) {
        std::vector<std::string> rest(c.argv.begin() + static_cast<std::ptrdiff_t>(k_user_systemctl.size()),
                                      c.argv.end());
        out.push_back(zt::util::join(rest, " "));
      }
    }
    return out;
  }
  [[nodiscard]] const std::vector<zt::host::Command>& calls() const { return m_calls; }
  void all_active() {
    for (auto& [id, u] : units) {
      u.active = "active";
    }
  }

  std::map<std::string, Unit> units;
  std::set<std::string> failing;

private:
  std::vector<zt::host::Command> m_calls;
};

} // namespace

TEST_CASE("start_actions: table", "[provisioners][start]") {
  auto state = [](std::string id, std::string load, std::string active, bool reload) {
    zt::checks::UnitState s;
    s.id = std::move(id);
    s.load_state = std::move(load);
    s.active_state = std::move(active);
    s.need_daemon_reload = reload;
    s.unit_file_state = "enabled";
    return s;
  };
  auto running = zt::provisioners::start_actions("ztnet", {state("a.service", "loaded", "active", false),
                                                           state("b.service", "loaded", "activating", false),
                                                           state("c.service", "loaded", "reloading", false)});
  REQUIRE(running);
  CHECK(running->empty());
  CHECK(running->changes.empty());

  auto mixed = zt::provisioners::start_actions("ztnet", {state("a.service", "loaded", "active", true),
                                                         state("b.service", "loaded", "failed", false),
                                                         state("c.service", "not-found", "inactive", false),
                                                         state("d.service", "loaded", "inactive", true)});
  REQUIRE(mixed);
  CHECK(mixed->daemon_reload);
  CHECK(mixed->restart == std::vector<std::string>{"a.service"});
  CHECK(mixed->start == std::vector<std::string>{"b.service", "c.service", "d.service"});
  CHECK(mixed->changes == std::vector<Change>{
                              {"user manager of ztnet", "daemon-reload"},
                              {"a.service", "restart (unit file changed)"},
                              {"b.service", "start (failed)"},
                              {"c.service", "start (new unit, not-found)"},
                              {"d.service", "start (inactive, unit file changed)"},
                          });

  auto masked = zt::provisioners::start_actions("ztnet", {state("a.service", "masked", "inactive", false)});
  REQUIRE_FALSE(masked);
  CHECK(masked.error().code == zt::Errc::refused);
  CHECK(masked.error().message ==
        "a.service is masked; unmask it (systemctl --user unmask a.service as ztnet) and "
        "run again");
}

TEST_CASE("Start: converges a stopped stack, pod first, then plans nothing", "[provisioners][start]") {
  zt::test::TempRoot root;
  FakeUserManager manager;
  auto host = root.host(manager);
  const auto account = ztnet_account();
  const auto stack = test_stack();

  auto plan = zt::provisioners::plan_start(host.view(), account, stack);
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{
                             {"ztnet-pod.service", "start (inactive)"},
                             {"ztnet-postgres.service", "start (inactive)"},
                             {"ztnet-ztnet.service", "start (inactive)"},
                             {"ztnet-zerotier.service", "start (inactive)"},
                             {"ztnet-caddy.service", "start (inactive)"},
                             {"podman-auto-update.timer", "start (inactive)"},
                         });
  CHECK(manager.actions().empty());

  REQUIRE(zt::provisioners::apply_start(host, account, stack));
  CHECK(manager.actions() == std::vector<std::string>{
                                 "start ztnet-pod.service",
                                 "start ztnet-postgres.service",
                                 "start ztnet-ztnet.service",
                                 "start ztnet-zerotier.service",
                                 "start ztnet-caddy.service",
                                 "start podman-auto-update.timer",
                             });
  for (const auto& c : manager.calls()) {
    CHECK(c.scope == zt::host::Scope::host);
    CHECK(c.cwd == std::optional<std::string>{"/"});
  }
  auto again = zt::provisioners::plan_start(host.view(), account, stack);
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("Start: new units are loaded with one daemon-reload, then started", "[provisioners][start]") {
  zt::test::TempRoot root;
  FakeUserManager manager;
  manager.units["podman-auto-update.timer"].active = "active";
  for (const auto& id : {"ztnet-pod.service", "ztnet-postgres.service", "ztnet-ztnet.service",
                         "ztnet-zerotier.service", "ztnet-caddy.service"}) {
    manager.units[id].load = "not-found";
    manager.units[id].file = "";
  }
  auto host = root.host(manager);
  auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(plan);
  REQUIRE(plan->changes.size() == 6);
  CHECK(plan->changes[0] == Change{"user manager of ztnet", "daemon-reload"});
  CHECK(plan->changes[1] == Change{"ztnet-pod.service", "start (new unit, not-found)"});
  REQUIRE(zt::provisioners::apply_start(host, ztnet_account(), test_stack()));
  CHECK(manager.actions() == std::vector<std::string>{
                                 "daemon-reload",
                                 "start ztnet-pod.service",
                                 "start ztnet-postgres.service",
                                 "start ztnet-ztnet.service",
                                 "start ztnet-zerotier.service",
                                 "start ztnet-caddy.service",
                             });
  auto again = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("Start: one changed unit file -> one daemon-reload and a restart of exactly that unit",
          "[provisioners][start]") {
  zt::test::TempRoot root;
  FakeUserManager manager;
  manager.all_active();
  manager.units["ztnet-ztnet.service"].need_reload = true;
  auto host = root.host(manager);

  auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{
                             {"user manager of ztnet", "daemon-reload"},
                             {"ztnet-ztnet.service", "restart (unit file changed)"},
                         });
  REQUIRE(zt::provisioners::apply_start(host, ztnet_account(), test_stack()));
  CHECK(manager.actions() == std::vector<std::string>{"daemon-reload", "restart ztnet-ztnet.service"});
  auto again = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("Start: containers stopped by a pod restart are started again", "[provisioners][start]") {
  zt::test::TempRoot root;
  FakeUserManager manager;
  manager.all_active();
  manager.units["ztnet-pod.service"].need_reload = true;
  for (const auto& id :
       {"ztnet-postgres.service", "ztnet-ztnet.service", "ztnet-zerotier.service", "ztnet-caddy.service"}) {
    manager.units[id].binds_to_pod = true;
  }
  auto host = root.host(manager);
  auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(plan);
  REQUIRE(zt::provisioners::apply_start(host, ztnet_account(), test_stack()));
  CHECK(manager.actions() == std::vector<std::string>{
                                 "daemon-reload",
                                 "restart ztnet-pod.service",
                                 "start ztnet-postgres.service",
                                 "start ztnet-ztnet.service",
                                 "start ztnet-zerotier.service",
                                 "start ztnet-caddy.service",
                             });
  auto again = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("Start: a second run plans nothing and runs no mutating command", "[provisioners][start]") {
  zt::test::TempRoot root;
  FakeUserManager manager;
  manager.all_active();
  auto host = root.host(manager);
  auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(zt::provisioners::apply_start(host, ztnet_account(), test_stack()));
  CHECK(manager.actions().empty());
  CHECK(manager.calls().size() == 2); // two read-only `show`
}

TEST_CASE("Start: dry run reads once and changes nothing", "[provisioners][start]") {
  zt::test::TempRoot root;
  FakeUserManager manager;
  manager.units["ztnet-caddy.service"].need_reload = true;
  auto host = root.host(manager);
  auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 7);
  CHECK(manager.calls().size() == 1);
  CHECK(manager.actions().empty());
  CHECK(manager.units["ztnet-caddy.service"].need_reload);
  CHECK(manager.units["ztnet-pod.service"].active == "inactive");
}

TEST_CASE("Start: without a running systemd the plan is empty and nothing runs", "[provisioners][start]") {
  zt::test::TempRoot root; // --root: not live, so no systemd
  root.add_user("ztnet", 999, 999, "/home/ztnet");
  zt::test::FakeRunner runner; // any command would fail the test
  auto host = root.host(runner);
  zt::profile::Config config;
  config.stack = test_stack();
  auto step = zt::provisioners::make_start_step(config, {});
  CHECK(step.id == "start");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "start");
  auto plan = step.provisioner->plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(step.provisioner->apply(host, *plan));
  REQUIRE(step.checks.size() == 2);
  for (const auto& check : step.checks) {
    INFO(check->id());
    CHECK(check->runtime());
    auto r = check->run(host.view());
    CHECK(r.outcome == zt::checks::Outcome::skip);
    CHECK(r.actual == "not a running system: started at boot by the user manager");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("Start: failures give exact messages", "[provisioners][start]") {
  zt::test::TempRoot root;

  SECTION("the user manager is not running") {
    zt::test::FakeRunner runner;
    runner.on(show_argv(), {1, "", "Failed to connect to bus: No such file or directory\n"});
    auto host = root.host(runner);
    auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::command_failed);
    CHECK(plan.error().message ==
          "start: user manager of ztnet not running: run `ztagent provision --only linger` "
          "or check `systemctl status user@999.service`");
    CHECK(runner.mutating_calls() == 0);
  }
  SECTION("a unit fails to start") {
    FakeUserManager manager;
    manager.all_active();
    manager.units["ztnet-postgres.service"].active = "failed";
    manager.failing.insert("ztnet-postgres.service");
    auto host = root.host(manager);
    auto applied = zt::provisioners::apply_start(host, ztnet_account(), test_stack());
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message ==
          "start: systemctl --user start ztnet-postgres.service failed (exit 1): Job for "
          "ztnet-postgres.service "
          "failed because the control process exited with error code.; see journalctl --user-unit "
          "ztnet-postgres.service");
  }
  SECTION("a unit is still not found after daemon-reload") {
    FakeUserManager manager;
    manager.all_active();
    manager.units["ztnet-caddy.service"].load = "not-found";
    manager.units["ztnet-caddy.service"].on_disk = false;
    auto host = root.host(manager);
    auto applied = zt::provisioners::apply_start(host, ztnet_account(), test_stack());
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::not_found);
    CHECK(applied.error().message ==
          "start: ztnet-caddy.service is not-found for the user manager of ztnet after daemon-reload; run "
          "`ztagent provision --only units` and check its unit files");
    CHECK(manager.actions() == std::vector<std::string>{"daemon-reload"});
  }
  SECTION("systemctl output that does not match the units asked for") {
    zt::test::FakeRunner runner;
    runner.on(show_argv(), {0, "Id=ztnet-pod.service\nActiveState=active\n", ""});
    auto host = root.host(runner);
    auto plan = zt::provisioners::plan_start(host.view(), ztnet_account(), test_stack());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::parse);
    CHECK(plan.error().message == "start: systemctl --user show: 1 blocks for 6 units");
  }
}
