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

TEST_CASE("parse_uid_min: reads UID_MIN from login.defs", "[checks][user]") {
  const std::vector<std::pair<std::string, std::uint32_t>> rows = {
      {"", 1000},
      {"UID_MIN\t\t\t 1000\nUID_MAX 60000\n", 1000},
      {"# UID_MIN 5\nUID_MIN 500\n", 500},
      {"UID_MINIMUM 5\nSYS_UID_MIN 100\n", 1000},
      {"UID_MIN garbage\n", 1000},
      {"UID_MIN 0\n", 1000},
      {"   UID_MIN   2000   \n", 2000},
  };
  for (const auto& [text, expected] : rows) {
    INFO(text);
    CHECK(zt::checks::parse_uid_min(text) == expected);
  }
  CHECK(zt::checks::account_kind(999, 1000) == "system");
  CHECK(zt::checks::account_kind(1000, 1000) == "regular");
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
