// SPDX-License-Identifier: Apache-2.0
#include "checks/packages.hpp"
#include "provisioners/packages.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using zt::provisioners::Change;
using zt::provisioners::Packages;
using zt::provisioners::PackagesOptions;

namespace {

std::string installed(const std::string& name, const std::string& version) {
  return "Package: " + name + "\nStatus: install ok installed\nVersion: " + version + "\n\n";
}

const std::vector<std::string> k_install_prefix = {
    "apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120"};

std::vector<std::string> chroot_install(const zt::test::TempRoot& root,
                                        const std::vector<std::string>& names) {
  std::vector<std::string> argv = {"chroot", root.str()};
  argv.insert(argv.end(), k_install_prefix.begin(), k_install_prefix.end());
  argv.insert(argv.end(), names.begin(), names.end());
  return argv;
}

PackagesOptions apt_options() {
  return {.package_manager = "apt", .packages = {"podman", "uidmap", "passt"}, .os_id = "debian"};
}

/// A tree with uidmap installed and apt indexes present.
void seed(zt::test::TempRoot& root) {
  root.write("/var/lib/dpkg/status", installed("uidmap", "1:4.13+dfsg1-1+deb12u1"));
  root.write("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4", "x");
}

bool has_env(const zt::host::Command& cmd, const std::string& key, const std::string& value) {
  return std::ranges::find(cmd.env, std::pair<std::string, std::string>{key, value}) != cmd.env.end();
}

} // namespace

TEST_CASE("Packages: installs the missing packages once, then is a no-op", "[provisioners][packages]") {
  zt::test::TempRoot root;
  seed(root);
  zt::test::FakeRunner runner;
  runner.on(chroot_install(root, {"passt", "podman"}), {}, [&] {
    root.append("/var/lib/dpkg/status", installed("podman", "4.3.1+ds1-8+deb12u1+b3"));
    root.append("/var/lib/dpkg/status", installed("passt", "0.0~git20230309.7c7625d-1"));
  });
  auto host = root.host(runner);
  Packages step{apt_options()};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{{"package:passt", "install passt"}, {"package:podman", "install podman"}});
  CHECK(runner.calls().empty());

  REQUIRE(step.apply(host, *plan));
  REQUIRE(runner.calls().size() == 1);
  const auto& cmd = runner.calls()[0];
  CHECK(cmd.effect == zt::host::Effect::mutating);
  CHECK(cmd.scope == zt::host::Scope::target_root);
  CHECK(cmd.timeout == std::chrono::seconds{900});
  CHECK(has_env(cmd, "DEBIAN_FRONTEND", "noninteractive"));
  CHECK(has_env(cmd, "NEEDRESTART_MODE", "a"));

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());

  // The checks agree.
  zt::profile::ProfileSpec profile;
  profile.package_manager = "apt";
  profile.packages = apt_options().packages;
  profile.podman_min_version = "4.3";
  for (const auto& check : zt::checks::make_packages_checks(profile)) {
    INFO(check->id());
    CHECK(check->run(host.view()).outcome == zt::checks::Outcome::pass);
  }
}

TEST_CASE("Packages: second run plans nothing and runs no mutating command", "[provisioners][packages]") {
  zt::test::TempRoot root;
  root.write("/var/lib/dpkg/status",
             installed("podman", "4.3.1") + installed("uidmap", "1") + installed("passt", "1"));
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Packages step{apt_options()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());
}

TEST_CASE("Packages: dry run leaves disk and runner untouched", "[provisioners][packages]") {
  zt::test::TempRoot root;
  seed(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const std::string before = root.read("/var/lib/dpkg/status");
  Packages step{apt_options()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 2);
  CHECK(root.read("/var/lib/dpkg/status") == before);
  CHECK(runner.calls().empty());
}

TEST_CASE("Packages: runs apt-get update first when there are no package indexes",
          "[provisioners][packages]") {
  zt::test::TempRoot root;
  root.write("/var/lib/dpkg/status", installed("uidmap", "1"));
  root.mkdir("/var/lib/apt/lists/partial");
  root.write("/var/lib/apt/lists/lock", "");
  zt::test::FakeRunner runner;
  runner.on({"chroot", root.str(), "apt-get", "update", "-q"}, {},
            [&] { root.write("/var/lib/apt/lists/x_main_binary-amd64_Packages", "x"); });
  runner.on(chroot_install(root, {"passt", "podman"}), {}, [&] {
    root.append("/var/lib/dpkg/status", installed("podman", "4.3.1") + installed("passt", "1"));
  });
  auto host = root.host(runner);
  Packages step{apt_options()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(step.apply(host, *plan));
  REQUIRE(runner.calls().size() == 2);
  CHECK(runner.calls()[0].argv == std::vector<std::string>{"chroot", root.str(), "apt-get", "update", "-q"});
  CHECK(runner.calls()[0].effect == zt::host::Effect::mutating);
  CHECK(runner.calls()[0].scope == zt::host::Scope::target_root);
  CHECK(runner.calls()[1].argv == chroot_install(root, {"passt", "podman"}));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("Packages: failures give exact messages", "[provisioners][packages]") {
  zt::test::TempRoot root;
  seed(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Packages step{apt_options()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);

  SECTION("apt-get exits non-zero") {
    runner.on(chroot_install(root, {"passt", "podman"}),
              {.exit_code = 100,
               .out = "Reading package lists...\n",
               .err = "W: something harmless\nE: Unable to locate package passt\n\n"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message ==
          "packages: apt-get install failed (exit 100): E: Unable to locate package passt");
  }
  SECTION("apt-get cannot find a package on Ubuntu: how to enable universe") {
    auto options = apt_options();
    options.os_id = "ubuntu";
    Packages ubuntu{options};
    runner.on(chroot_install(root, {"passt", "podman"}),
              {.exit_code = 100, .out = "", .err = "E: Unable to locate package passt\n"});
    auto applied = ubuntu.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message ==
          "packages: apt-get install failed (exit 100): E: Unable to locate package passt; on Ubuntu podman, "
          "passt and catatonit are in the 'universe' component: enable it (add-apt-repository universe, or "
          "add universe to Components: in /etc/apt/sources.list.d/ubuntu.sources), run apt-get update, "
          "then re-run");
  }
  SECTION("apt-get exits non-zero without stderr") {
    runner.on(chroot_install(root, {"passt", "podman"}), {.exit_code = 1, .out = "", .err = ""});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message == "packages: apt-get install failed (exit 1)");
  }
  SECTION("apt-get runs out of time (lock held)") {
    runner.on_error(chroot_install(root, {"passt", "podman"}),
                    {zt::Errc::timeout, "apt-get: timed out after 900 s"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::timeout);
    CHECK(applied.error().message ==
          "packages: apt-get did not finish within 900 s (is another apt/dpkg holding the lock?)");
  }
  SECTION("the runner refuses") {
    runner.on_error(chroot_install(root, {"passt", "podman"}),
                    {zt::Errc::refused, "refused to run mutating command in plan mode: apt-get"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::refused);
    CHECK(applied.error().message == "packages: refused to run mutating command in plan mode: apt-get");
  }
  SECTION("apt-get update fails") {
    std::filesystem::remove(
        root.real("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"));
    runner.on({"chroot", root.str(), "apt-get", "update", "-q"},
              {.exit_code = 100, .out = "", .err = "E: Failed to fetch http://deb.debian.org/x\n"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message ==
          "packages: apt-get update failed (exit 100): E: Failed to fetch http://deb.debian.org/x");
    CHECK(runner.calls().size() == 1);
  }
  SECTION("unknown package manager") {
    Packages bad{{.package_manager = "zypper", .packages = {"podman"}, .os_id = "opensuse"}};
    auto bad_plan = bad.plan(host.view());
    REQUIRE_FALSE(bad_plan);
    CHECK(bad_plan.error().code == zt::Errc::invalid_config);
    CHECK(bad_plan.error().message == "packages: unsupported package manager 'zypper' (expected apt or dnf)");
  }
}

TEST_CASE("Packages: dnf installs through chroot and reads rpm", "[provisioners][packages]") {
  zt::test::TempRoot root;
  const std::vector<std::string> query = {
      "rpm", "--root", root.str(), "-q", "--qf", "%{NAME} %{VERSION}\\n", "podman", "passt"};
  const std::vector<std::string> install = {"chroot", root.str(), "dnf", "install", "-y", "passt", "podman"};
  Packages step{{.package_manager = "dnf", .packages = {"podman", "passt"}, .os_id = "fedora"}};

  zt::test::FakeRunner before;
  before.on(query, {.exit_code = 2,
                    .out = "package podman is not installed\npackage passt is not installed\n",
                    .err = ""});
  auto host = root.host(before);
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{{"package:passt", "install passt"}, {"package:podman", "install podman"}});

  SECTION("converges") {
    before.on(install);
    REQUIRE(step.apply(host, *plan));
    const auto& cmd = before.calls().back();
    CHECK(cmd.argv == install);
    CHECK(cmd.effect == zt::host::Effect::mutating);
    CHECK(cmd.scope == zt::host::Scope::target_root);
    CHECK(cmd.timeout == std::chrono::seconds{900});
    CHECK(cmd.env.empty());

    zt::test::FakeRunner after; // rpm now lists both
    after.on(query, {.exit_code = 0, .out = "podman 5.2.3\npasst 0^20240821.g1d6142f-1\n", .err = ""});
    auto after_host = root.host(after);
    auto again = step.plan(after_host.view());
    REQUIRE(again);
    CHECK(again->empty());
    CHECK(after.mutating_calls() == 0);
  }
  SECTION("dnf runs out of time") {
    before.on_error(install, {zt::Errc::timeout, "timed out"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::timeout);
    CHECK(applied.error().message ==
          "packages: dnf did not finish within 900 s (is another dnf/rpm holding the lock?)");
  }
  SECTION("dnf fails") {
    before.on(install, {.exit_code = 1, .out = "", .err = "Error: Unable to find a match: passt\n"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message ==
          "packages: dnf install failed (exit 1): Error: Unable to find a match: passt");
  }
}

TEST_CASE("Packages: on the live host no chroot, Scope::host", "[provisioners][packages]") {
  // Reads the real /var/lib/dpkg/status and /var/lib/apt/lists (read-only); the FakeRunner never runs
  // anything. A package name that cannot exist is always "missing".
  zt::test::FakeRunner runner;
  std::vector<std::string> install = k_install_prefix;
  install.emplace_back("ztagent-test-no-such-package");
  runner.on(install);
  runner.on({"apt-get", "update", "-q"});
  zt::host::Host host(zt::host::Fs("/"), runner);
  Packages step{{.package_manager = "apt", .packages = {"ztagent-test-no-such-package"}, .os_id = "debian"}};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(plan->changes.size() == 1);
  REQUIRE(step.apply(host, *plan));
  REQUIRE_FALSE(runner.calls().empty());
  CHECK(runner.calls().back().argv == install);
  CHECK(runner.calls().back().scope == zt::host::Scope::host);
}

TEST_CASE("render_install_argv", "[provisioners][packages]") {
  CHECK(zt::provisioners::render_install_argv("apt", {"acl", "podman"}) ==
        std::vector<std::string>{"apt-get", "install", "-y", "-q", "--no-install-recommends", "-o",
                                 "DPkg::Lock::Timeout=120", "acl", "podman"});
  CHECK(zt::provisioners::render_install_argv("dnf", {"podman"}) ==
        std::vector<std::string>{"dnf", "install", "-y", "podman"});
}

TEST_CASE("make_packages_step: provisioner and checks from the profile", "[provisioners][packages]") {
  zt::profile::Config config;
  config.profile.package_manager = "apt";
  config.profile.packages = {"podman", "acl"};
  config.profile.podman_min_version = "4.3";
  auto step = zt::provisioners::make_packages_step(config, {});
  CHECK(step.id == "packages");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "packages");
  std::vector<std::string> ids;
  for (const auto& c : step.checks) {
    ids.emplace_back(c->id());
  }
  CHECK(ids == std::vector<std::string>{"packages.podman", "packages.acl", "packages.podman-version"});
}
