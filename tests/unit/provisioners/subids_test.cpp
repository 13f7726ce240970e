// SPDX-License-Identifier: Apache-2.0
#include "provisioners/subids.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

using zt::Errc;
using zt::provisioners::Change;
using zt::provisioners::SubIds;

namespace {

void users(zt::test::TempRoot& root) {
  root.add_user("alice", 1000, 1000);
  root.add_user("ztnet", 999, 999);
}

std::vector<std::string> usermod(const zt::test::TempRoot& root, std::vector<std::string> flags) {
  std::vector<std::string> argv = {"usermod", "--prefix", root.str()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("ztnet");
  return argv;
}

} // namespace

TEST_CASE("SubIds: adds one free range to both files, then is a no-op", "[provisioners][subids]") {
  zt::test::TempRoot root;
  users(root);
  root.write("/etc/subuid", "alice:100000:65536\n");
  root.write("/etc/subgid", "alice:100000:65536\n");
  zt::test::FakeRunner runner;
  runner.on(usermod(root, {"--add-subuids", "165536-231071", "--add-subgids", "165536-231071"}), {}, [&] {
    root.append("/etc/subuid", "ztnet:165536:65536\n");
    root.append("/etc/subgid", "ztnet:165536:65536\n");
  });
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  CHECK(step.id() == "subids");

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{{"/etc/subuid", "add ztnet:165536:65536"},
                                             {"/etc/subgid", "add ztnet:165536:65536"}});
  CHECK(runner.calls().empty());

  REQUIRE(step.apply(host, *plan));
  REQUIRE(runner.calls().size() == 1);
  CHECK(runner.calls()[0].effect == zt::host::Effect::mutating);
  CHECK(runner.calls()[0].scope == zt::host::Scope::target_root);

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(runner.calls().size() == 1);
  CHECK(root.read("/etc/subuid") == "alice:100000:65536\nztnet:165536:65536\n");
}

TEST_CASE("SubIds: a second run (range from Debian's useradd) plans nothing and runs nothing",
          "[provisioners][subids]") {
  zt::test::TempRoot root;
  users(root);
  root.write("/etc/subuid", "ztnet:100000:65536\n");
  root.write("/etc/subgid", "ztnet:100000:65536\n");
  zt::test::FakeRunner runner; // no command expected
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  for (int run = 0; run < 2; ++run) {
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(plan->empty());
  }
  CHECK(runner.mutating_calls() == 0);
  CHECK(runner.calls().empty());
  CHECK(root.read("/etc/subuid") == "ztnet:100000:65536\n");
}

TEST_CASE("SubIds: a dry run leaves files and runner untouched", "[provisioners][subids]") {
  zt::test::TempRoot root;
  users(root);
  root.write("/etc/subuid", "alice:100000:65536\n");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{{"/etc/subuid", "add ztnet:165536:65536"},
                                             {"/etc/subgid", "create empty file 0644"},
                                             {"/etc/subgid", "add ztnet:165536:65536"}});
  CHECK(runner.calls().empty());
  CHECK(root.read("/etc/subuid") == "alice:100000:65536\n");
  CHECK_FALSE(root.exists("/etc/subgid"));
}

TEST_CASE("SubIds: creates a missing file for usermod and adds only the missing range",
          "[provisioners][subids]") {
  zt::test::TempRoot root;
  users(root);
  root.write("/etc/subuid", "alice:100000:65536\nztnet:165536:65536\n");
  zt::test::FakeRunner runner;
  runner.on(usermod(root, {"--add-subgids", "165536-231071"}), {}, [&] {
    // The real usermod refuses when /etc/subgid does not exist: the step must have created it.
    CHECK(root.exists("/etc/subgid"));
    root.append("/etc/subgid", "ztnet:165536:65536\n");
  });
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{{"/etc/subgid", "create empty file 0644"},
                                             {"/etc/subgid", "add ztnet:165536:65536"}});
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().size() == 1);
  const auto perms = std::filesystem::status(root.real("/etc/subgid")).permissions();
  CHECK(perms == (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                  std::filesystem::perms::group_read | std::filesystem::perms::others_read));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("SubIds: failures give exact messages and change nothing", "[provisioners][subids]") {
  zt::test::TempRoot root;
  users(root);
  zt::test::FakeRunner runner;
  SubIds step({"ztnet", 65536});

  SECTION("too small a range is never rewritten or supplemented") {
    root.write("/etc/subuid", "ztnet:100000:1000\n");
    root.write("/etc/subgid", "ztnet:100000:65536\n");
    zt::host::Host host = root.host(runner);
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == Errc::invalid_config);
    CHECK(plan.error().message ==
          "subids: ztnet's range ztnet:100000:1000 in /etc/subuid has fewer than 65536 ids and ztagent never "
          "rewrites ranges: run 'usermod --del-subuids 100000-100999 ztnet' and re-run");
    auto applied = step.apply(host, {});
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message == plan.error().message);
    CHECK(root.read("/etc/subuid") == "ztnet:100000:1000\n");
  }
  SECTION("usermod exits non-zero") {
    root.write("/etc/subuid", "");
    root.write("/etc/subgid", "");
    runner.on(usermod(root, {"--add-subuids", "100000-165535", "--add-subgids", "100000-165535"}),
              {.exit_code = 1, .out = "", .err = "usermod: cannot lock /etc/subuid; try again later.\n"});
    zt::host::Host host = root.host(runner);
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == Errc::command_failed);
    CHECK(applied.error().message ==
          "subids: 'usermod --prefix " + root.str() +
              " --add-subuids 100000-165535 --add-subgids 100000-165535 ztnet' exited 1: "
              "usermod: cannot lock /etc/subuid; try again later.");
  }
  SECTION("usermod cannot start") {
    root.write("/etc/subuid", "");
    root.write("/etc/subgid", "");
    runner.on_error(usermod(root, {"--add-subuids", "100000-165535", "--add-subgids", "100000-165535"}),
                    {Errc::command_failed, "usermod: not found in PATH"});
    zt::host::Host host = root.host(runner);
    auto applied = step.apply(host, {});
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message == "subids: usermod: not found in PATH");
  }
  SECTION("malformed /etc/subuid") {
    root.write("/etc/subuid", "ztnet:100000\n");
    zt::host::Host host = root.host(runner);
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == Errc::parse);
    CHECK(plan.error().message == "subids: /etc/subuid:1: expected owner:start:count");
  }
}

TEST_CASE("SubIds: before the user exists, plan says so and apply refuses", "[provisioners][subids]") {
  zt::test::TempRoot root;
  root.add_user("alice", 1000, 1000);
  root.write("/etc/subuid", "alice:100000:65536\n");
  root.write("/etc/subgid", "alice:100000:65536\n");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{{"/etc/subuid", "add ztnet:165536:65536 (once user ztnet exists)"},
                            {"/etc/subgid", "add ztnet:165536:65536 (once user ztnet exists)"}});
  auto applied = step.apply(host, *plan);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().code == Errc::not_found);
  CHECK(applied.error().message == "subids: user ztnet does not exist; run the user step first");
  CHECK(runner.calls().empty());
}

TEST_CASE("SubIds: apply decides again (useradd may have added a range since plan)",
          "[provisioners][subids]") {
  zt::test::TempRoot root;
  root.write("/etc/subuid", "");
  root.write("/etc/subgid", "");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 2);
  // The user step runs in between: Debian's useradd writes a range for a regular user.
  root.add_user("ztnet", 1001, 1001);
  root.write("/etc/subuid", "ztnet:100000:65536\n");
  root.write("/etc/subgid", "ztnet:100000:65536\n");
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());
}

TEST_CASE("subids_usermod_command: prefix only under --root", "[provisioners][subids]") {
  zt::checks::SubIdDecision both{165536, 165536};
  const auto live = zt::provisioners::subids_usermod_command(both, 65536, "ztnet", true, "/");
  CHECK(live.argv == std::vector<std::string>{"usermod", "--add-subuids", "165536-231071", "--add-subgids",
                                              "165536-231071", "ztnet"});
  CHECK(live.effect == zt::host::Effect::mutating);
  CHECK(live.scope == zt::host::Scope::host);
  zt::checks::SubIdDecision gid_only{std::nullopt, 300000};
  const auto image = zt::provisioners::subids_usermod_command(gid_only, 100000, "svc", false, "/srv/image");
  CHECK(image.argv == std::vector<std::string>{"usermod", "--prefix", "/srv/image", "--add-subgids",
                                               "300000-399999", "svc"});
  CHECK(image.scope == zt::host::Scope::target_root);
}

TEST_CASE("make_subids_step: id, provisioner and checks from the site config", "[provisioners][subids]") {
  zt::profile::Config config;
  config.site.user = "svc";
  config.site.subid_count = 100000;
  auto step = zt::provisioners::make_subids_step(config, {});
  CHECK(step.id == "subids");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "subids");
  std::vector<std::string> ids;
  for (const auto& check : step.checks) {
    ids.emplace_back(check->id());
  }
  CHECK(ids == std::vector<std::string>{"subids.subuid-range", "subids.subgid-range", "subids.no-overlap",
                                        "subids.no-real-uid", "subids.uid-map"});
  CHECK(step.checks[0]->description() == "svc has exactly one range of >= 100000 ids in /etc/subuid");
}

TEST_CASE("SubIds with the real usermod --prefix on a scratch tree", "[provisioners][subids]") {
  if (!std::filesystem::exists("/usr/sbin/usermod")) {
    ZT_SKIP("usermod (passwd package) is not installed");
  }
  zt::test::TempRoot root;
  users(root);
  root.write("/etc/shadow", "root:*:19000:0:99999:7:::\nalice:!:19000::::::\nztnet:!:19000::::::\n");
  root.write("/etc/gshadow", "root:*::\nalice:!::\nztnet:!::\n");
  root.write("/etc/subuid", "alice:100000:65536\n");
  root.write("/etc/subgid", "alice:100000:65536\n");
  zt::host::RealCommandRunner runner(
      {.allow_mutating = true, .root_is_live = false, .allow_host_commands = false});
  zt::host::Host host = root.host(runner);
  SubIds step({"ztnet", 65536});
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  auto applied = step.apply(host, *plan);
  if (!applied && applied.error().code == Errc::command_failed && ::geteuid() != 0) {
    ZT_SKIP("usermod --prefix needs root: " << applied.error().message);
  }
  REQUIRE(applied);
  CHECK(root.read("/etc/subuid") == "alice:100000:65536\nztnet:165536:65536\n");
  CHECK(root.read("/etc/subgid") == "alice:100000:65536\nztnet:165536:65536\n");
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
}
