// SPDX-License-Identifier: Apache-2.0
#include "provisioners/ports.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using zt::provisioners::Change;
using zt::provisioners::Ports;
using zt::provisioners::PortsSpec;

const std::string k_ours = "/etc/sysctl.d/60-ztagent.conf";
const std::string k_proc = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
const std::string k_expected_file =
    "# Managed by ztagent: lets the rootless Podman stack bind ports 80/443.\n"
    "net.ipv4.ip_unprivileged_port_start = 80\n";

PortsSpec sysctl_spec() {
  return {.strategy = zt::profile::PortStrategy::sysctl, .port_start = 80, .sysctl_file = k_ours};
}

std::uint32_t mode_of(const std::filesystem::path& p) {
  struct ::stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

zt::provisioners::Plan live_plan() {
  zt::provisioners::Plan plan;
  plan.changes.push_back({k_proc, "lower live value 1024 -> 80 (sysctl -w)"});
  return plan;
}

/// A Debian-like tree: /etc/sysctl.conf plus the 99-sysctl.conf link to it.
void debian_sysctl(zt::test::TempRoot& root, std::string_view sysctl_conf = "# empty\n") {
  root.write("/etc/sysctl.conf", sysctl_conf);
  root.mkdir("/etc/sysctl.d");
  std::filesystem::create_symlink("../sysctl.conf", root.real("/etc/sysctl.d/99-sysctl.conf"));
}

} // namespace

TEST_CASE("Ports: writes the sysctl file once, then is a no-op", "[provisioners][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: writes a root-owned file");
  }
  zt::test::TempRoot root;
  root.mkdir("/etc/sysctl.d");
  debian_sysctl(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{sysctl_spec()};
  CHECK(step.id() == "ports");

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(plan->changes ==
          std::vector<Change>{{k_ours, "create with net.ipv4.ip_unprivileged_port_start = 80"}});
  auto applied = step.apply(host, *plan);
  REQUIRE(applied);
  CHECK(root.read(k_ours) == k_expected_file);
  CHECK(mode_of(root.real(k_ours)) == 0644);

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(runner.calls().empty());

  // And the step's checks agree.
  zt::profile::Config config;
  auto built = zt::provisioners::make_ports_step(config, {});
  CHECK(built.id == "ports");
  REQUIRE(built.checks.size() == 3);
  CHECK(built.checks[0]->id() == "ports.sysctl-persisted");
  CHECK(built.checks[1]->id() == "ports.sysctl-effective");
  CHECK(built.checks[2]->id() == "ports.sysctl-live");
  CHECK(built.checks[0]->run(host.view()).outcome == zt::checks::Outcome::pass);
  CHECK(built.checks[1]->run(host.view()).outcome == zt::checks::Outcome::pass);
  CHECK(built.checks[2]->run(host.view()).outcome == zt::checks::Outcome::skip);
}

TEST_CASE("Ports: repairs changed content and mode, creating /etc/sysctl.d if needed",
          "[provisioners][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: writes a root-owned file");
  }
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{sysctl_spec()};

  SECTION("no /etc/sysctl.d yet") {
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    REQUIRE(step.apply(host, *plan));
    CHECK(root.read(k_ours) == k_expected_file);
    CHECK(mode_of(root.real("/etc/sysctl.d")) == 0755);
  }
  SECTION("content and mode drifted") {
    root.write(k_ours, "net.ipv4.ip_unprivileged_port_start = 1024\n");
    std::filesystem::permissions(root.real(k_ours), std::filesystem::perms(0600));
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    REQUIRE(plan->changes ==
            std::vector<Change>{{k_ours, "rewrite (has net.ipv4.ip_unprivileged_port_start = 1024); set mode "
                                         "0644, owner root:root (is 0600 0:0)"}});
    REQUIRE(step.apply(host, *plan));
    CHECK(root.read(k_ours) == k_expected_file);
    CHECK(mode_of(root.real(k_ours)) == 0644);
  }
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports: a second run plans nothing and runs no mutating command", "[provisioners][ports]") {
  zt::test::TempRoot root;
  debian_sysctl(root);
  root.write(k_ours, k_expected_file);
  std::filesystem::permissions(root.real(k_ours), std::filesystem::perms(0644));
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: the converged file is root-owned");
  }
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{sysctl_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  CHECK(runner.mutating_calls() == 0);
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports: a dry run (plan only) leaves disk and runner untouched", "[provisioners][ports]") {
  zt::test::TempRoot root;
  root.mkdir("/etc/sysctl.d");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{sysctl_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 1);
  CHECK_FALSE(root.exists(k_ours));
  CHECK(std::filesystem::is_empty(root.real("/etc/sysctl.d")));
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports: refuses to fight a later sysctl file, with the exact message", "[provisioners][ports]") {
  zt::test::TempRoot root;
  root.mkdir("/etc/sysctl.d");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{sysctl_spec()};

  struct Row {
    std::string path;
    std::string content;
    std::string message;
  };
  std::vector<Row> rows = {
      {"/etc/sysctl.d/99-local.conf", "net.ipv4.ip_unprivileged_port_start = 1024\n",
       "ports: /etc/sysctl.d/99-local.conf sets net.ipv4.ip_unprivileged_port_start = 1024 after ztagent's "
       "file; "
       "remove that line or set ports.sysctl_file to sort after it"},
      {"/usr/lib/sysctl.d/70-vendor.conf", "-net/ipv4/ip_unprivileged_port_start=443\n",
       "ports: /usr/lib/sysctl.d/70-vendor.conf sets net.ipv4.ip_unprivileged_port_start = 443 after "
       "ztagent's "
       "file; remove that line or set ports.sysctl_file to sort after it"},
      {"/etc/sysctl.conf", "net.ipv4.ip_unprivileged_port_start=1024\n",
       "ports: /etc/sysctl.conf sets net.ipv4.ip_unprivileged_port_start = 1024 after ztagent's file; remove "
       "that line or set ports.sysctl_file to sort after it"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.path);
    root.write(row.path, row.content);
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::invalid_config);
    CHECK(plan.error().message == row.message);
    std::filesystem::remove(root.real(row.path));
  }

  SECTION("earlier files and later files that set a low value are fine") {
    root.write("/etc/sysctl.d/10-early.conf", "net.ipv4.ip_unprivileged_port_start = 1024\n");
    root.write("/etc/sysctl.d/99-late.conf", "net.ipv4.ip_unprivileged_port_start = 0\n");
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(plan->changes.size() == 1);
  }
  CHECK_FALSE(root.exists(k_ours));
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports: other failures give the exact message", "[provisioners][ports]") {
  zt::test::TempRoot root;
  root.mkdir("/etc/sysctl.d");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);

  SECTION("strategy forward") {
    Ports step{{.strategy = zt::profile::PortStrategy::forward, .port_start = 80, .sysctl_file = k_ours}};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::unsupported);
    CHECK(plan.error().message ==
          "ports: strategy 'forward' (nftables/firewalld) is not implemented yet; use "
          "ports.strategy = \"sysctl\" or \"none\"");
  }
  SECTION("sysctl_file is a symlink") {
    std::filesystem::create_symlink("/tmp/elsewhere.conf", root.real(k_ours));
    auto plan = Ports{sysctl_spec()}.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message ==
          "ports: /etc/sysctl.d/60-ztagent.conf is a symlink; remove it so ztagent can write the file");
  }
  SECTION("sysctl_file is a directory") {
    root.mkdir(k_ours);
    auto plan = Ports{sysctl_spec()}.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message == "ports: /etc/sysctl.d/60-ztagent.conf is not a regular file; remove it");
  }
  SECTION("sysctl_file is not read at boot") {
    Ports step{{.strategy = zt::profile::PortStrategy::sysctl,
                .port_start = 80,
                .sysctl_file = "/etc/ztagent/ports.conf"}};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::invalid_config);
    CHECK(plan.error().message == "ports: /etc/ztagent/ports.conf is not read by systemd-sysctl at boot; set "
                                  "ports.sysctl_file to a *.conf file in /etc/sysctl.d");
  }
  SECTION("sysctl -w fails") {
    runner.on({"sysctl", "-w", "net.ipv4.ip_unprivileged_port_start=80"},
              {.exit_code = 255,
               .out = "",
               .err = "sysctl: permission denied on key \"net.ipv4.ip_unprivileged_port_start\"\n"});
    Ports step{sysctl_spec()};
    auto applied = step.apply(host, live_plan());
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message ==
          "ports: sysctl -w net.ipv4.ip_unprivileged_port_start=80 failed (exit 255): "
          "sysctl: permission denied on key \"net.ipv4.ip_unprivileged_port_start\"");
  }
  SECTION("sysctl cannot start") {
    runner.on_error({"sysctl", "-w", "net.ipv4.ip_unprivileged_port_start=80"},
                    zt::Error{zt::Errc::io, "sysctl: not found in PATH"});
    Ports step{sysctl_spec()};
    auto applied = step.apply(host, live_plan());
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::io);
    CHECK(applied.error().message == "ports: sysctl: not found in PATH");
  }
}

TEST_CASE("Ports: the live change runs sysctl -w as a mutating host command", "[provisioners][ports]") {
  // Under TempRoot the host is not live, so plan() never proposes this; apply() is exercised directly.
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  runner.on({"sysctl", "-w", "net.ipv4.ip_unprivileged_port_start=80"});
  auto host = root.host(runner);
  Ports step{sysctl_spec()};
  auto applied = step.apply(host, live_plan());
  REQUIRE(applied);
  REQUIRE(runner.calls().size() == 1);
  CHECK(runner.calls()[0].effect == zt::host::Effect::mutating);
  CHECK(runner.calls()[0].scope == zt::host::Scope::host);
  CHECK_FALSE(root.exists(k_ours));
}

TEST_CASE("Ports: plan_live_port_start decides the live part", "[provisioners][ports]") {
  auto c = zt::provisioners::plan_live_port_start("1024\n", 80);
  REQUIRE(c);
  REQUIRE(c->has_value());
  CHECK(**c == Change{k_proc, "lower live value 1024 -> 80 (sysctl -w)"});

  for (std::string_view ok : {"80\n", "0\n", "79"}) {
    auto none = zt::provisioners::plan_live_port_start(ok, 80);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
  }
  auto bad = zt::provisioners::plan_live_port_start("-1\n", 80);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == zt::Errc::parse);
  CHECK(bad.error().message == "ports: cannot parse /proc/sys/net/ipv4/ip_unprivileged_port_start: '-1'");
}

TEST_CASE("Ports: check_sysctl_not_overridden", "[provisioners][ports]") {
  using zt::checks::EffectiveSetting;
  CHECK(zt::provisioners::check_sysctl_not_overridden(EffectiveSetting{k_ours, 2, "80"}, k_ours, 80));
  CHECK(zt::provisioners::check_sysctl_not_overridden(EffectiveSetting{"/etc/sysctl.conf", 9, "0"}, k_ours,
                                                      80));
  auto r = zt::provisioners::check_sysctl_not_overridden(EffectiveSetting{"/etc/sysctl.conf", 9, "junk"},
                                                         k_ours, 80);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "ports: /etc/sysctl.conf sets net.ipv4.ip_unprivileged_port_start = junk after "
                             "ztagent's file; remove that line or set ports.sysctl_file to sort after it");
  r = zt::provisioners::check_sysctl_not_overridden(std::nullopt, k_ours, 80);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == zt::Errc::invalid_config);
  CHECK(r.error().message ==
        "ports: /etc/sysctl.d/60-ztagent.conf is not read by systemd-sysctl at boot; set "
        "ports.sysctl_file to a *.conf file in /etc/sysctl.d");
}

TEST_CASE("Ports: strategy none plans nothing", "[provisioners][ports]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{{.strategy = zt::profile::PortStrategy::none, .port_start = 80, .sysctl_file = k_ours}};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  CHECK_FALSE(root.exists(k_ours));
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports: plan on this machine is read-only and never an internal error",
          "[provisioners][ports][live]") {
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  auto plan = Ports{sysctl_spec()}.plan(host.view());
  if (plan) {
    for (const auto& c : plan->changes) {
      CHECK((c.target == k_ours || c.target == k_proc));
    }
  } else {
    CAPTURE(plan.error().message);
    CHECK(plan.error().code == zt::Errc::invalid_config); // e.g. /etc/sysctl.conf sets a higher value
  }
  CHECK(runner.calls().empty());
}
