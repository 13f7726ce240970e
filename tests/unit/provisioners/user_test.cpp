// SPDX-License-Identifier: Apache-2.0
#include "provisioners/user.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using zt::provisioners::Change;
using zt::provisioners::User;

namespace {

zt::checks::UserSpec default_spec() {
  return zt::checks::user_spec(zt::profile::SiteConfig{});
}

std::vector<std::string> useradd(const zt::test::TempRoot& root) {
  return {"useradd",     "--prefix", root.str(),          "--system",     "--create-home", "--home-dir",
          "/home/ztnet", "--shell",  "/usr/sbin/nologin", "--user-group", "ztnet"};
}

/// What useradd --prefix does to the tree: passwd/group lines and a 0755 home owned by the user.
void simulate_useradd(zt::test::TempRoot& root, const std::string& passwd_line, bool add_group = true) {
  root.append("/etc/passwd", passwd_line);
  if (add_group) {
    root.append("/etc/group", "ztnet:x:999:\n");
  }
  zt::host::Fs fs(root.path());
  root.mkdir("/home");
  REQUIRE(fs.make_directory("/home/ztnet", 0755));
  REQUIRE(fs.set_owner("/home/ztnet", 999, 999));
}

void check_all_pass(const zt::host::HostView& view) {
  for (const auto& check : zt::checks::make_user_checks(default_spec())) {
    INFO(check->id());
    auto r = check->run(view);
    INFO(r.actual);
    CHECK(r.outcome == zt::checks::Outcome::pass);
  }
}

#define ZT_REQUIRE_ROOT()                                                                                    \
  do {                                                                                                       \
    if (::geteuid() != 0) {                                                                                  \
      ZT_SKIP("needs root to chown the test home directory");                                                \
    }                                                                                                        \
  } while (false)

} // namespace

TEST_CASE("User: creates the account once, then is a no-op", "[provisioners][user]") {
  ZT_REQUIRE_ROOT();
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  runner.on(useradd(root), {},
            [&] { simulate_useradd(root, "ztnet:x:999:999::/home/ztnet:/usr/sbin/nologin\n"); });
  auto host = root.host(runner);
  User step{default_spec()};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{
            {"user:ztnet", "create system user ztnet (home /home/ztnet, shell /usr/sbin/nologin)"}});
  REQUIRE(step.apply(host, *plan));
  REQUIRE(runner.calls().size() == 1);
  CHECK(runner.calls()[0].effect == zt::host::Effect::mutating);
  CHECK(runner.calls()[0].scope == zt::host::Scope::target_root);

  auto st = host.fs().stat("/home/ztnet");
  REQUIRE(st);
  CHECK(st->mode == 0700); // useradd made it 0755; a new home is private
  CHECK(st->uid == 999);

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  check_all_pass(host.view());
}

TEST_CASE("User: second run plans nothing and runs no mutating command", "[provisioners][user]") {
  ZT_REQUIRE_ROOT();
  zt::test::TempRoot root;
  simulate_useradd(root, "ztnet:x:999:999::/home/ztnet:/usr/sbin/nologin\n");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  User step{default_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  CHECK(runner.calls().empty());
  // An existing 0755 home is left alone: 0700 is only for homes we create.
  auto st = host.fs().stat("/home/ztnet");
  REQUIRE(st);
  CHECK(st->mode == 0755);
}

TEST_CASE("User: dry run leaves disk and runner untouched", "[provisioners][user]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const std::string passwd = root.read("/etc/passwd");
  const std::string group = root.read("/etc/group");
  User step{default_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 1);
  CHECK(root.read("/etc/passwd") == passwd);
  CHECK(root.read("/etc/group") == group);
  CHECK_FALSE(root.exists("/home/ztnet"));
  CHECK(runner.calls().empty());
}

TEST_CASE("User: failures give exact messages", "[provisioners][user]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  User step{default_spec()};

  SECTION("useradd exits non-zero") {
    runner.on(useradd(root),
              {.exit_code = 1, .out = "", .err = "useradd: cannot lock /etc/passwd; try again later.\n"});
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message ==
          "user: useradd failed (exit 1): useradd: cannot lock /etc/passwd; try again later.");
  }
  SECTION("useradd refused by the runner") {
    runner.on_error(useradd(root),
                    {zt::Errc::refused, "refused to run mutating command in plan mode: useradd"});
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message == "user: refused to run mutating command in plan mode: useradd");
  }
  SECTION("useradd succeeds but the account does not appear") {
    runner.on(useradd(root));
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::not_converged);
    CHECK(applied.error().message ==
          "user: useradd succeeded but ztnet is not in /etc/passwd; check NSS/useradd setup");
  }
  SECTION("an account of the other kind is reported, not recreated") {
    root.add_user("ztnet", 1001, 1001);
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::invalid_config);
    CHECK(plan.error().message == "user: ztnet exists as a regular account (uid 1001) but the site config "
                                  "asks for a system account; set "
                                  "service.system_user = false or remove the account");
  }
  SECTION("home is not a directory") {
    root.write("/home/ztnet", "not a dir");
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::unsupported);
    CHECK(plan.error().message ==
          "user: /home/ztnet exists but is not a directory; move it away and run again");
  }
  CHECK(runner.mutating_calls() <= 1);
}

TEST_CASE("User: an existing group of the user's name is reused with --gid", "[provisioners][user]") {
  ZT_REQUIRE_ROOT();
  zt::test::TempRoot root;
  root.append("/etc/group", "ztnet:x:999:\n");
  zt::test::FakeRunner runner;
  runner.on({"useradd", "--prefix", root.str(), "--system", "--create-home", "--home-dir", "/home/ztnet",
             "--shell", "/usr/sbin/nologin", "--gid", "ztnet", "ztnet"},
            {}, [&] { simulate_useradd(root, "ztnet:x:998:999::/home/ztnet:/usr/sbin/nologin\n", false); });
  auto host = root.host(runner);
  User step{default_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().size() == 1);
  // simulate_useradd chowned to 999; the account got 998, so apply fixed the owner.
  auto st = host.fs().stat("/home/ztnet");
  REQUIRE(st);
  CHECK(st->uid == 998);
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("User: corrects shell, home and group of an existing account", "[provisioners][user]") {
  ZT_REQUIRE_ROOT();
  zt::test::TempRoot root;
  root.append("/etc/passwd", "ztnet:x:999:100::/var/lib/ztnet:/bin/sh\n");
  root.append("/etc/group", "users:x:100:\n");
  zt::test::FakeRunner runner;
  const std::string r = root.str();
  auto rewrite_passwd = [&](const std::string& line) {
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n" + line);
  };
  runner.on({"usermod", "--prefix", r, "--shell", "/usr/sbin/nologin", "ztnet"}, {},
            [&] { rewrite_passwd("ztnet:x:999:100::/var/lib/ztnet:/usr/sbin/nologin\n"); });
  runner.on({"usermod", "--prefix", r, "--home", "/home/ztnet", "ztnet"}, {},
            [&] { rewrite_passwd("ztnet:x:999:100::/home/ztnet:/usr/sbin/nologin\n"); });
  runner.on({"groupadd", "--prefix", r, "--system", "ztnet"}, {},
            [&] { root.append("/etc/group", "ztnet:x:997:\n"); });
  // By number: shadow 4.13's usermod --prefix resolves a group name outside the prefix.
  runner.on({"usermod", "--prefix", r, "--gid", "997", "ztnet"}, {},
            [&] { rewrite_passwd("ztnet:x:999:997::/home/ztnet:/usr/sbin/nologin\n"); });
  auto host = root.host(runner);
  User step{default_spec()};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{
                             {"user:ztnet", "set shell /usr/sbin/nologin (was /bin/sh)"},
                             {"user:ztnet", "set home /home/ztnet (was /var/lib/ztnet; data not moved)"},
                             {"group:ztnet", "create group ztnet"},
                             {"user:ztnet", "set primary group ztnet (was gid 100)"},
                             {"/home/ztnet", "create directory 0700 owned by ztnet"},
                         });
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().size() == 4);
  for (const auto& call : runner.calls()) {
    CHECK(call.effect == zt::host::Effect::mutating);
    CHECK(call.scope == zt::host::Scope::target_root);
  }
  auto st = host.fs().stat("/home/ztnet");
  REQUIRE(st);
  CHECK(st->type == zt::host::FileType::directory);
  CHECK(st->mode == 0700);
  CHECK(st->uid == 999);
  CHECK(st->gid == 997);
  CHECK_FALSE(root.exists("/var/lib/ztnet")); // never moved or created

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  check_all_pass(host.view());
}

TEST_CASE("User: fixes owner and group/other write of an existing home", "[provisioners][user]") {
  ZT_REQUIRE_ROOT();
  zt::test::TempRoot root;
  simulate_useradd(root, "ztnet:x:999:999::/home/ztnet:/usr/sbin/nologin\n");
  zt::host::Fs fs(root.path());
  REQUIRE(fs.set_owner("/home/ztnet", 0, 0));
  REQUIRE(fs.set_mode("/home/ztnet", 0777));
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  User step{default_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{{"/home/ztnet", "set owner ztnet:ztnet (was 0:0)"},
                            {"/home/ztnet", "set mode 0755 (was 0777; no group/other write)"}});
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());
  auto st = host.fs().stat("/home/ztnet");
  REQUIRE(st);
  CHECK(st->uid == 999);
  CHECK(st->gid == 999);
  CHECK(st->mode == 0755);
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("render_*_argv: live and --root variants", "[provisioners][user]") {
  auto spec = default_spec();
  CHECK(zt::provisioners::render_useradd_argv(spec, false, std::nullopt) ==
        std::vector<std::string>{"useradd", "--system", "--create-home", "--home-dir", "/home/ztnet",
                                 "--shell", "/usr/sbin/nologin", "--user-group", "ztnet"});
  CHECK(zt::provisioners::render_useradd_argv(spec, false, "/img") ==
        std::vector<std::string>{"useradd", "--prefix", "/img", "--system", "--create-home", "--home-dir",
                                 "/home/ztnet", "--shell", "/usr/sbin/nologin", "--user-group", "ztnet"});
  spec.system = false;
  CHECK(zt::provisioners::render_useradd_argv(spec, true, std::nullopt) ==
        std::vector<std::string>{"useradd", "--create-home", "--home-dir", "/home/ztnet", "--shell",
                                 "/usr/sbin/nologin", "--gid", "ztnet", "ztnet"});
  CHECK(zt::provisioners::render_usermod_argv("ztnet", "--shell", "/bin/bash", std::nullopt) ==
        std::vector<std::string>{"usermod", "--shell", "/bin/bash", "ztnet"});
  CHECK(zt::provisioners::render_usermod_argv("ztnet", "--home", "/srv/z", "/img") ==
        std::vector<std::string>{"usermod", "--prefix", "/img", "--home", "/srv/z", "ztnet"});
  CHECK(zt::provisioners::render_groupadd_argv(spec, "/img") ==
        std::vector<std::string>{"groupadd", "--prefix", "/img", "ztnet"});
}

TEST_CASE("make_user_step: provisioner and checks from the site config", "[provisioners][user]") {
  zt::profile::Config config;
  config.site.user = "svc";
  auto step = zt::provisioners::make_user_step(config, {});
  CHECK(step.id == "user");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "user");
  CHECK(step.checks.size() == 3);
}

TEST_CASE("User: under --root, a /home symlink escaping the tree is refused before any command",
          "[provisioners][user][hostile]") {
  zt::test::TempRoot root;
  zt::test::TempRoot outside; // outside.real("/home") stands for the machine's own /home
  outside.mkdir("/home");
  root.add_user("alice", 1000, 1000, "/home/alice");
  zt::test::FakeRunner runner; // no expectation: useradd/usermod would fail the test
  auto host = root.host(runner);
  User step{default_spec()};
  zt::provisioners::Plan create;
  create.changes.push_back({"user:ztnet", "create"});

  SECTION("/home is an absolute symlink") {
    std::filesystem::create_symlink(outside.real("/home"), root.real("/home"));
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message == "user: /home/ztnet: refusing to follow symlink at /home; useradd/usermod "
                                  "--prefix would follow it out of " +
                                      root.str() + ": replace it with a real directory or file in the tree");
    auto apply = step.apply(host, create);
    REQUIRE_FALSE(apply);
    CHECK(apply.error().code == zt::Errc::refused);
  }
  SECTION("/etc/passwd is a symlink to the machine's") {
    std::filesystem::remove(root.real("/etc/passwd"));
    std::filesystem::create_symlink("/etc/passwd", root.real("/etc/passwd"));
    root.mkdir("/home");
    auto apply = step.apply(host, create);
    REQUIRE_FALSE(apply);
    CHECK(apply.error().message.starts_with("user: /etc/passwd: refusing to follow symlink at /etc/passwd"));
  }
  CHECK(runner.calls().empty());
  CHECK(std::filesystem::is_empty(outside.real("/home")));
}
