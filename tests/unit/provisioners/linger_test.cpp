// SPDX-License-Identifier: Apache-2.0
#include "checks/linger.hpp"
#include "provisioners/linger.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <string>
#include <vector>

using zt::provisioners::Change;
using zt::provisioners::Linger;

TEST_CASE("Linger: creates the flag file once without systemd, then is a no-op", "[provisioners][linger]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 999);
  zt::test::FakeRunner runner; // no systemd under --root: no loginctl
  auto host = root.host(runner);
  Linger step{"ztnet"};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{{"/var/lib/systemd/linger/ztnet", "enable linger for ztnet"}});
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());

  auto file = host.fs().lstat("/var/lib/systemd/linger/ztnet");
  REQUIRE(file);
  CHECK(file->type == zt::host::FileType::regular);
  CHECK(file->mode == 0644);
  CHECK(file->size == 0);
  auto dir = host.fs().lstat("/var/lib/systemd/linger");
  REQUIRE(dir);
  CHECK(dir->type == zt::host::FileType::directory);
  CHECK(dir->mode == 0755);

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());

  auto checks = zt::checks::make_linger_checks("ztnet");
  CHECK(checks.front()->id() == "linger.enabled");
  CHECK(checks.front()->run(host.view()).outcome == zt::checks::Outcome::pass);
}

TEST_CASE("Linger: second run plans nothing and runs no mutating command", "[provisioners][linger]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 999);
  root.write("/var/lib/systemd/linger/ztnet", "");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Linger step{"ztnet"};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());
}

TEST_CASE("Linger: dry run leaves disk and runner untouched", "[provisioners][linger]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 999);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Linger step{"ztnet"};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 1);
  CHECK_FALSE(root.exists("/var/lib/systemd"));
  CHECK(runner.calls().empty());
}

TEST_CASE("Linger: failures give exact messages", "[provisioners][linger]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Linger step{"ztnet"};

  SECTION("the user does not exist yet") {
    auto plan = step.plan(host.view());
    REQUIRE(plan); // a dry run before the user step still says what would change
    CHECK(plan->changes.size() == 1);
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::not_found);
    CHECK(
        applied.error().message ==
        "linger: user ztnet does not exist; run the user step first (ztagent provision --only user,linger)");
    CHECK_FALSE(root.exists("/var/lib/systemd/linger/ztnet"));
  }
  SECTION("something else sits where the flag file goes") {
    root.mkdir("/var/lib/systemd/linger/ztnet");
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::unsupported);
    CHECK(plan.error().message ==
          "linger: /var/lib/systemd/linger/ztnet exists but is not a regular file; remove it and run again");
  }
  SECTION("a symlinked parent is refused, not followed") {
    root.add_user("ztnet", 999, 999);
    root.mkdir("/elsewhere");
    root.mkdir("/var/lib");
    std::filesystem::create_directory_symlink("../../elsewhere", root.real("/var/lib/systemd"));
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message ==
          "linger: /var/lib/systemd/linger/ztnet: refusing to follow symlink at /var/lib/systemd");
    CHECK_FALSE(root.exists("/elsewhere/linger"));
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("make_linger_step: provisioner and checks for the site user", "[provisioners][linger]") {
  zt::profile::Config config;
  config.site.user = "svc";
  auto step = zt::provisioners::make_linger_step(config, {});
  CHECK(step.id == "linger");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "linger");
  REQUIRE(step.checks.size() == 4);
  CHECK(step.checks[0]->description() == "lingering is enabled, so the user manager starts at boot");
}
