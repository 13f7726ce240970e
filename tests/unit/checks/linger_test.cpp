// SPDX-License-Identifier: Apache-2.0
#include "check_fixture.hpp"
#include "checks/linger.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <stdexcept>
#include <string>
#include <vector>

using zt::checks::Outcome;
using zt::host::FileStat;
using zt::host::FileType;

namespace {

using zt::test::find_check;

FileStat stat_of(FileType type, std::uint32_t uid = 0) {
  FileStat st;
  st.type = type;
  st.uid = uid;
  st.mode = 0700;
  return st;
}

} // namespace

TEST_CASE("linger checks: ids, kinds, and a pass on a converged tree", "[checks][linger]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 999);
  root.write("/var/lib/systemd/linger/ztnet", "");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto all = zt::checks::make_linger_checks("ztnet");

  std::vector<std::string> ids;
  std::vector<bool> runtime;
  for (const auto& c : all) {
    ids.emplace_back(c->id());
    runtime.push_back(c->runtime());
    CHECK(c->step() == "linger");
  }
  CHECK(ids == std::vector<std::string>{"linger.enabled", "linger.user-manager", "linger.runtime-dir",
                                        "linger.user-bus"});
  CHECK(runtime == std::vector<bool>{false, true, true, true});

  auto enabled = find_check(all, "linger.enabled").run(host.view());
  CHECK(enabled.outcome == Outcome::pass);
  CHECK(enabled.expected == "/var/lib/systemd/linger/ztnet exists");
  CHECK(enabled.actual == "/var/lib/systemd/linger/ztnet exists");

  // Under --root the runtime checks say why they cannot run, even when the user is missing.
  for (const auto* id : {"linger.user-manager", "linger.runtime-dir", "linger.user-bus"}) {
    INFO(id);
    auto r = find_check(all, id).run(host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "not the live host (--root): checked after boot");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("linger checks: fail on each tampered state", "[checks][linger]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto all = zt::checks::make_linger_checks("ztnet");
  auto run = [&] { return find_check(all, "linger.enabled").run(host.view()); };

  SECTION("user missing names the earlier step") {
    root.write("/var/lib/systemd/linger/ztnet", "");
    auto r = run();
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "user ztnet does not exist");
    CHECK(r.fix == "ztagent provision --only user,linger");
  }
  SECTION("flag file missing") {
    root.add_user("ztnet", 999, 999);
    auto r = run();
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "/var/lib/systemd/linger/ztnet is missing");
    CHECK(r.fix == "ztagent provision --only linger (or: loginctl enable-linger ztnet)");
  }
  SECTION("a directory instead of the flag file") {
    root.add_user("ztnet", 999, 999);
    root.mkdir("/var/lib/systemd/linger/ztnet");
    auto r = run();
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "/var/lib/systemd/linger/ztnet is a directory");
    CHECK(r.fix == "remove /var/lib/systemd/linger/ztnet, then: ztagent provision --only linger");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("linger runtime checks: skip on a live host without systemd", "[checks][linger]") {
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  if (host.view().systemd_running()) {
    ZT_SKIP("systemd runs here; this test is for image/container builds");
  }
  for (const auto& c : zt::checks::make_linger_checks("ztnet")) {
    if (!c->runtime()) {
      continue;
    }
    INFO(c->id());
    auto r = c->run(host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "systemd is not running here (image or container build)");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("judge_user_manager", "[checks][linger]") {
  using zt::host::CommandResult;
  auto active =
      zt::checks::judge_user_manager(999, CommandResult{.exit_code = 0, .out = "active\n", .err = ""});
  CHECK(active.outcome == Outcome::pass);
  CHECK(active.expected == "user@999.service active");
  CHECK(active.actual == "user@999.service active");

  auto inactive =
      zt::checks::judge_user_manager(999, CommandResult{.exit_code = 3, .out = "inactive\n", .err = ""});
  CHECK(inactive.outcome == Outcome::fail);
  CHECK(inactive.actual == "user@999.service inactive");
  CHECK(inactive.fix == "ztagent provision --only linger, then see: systemctl status user@999.service");

  auto silent = zt::checks::judge_user_manager(999, CommandResult{.exit_code = 1, .out = "", .err = ""});
  CHECK(silent.outcome == Outcome::fail);
  CHECK(silent.actual == "user@999.service exit 1");

  zt::Result<CommandResult> broken = zt::make_error(zt::Errc::io, "systemctl: cannot start");
  auto err = zt::checks::judge_user_manager(999, broken);
  CHECK(err.outcome == Outcome::error);
  CHECK(err.actual == "systemctl: cannot start");
}

TEST_CASE("judge_runtime_dir", "[checks][linger]") {
  auto good = zt::checks::judge_runtime_dir(999, stat_of(FileType::directory, 999));
  CHECK(good.outcome == Outcome::pass);
  CHECK(good.expected == "/run/user/999 directory owned by uid 999");
  CHECK(good.actual == "/run/user/999 directory owned by uid 999");

  auto missing = zt::checks::judge_runtime_dir(999, stat_of(FileType::missing));
  CHECK(missing.outcome == Outcome::fail);
  CHECK(missing.actual == "/run/user/999 is missing");
  CHECK(missing.fix == "systemctl start user@999.service (logind creates /run/user/999)");

  auto file = zt::checks::judge_runtime_dir(999, stat_of(FileType::regular, 999));
  CHECK(file.outcome == Outcome::fail);
  CHECK(file.actual == "/run/user/999 is a regular file");

  auto foreign = zt::checks::judge_runtime_dir(999, stat_of(FileType::directory, 0));
  CHECK(foreign.outcome == Outcome::fail);
  CHECK(foreign.actual == "/run/user/999 directory owned by uid 0");
}

TEST_CASE("judge_user_bus", "[checks][linger]") {
  auto good = zt::checks::judge_user_bus(999, stat_of(FileType::socket, 999));
  CHECK(good.outcome == Outcome::pass);
  CHECK(good.actual == "/run/user/999/bus socket");

  auto missing = zt::checks::judge_user_bus(999, stat_of(FileType::missing));
  CHECK(missing.outcome == Outcome::fail);
  CHECK(missing.actual == "/run/user/999/bus is missing");
  CHECK(missing.fix == "install dbus-user-session (ztagent provision --only packages), then: systemctl "
                       "restart user@999.service");

  auto link = zt::checks::judge_user_bus(999, stat_of(FileType::symlink, 999));
  CHECK(link.outcome == Outcome::fail);
  CHECK(link.actual == "/run/user/999/bus is a symlink");
}
