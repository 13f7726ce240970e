// SPDX-License-Identifier: Apache-2.0
#include "check_fixture.hpp"
#include "checks/packages.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <string>
#include <utility>
#include <vector>

using zt::checks::InstalledPackages;
using zt::checks::Outcome;

namespace {

const char* const k_status_good = "Package: podman\n"
                                  "Status: install ok installed\n"
                                  "Priority: optional\n"
                                  "Version: 4.3.1+ds1-8+deb12u1+b3\n"
                                  "Description: tool to manage containers and pods\n"
                                  " Podman (the POD MANager) is a tool for managing containers.\n"
                                  " .\n"
                                  " Package: not-a-field-but-continuation\n"
                                  "\n"
                                  "Package: uidmap\n"
                                  "Status: install ok installed\n"
                                  "Version: 1:4.13+dfsg1-1+deb12u1\n"
                                  "\n"
                                  "Package: acl\n"
                                  "Status: install ok installed\n"
                                  "Version: 2.3.1-3\n";

zt::profile::ProfileSpec debian_profile() {
  zt::profile::ProfileSpec p;
  p.name = "debian-12";
  p.package_manager = "apt";
  p.packages = {"podman", "uidmap", "acl"};
  p.podman_min_version = "4.3";
  return p;
}

using zt::test::find_check;

} // namespace

TEST_CASE("parse_dpkg_status: installed packages and their versions", "[checks][packages]") {
  struct Row {
    const char* name;
    std::string text;
    InstalledPackages expected;
  };
  const std::vector<Row> rows = {
      {"empty", "", {}},
      {"one installed",
       "Package: podman\nStatus: install ok installed\nVersion: 4.3.1\n",
       {{"podman", "4.3.1"}}},
      {"no trailing newline",
       "Package: podman\nStatus: install ok installed\nVersion: 4.3.1",
       {{"podman", "4.3.1"}}},
      {"held packages are installed",
       "Package: podman\nStatus: hold ok installed\nVersion: 4.3.1\n",
       {{"podman", "4.3.1"}}},
      {"removed, config files left",
       "Package: podman\nStatus: deinstall ok config-files\nVersion: 4.3.1\n",
       {}},
      {"half unpacked", "Package: podman\nStatus: install ok unpacked\nVersion: 4.3.1\n", {}},
      {"not installed", "Package: podman\nStatus: purge ok not-installed\n", {}},
      {"field order and case",
       "version: 2.3.1-3\nstatus: install ok installed\npackage: acl\n",
       {{"acl", "2.3.1-3"}}},
      {"several blank lines",
       "\n\nPackage: a\nStatus: install ok installed\nVersion: 1\n\n\n\nPackage: b\n"
       "Status: install ok installed\nVersion: 2\n\n",
       {{"a", "1"}, {"b", "2"}}},
      {"continuations ignored",
       k_status_good,
       {{"podman", "4.3.1+ds1-8+deb12u1+b3"}, {"uidmap", "1:4.13+dfsg1-1+deb12u1"}, {"acl", "2.3.1-3"}}},
      {"tab continuation",
       "Package: a\nConffiles:\n\t/etc/a 123\nStatus: install ok installed\nVersion: 1\n",
       {{"a", "1"}}},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto parsed = zt::checks::parse_dpkg_status(row.text);
    REQUIRE(parsed);
    CHECK(*parsed == row.expected);
  }
}

TEST_CASE("parse_dpkg_status: a malformed line names its number", "[checks][packages]") {
  auto parsed = zt::checks::parse_dpkg_status("Package: a\nStatus: install ok installed\ngarbage\n");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code == zt::Errc::parse);
  CHECK(parsed.error().message == "line 3: expected 'Field: value'");

  auto colon_first = zt::checks::parse_dpkg_status(": value\n");
  REQUIRE_FALSE(colon_first);
  CHECK(colon_first.error().message == "line 1: expected 'Field: value'");
}

TEST_CASE("parse_rpm_query: name/version lines, not-installed lines skipped", "[checks][packages]") {
  CHECK(zt::checks::parse_rpm_query("") == InstalledPackages{});
  CHECK(zt::checks::parse_rpm_query("podman 5.2.3\npackage passt is not installed\nacl 2.3.2\n") ==
        InstalledPackages{{"podman", "5.2.3"}, {"acl", "2.3.2"}});
  CHECK(zt::checks::parse_rpm_query("  podman   5.2.3  \n\n") == InstalledPackages{{"podman", "5.2.3"}});
}

TEST_CASE("upstream_version: strips epoch, revision and suffixes", "[checks][packages]") {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"4.3.1+ds1-8+deb12u1+b3", "4.3.1"},
      {"1:4.3.1+ds1-8+deb12u1+b3", "4.3.1"},
      {"4.9.3+ds1-1ubuntu0.2", "4.9.3"},
      {"5.2.3", "5.2.3"},
      {"5.4.2+ds1-1", "5.4.2"},
      {"2:5.0.0~rc1-1", "5.0.0"},
      {"4.", "4"},
      {"", ""},
      {"abc", ""},
  };
  for (const auto& [in, out] : rows) {
    INFO(in);
    CHECK(zt::checks::upstream_version(in) == out);
  }
}

TEST_CASE("query_installed: apt reads the dpkg database without running anything", "[checks][packages]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);

  SECTION("no database yet: nothing installed") {
    auto got = zt::checks::query_installed(host.view(), "apt", {"podman"});
    REQUIRE(got);
    CHECK(got->empty());
  }
  SECTION("only the names asked for") {
    root.write("/var/lib/dpkg/status", k_status_good);
    auto got = zt::checks::query_installed(host.view(), "apt", {"podman", "passt"});
    REQUIRE(got);
    CHECK(*got == InstalledPackages{{"podman", "4.3.1+ds1-8+deb12u1+b3"}});
  }
  SECTION("a broken database names the file") {
    root.write("/var/lib/dpkg/status", "Package: podman\nbroken\n");
    auto got = zt::checks::query_installed(host.view(), "apt", {"podman"});
    REQUIRE_FALSE(got);
    CHECK(got.error().message == "/var/lib/dpkg/status: line 2: expected 'Field: value'");
  }
  SECTION("unknown package manager") {
    auto got = zt::checks::query_installed(host.view(), "pacman", {"podman"});
    REQUIRE_FALSE(got);
    CHECK(got.error().code == zt::Errc::invalid_config);
    CHECK(got.error().message == "unsupported package manager 'pacman' (expected apt or dnf)");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("query_installed: dnf asks rpm once, inside --root", "[checks][packages]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const std::vector<std::string> argv = {
      "rpm", "--root", root.str(), "-q", "--qf", "%{NAME} %{VERSION}\\n", "podman", "passt"};

  SECTION("installed and not installed") {
    runner.on(argv, {.exit_code = 1, .out = "podman 5.2.3\npackage passt is not installed\n", .err = ""});
    auto got = zt::checks::query_installed(host.view(), "dnf", {"podman", "passt"});
    REQUIRE(got);
    CHECK(*got == InstalledPackages{{"podman", "5.2.3"}});
    REQUIRE(runner.calls().size() == 1);
    CHECK(runner.calls()[0].effect == zt::host::Effect::read_only);
  }
  SECTION("rpm itself fails") {
    runner.on(argv, {.exit_code = 1, .out = "", .err = "error: cannot open Packages database in /x\n"});
    auto got = zt::checks::query_installed(host.view(), "dnf", {"podman", "passt"});
    REQUIRE_FALSE(got);
    CHECK(got.error().code == zt::Errc::command_failed);
    CHECK(got.error().message == "rpm -q failed (exit 1): error: cannot open Packages database in /x");
  }
  SECTION("nothing asked, nothing run") {
    auto got = zt::checks::query_installed(host.view(), "dnf", {});
    REQUIRE(got);
    CHECK(got->empty());
    CHECK(runner.calls().empty());
  }
}

TEST_CASE("packages checks: ids, and all pass on a converged host", "[checks][packages]") {
  zt::test::TempRoot root;
  root.write("/var/lib/dpkg/status", k_status_good);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto all = zt::checks::make_packages_checks(debian_profile());

  std::vector<std::string> ids;
  for (const auto& c : all) {
    ids.emplace_back(c->id());
    CHECK(c->step() == "packages");
    CHECK_FALSE(c->runtime());
  }
  CHECK(ids == std::vector<std::string>{"packages.podman", "packages.uidmap", "packages.acl",
                                        "packages.podman-version"});

  auto podman = find_check(all, "packages.podman").run(host.view());
  CHECK(podman.outcome == Outcome::pass);
  CHECK(podman.expected == "installed");
  CHECK(podman.actual == "installed 4.3.1+ds1-8+deb12u1+b3");
  auto uidmap = find_check(all, "packages.uidmap").run(host.view());
  CHECK(uidmap.outcome == Outcome::pass);
  CHECK(uidmap.actual == "installed 1:4.13+dfsg1-1+deb12u1");
  auto version = find_check(all, "packages.podman-version").run(host.view());
  CHECK(version.outcome == Outcome::pass);
  CHECK(version.expected == ">= 4.3");
  CHECK(version.actual == "4.3.1");
  CHECK(runner.calls().empty());
}

TEST_CASE("packages checks: fail on each tampered state", "[checks][packages]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto all = zt::checks::make_packages_checks(debian_profile());

  SECTION("package missing from the database") {
    root.write("/var/lib/dpkg/status", "Package: uidmap\nStatus: install ok installed\nVersion: 1\n");
    auto r = find_check(all, "packages.podman").run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.expected == "installed");
    CHECK(r.actual == "not installed");
    CHECK(r.fix == "apt-get install podman");
    auto v = find_check(all, "packages.podman-version").run(host.view());
    CHECK(v.outcome == Outcome::fail);
    CHECK(v.actual == "not installed");
    CHECK(v.fix == "apt-get install podman");
  }
  SECTION("package removed, config files left") {
    root.write("/var/lib/dpkg/status", "Package: acl\nStatus: deinstall ok config-files\nVersion: 2.3.1-3\n");
    auto r = find_check(all, "packages.acl").run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "not installed");
  }
  SECTION("podman older than the floor") {
    root.write("/var/lib/dpkg/status",
               "Package: podman\nStatus: install ok installed\nVersion: 1:4.2.0+ds1-1\n");
    auto r = find_check(all, "packages.podman-version").run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.expected == ">= 4.3");
    CHECK(r.actual == "4.2.0");
    CHECK(r.fix == "podman 4.3 or newer is needed: use a distribution release (or backports) that ships it");
  }
  SECTION("unreadable version is an error, not a pass") {
    root.write("/var/lib/dpkg/status", "Package: podman\nStatus: install ok installed\nVersion: git-abc\n");
    auto r = find_check(all, "packages.podman-version").run(host.view());
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "cannot read podman's version from \"git-abc\"");
  }
  SECTION("broken database is an error") {
    root.write("/var/lib/dpkg/status", "Package: podman\nbroken\n");
    auto r = find_check(all, "packages.podman").run(host.view());
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "/var/lib/dpkg/status: line 2: expected 'Field: value'");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("packages checks: dnf profile uses rpm and dnf hints", "[checks][packages]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  zt::profile::ProfileSpec p;
  p.package_manager = "dnf";
  p.packages = {"passt"};
  p.podman_min_version = "5.0";
  auto all = zt::checks::make_packages_checks(p);
  REQUIRE(all.size() == 2);
  runner.on({"rpm", "--root", root.str(), "-q", "--qf", "%{NAME} %{VERSION}\\n", "passt"},
            {.exit_code = 1, .out = "package passt is not installed\n", .err = ""});
  runner.on({"rpm", "--root", root.str(), "-q", "--qf", "%{NAME} %{VERSION}\\n", "podman"},
            {.exit_code = 0, .out = "podman 5.2.3\n", .err = ""});
  auto passt = find_check(all, "packages.passt").run(host.view());
  CHECK(passt.outcome == Outcome::fail);
  CHECK(passt.fix == "dnf install passt");
  auto v = find_check(all, "packages.podman-version").run(host.view());
  CHECK(v.outcome == Outcome::pass);
  CHECK(v.actual == "5.2.3");
  CHECK(runner.mutating_calls() == 0);
}

TEST_CASE("packages checks: no version check without a floor", "[checks][packages]") {
  auto p = debian_profile();
  p.podman_min_version.clear();
  auto all = zt::checks::make_packages_checks(p);
  CHECK(all.size() == 3);
}
