// SPDX-License-Identifier: Apache-2.0
#include "check_fixture.hpp"
#include "checks/user.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

using zt::checks::Outcome;

namespace {

using zt::test::find_check;

zt::checks::UserSpec spec() {
  zt::profile::SiteConfig site; // ztnet, system, /home/ztnet, /usr/sbin/nologin
  return zt::checks::user_spec(site);
}

/// The converged state: system account 999:999, own group, home 0700 owned by it.
void converge(zt::test::TempRoot& root, zt::host::Fs& fs) {
  root.append("/etc/passwd", "ztnet:x:999:999::/home/ztnet:/usr/sbin/nologin\n");
  root.append("/etc/group", "ztnet:x:999:\n");
  root.mkdir("/home");
  REQUIRE(fs.make_directory("/home/ztnet", 0700));
  REQUIRE(fs.set_owner("/home/ztnet", 999, 999));
}

} // namespace

TEST_CASE("user_spec: defaults the home to /home/<user>", "[checks][user]") {
  zt::profile::SiteConfig site;
  auto s = zt::checks::user_spec(site);
  CHECK(s.name == "ztnet");
  CHECK(s.system);
  CHECK(s.home == "/home/ztnet");
  CHECK(s.shell == "/usr/sbin/nologin");

  site.user = "svc";
  site.system_user = false;
  site.home = "/srv/svc";
  site.shell = "/bin/bash";
  s = zt::checks::user_spec(site);
  CHECK(s.name == "svc");
  CHECK_FALSE(s.system);
  CHECK(s.home == "/srv/svc");
  CHECK(s.shell == "/bin/bash");
}

TEST_CASE("parse_login_defs_ids: reads the id limits, refuses a corrupt value", "[checks][user]") {
  struct Row {
    std::string text;
    std::uint32_t uid_min, sys_uid_min, gid_min, sys_gid_min;
  };
  const std::vector<Row> rows = {
      {"", 1000, 101, 1000, 101},
      {"UID_MIN\t\t\t 1000\nUID_MAX 60000\n", 1000, 101, 1000, 101},
      {"# UID_MIN 5\nUID_MIN 500\n", 500, 101, 1000, 101},
      {"UID_MINIMUM 5\nSYS_UID_MIN 100\nSYS_GID_MIN 200\nGID_MIN 2000\n", 1000, 100, 2000, 200},
      {"   UID_MIN   2000   \n", 2000, 101, 1000, 101},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto ids = zt::checks::parse_login_defs_ids(row.text);
    REQUIRE(ids);
    CHECK(ids->uid_min == row.uid_min);
    CHECK(ids->sys_uid_min == row.sys_uid_min);
    CHECK(ids->gid_min == row.gid_min);
    CHECK(ids->sys_gid_min == row.sys_gid_min);
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"UID_MIN garbage\n", "/etc/login.defs:1: UID_MIN 'garbage' is not a decimal id above 0"},
      {"# x\nUID_MIN 0\n", "/etc/login.defs:2: UID_MIN '0' is not a decimal id above 0"},
      {"SYS_UID_MIN 99999999999\n", "/etc/login.defs:1: SYS_UID_MIN '99999999999' is not a decimal id above 0"},
  };
  for (const auto& [text, message] : bad) {
    INFO(text);
    auto ids = zt::checks::parse_login_defs_ids(text);
    REQUIRE_FALSE(ids);
    CHECK(ids.error().code == zt::Errc::parse);
    CHECK(ids.error().message == message + "; fix it (shadow falls back to its default and only warns)");
  }
  CHECK(zt::checks::account_kind(999, 1000) == "system");
  CHECK(zt::checks::account_kind(1000, 1000) == "regular");
}

TEST_CASE("account_id_problems: root ids, reserved ids and ids inside another user's subordinate range",
          "[checks][user]") {
  using zt::checks::SubIdEntry;
  const zt::checks::LoginDefsIds ids{};
  auto account = [](std::uint32_t uid, std::uint32_t gid) {
    return zt::host::Account{"ztnet", uid, gid, "/home/ztnet", "/usr/sbin/nologin"};
  };
  const std::vector<SubIdEntry> none;
  CHECK(zt::checks::account_id_problems(account(999, 999), 999, true, ids, none, none).empty());
  CHECK(zt::checks::account_id_problems(account(0, 0), 0, true, ids, none, none) ==
        std::vector<std::string>{
            "uid 0 is root's: the \"rootless\" stack would run as root",
            "its group ztnet has gid 0, root's group: every file of the stack would belong to it"});
  // A wrong primary gid is the user step's to correct (usermod --gid) and user.group's to report.
  CHECK(zt::checks::account_id_problems(account(999, 0), 998, true, ids, none, none).empty());
  // No own group yet: groupadd will make one.
  CHECK(zt::checks::account_id_problems(account(999, 100), std::nullopt, true, ids, none, none).empty());
  CHECK(zt::checks::account_id_problems(account(42, 999), 999, true, ids, none, none) ==
        std::vector<std::string>{
            "uid 42 is below SYS_UID_MIN 101 (ids the distribution reserves for its static accounts)"});
  CHECK(zt::checks::account_id_problems(account(999, 7), 7, true, ids, none, none) ==
        std::vector<std::string>{"its group ztnet has gid 7, below SYS_GID_MIN 101 (ids the distribution "
                                 "reserves for its static groups)"});
  // A regular account is not held to SYS_UID_MIN.
  CHECK(zt::checks::account_id_problems(account(42, 42), 42, false, ids, none, none).empty());
  const std::vector<SubIdEntry> subuid = {{"alice", 100000, 65536, 1}, {"ztnet", 165536, 65536, 2}};
  const std::vector<SubIdEntry> subgid = {{"1000", 100000, 65536, 1}};
  CHECK(zt::checks::account_id_problems(account(100999, 100999), 100999, false, ids, subuid, subgid) ==
        std::vector<std::string>{
            "uid 100999 lies in alice:100000:65536 of /etc/subuid: alice's containers could act as ztnet",
            "gid 100999 lies in 1000:100000:65536 of /etc/subgid: 1000's containers could act as ztnet"});
  // Its own range is subids.no-real-uid's business, not this check's.
  CHECK(zt::checks::account_id_problems(account(170000, 999), 999, false, ids, subuid, none).empty());
}

TEST_CASE("user checks: pass on a converged account", "[checks][user]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown the test home directory");
  }
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  converge(root, host.fs());
  auto all = zt::checks::make_user_checks(spec());
  std::vector<std::string> ids;
  for (const auto& c : all) {
    ids.emplace_back(c->id());
    CHECK(c->step() == "user");
  }
  CHECK(ids == std::vector<std::string>{"user.account", "user.group", "user.home"});

  auto account = find_check(all, "user.account").run(host.view());
  CHECK(account.outcome == Outcome::pass);
  CHECK(account.expected == "ztnet: system account, home /home/ztnet, shell /usr/sbin/nologin");
  CHECK(account.actual == "ztnet: system account (uid 999), home /home/ztnet, shell /usr/sbin/nologin");
  auto group = find_check(all, "user.group").run(host.view());
  CHECK(group.outcome == Outcome::pass);
  CHECK(group.actual == "primary group ztnet (gid 999)");
  auto home = find_check(all, "user.home").run(host.view());
  CHECK(home.outcome == Outcome::pass);
  CHECK(home.actual == "/home/ztnet: directory 999:999 0700");

  SECTION("0755 is fine: only group/other write is refused") {
    REQUIRE(host.fs().set_mode("/home/ztnet", 0755));
    CHECK(find_check(all, "user.home").run(host.view()).outcome == Outcome::pass);
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("user checks: fail on each tampered state", "[checks][user]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown the test home directory");
  }
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto all = zt::checks::make_user_checks(spec());
  auto run = [&](std::string_view id) { return find_check(all, id).run(host.view()); };

  SECTION("no account: every check fails and names the user step") {
    for (const auto* id : {"user.account", "user.group", "user.home"}) {
      INFO(id);
      auto r = run(id);
      CHECK(r.outcome == Outcome::fail);
      CHECK(r.actual == "user ztnet does not exist");
      CHECK(r.fix == "ztagent provision --only user");
    }
  }

  converge(root, host.fs());

  SECTION("wrong shell") {
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nztnet:x:999:999::/home/ztnet:/bin/bash\n");
    auto r = run("user.account");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "ztnet: system account (uid 999), home /home/ztnet, shell /bin/bash");
    CHECK(r.fix == "ztagent provision --only user");
  }
  SECTION("wrong home field") {
    root.write("/etc/passwd",
               "root:x:0:0::/root:/bin/sh\nztnet:x:999:999::/var/lib/ztnet:/usr/sbin/nologin\n");
    auto r = run("user.account");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "ztnet: system account (uid 999), home /var/lib/ztnet, shell /usr/sbin/nologin");
  }
  SECTION("regular account where a system one is wanted") {
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nztnet:x:1001:999::/home/ztnet:/usr/sbin/nologin\n");
    auto r = run("user.account");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "ztnet: regular account (uid 1001), home /home/ztnet, shell /usr/sbin/nologin");
    CHECK(r.fix == "remove the account or set service.system_user = false in the site config");
  }
  SECTION("login.defs moves the boundary") {
    root.write("/etc/login.defs", "UID_MIN 500\n");
    auto r = run("user.account");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "ztnet: regular account (uid 999), home /home/ztnet, shell /usr/sbin/nologin");
  }
  SECTION("own group missing") {
    root.write("/etc/group", "root:x:0:\n");
    auto r = run("user.group");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "no group ztnet (primary gid 999)");
  }
  SECTION("primary group is another group") {
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nztnet:x:999:100::/home/ztnet:/usr/sbin/nologin\n");
    auto r = run("user.group");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "primary gid 100, but group ztnet has gid 999");
  }
  SECTION("home missing") {
    std::filesystem::remove(root.real("/home/ztnet"));
    auto r = run("user.home");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "/home/ztnet does not exist");
    CHECK(r.fix == "ztagent provision --only user");
  }
  SECTION("home is a file") {
    std::filesystem::remove(root.real("/home/ztnet"));
    root.write("/home/ztnet", "");
    auto r = run("user.home");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "/home/ztnet is not a directory");
  }
  SECTION("home owned by someone else") {
    REQUIRE(host.fs().set_owner("/home/ztnet", 0, 0));
    auto r = run("user.home");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "/home/ztnet: directory 0:0 0700");
    CHECK(r.fix == "ztagent provision --only user");
  }
  SECTION("home group-writable") {
    REQUIRE(host.fs().set_mode("/home/ztnet", 0770));
    auto r = run("user.home");
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "/home/ztnet: directory 999:999 0770");
    CHECK(r.fix == "chmod go-w /home/ztnet");
  }
  SECTION("home other-writable") {
    REQUIRE(host.fs().set_mode("/home/ztnet", 0702));
    CHECK(run("user.home").outcome == Outcome::fail);
  }
  SECTION("unreadable passwd is an error, not a pass") {
    root.write("/etc/passwd", "broken line\n");
    auto r = run("user.account");
    CHECK(r.outcome == Outcome::error);
  }
  CHECK(runner.calls().empty());
}
