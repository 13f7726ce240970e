// SPDX-License-Identifier: Apache-2.0
#include "provisioners/ports.hpp"
#include "../checks/ports_fixture.hpp"
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
  REQUIRE(built.checks.size() == 5);
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

  SECTION("strategy forward with an unknown firewall") {
    Ports step{{.strategy = zt::profile::PortStrategy::forward, .sysctl_file = k_ours, .firewall = "ufw"}};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::invalid_config);
    CHECK(plan.error().message == "ports: unknown firewall 'ufw' for strategy forward; the profile must say "
                                  "\"nftables\" or \"firewalld\"");
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

// --- strategy forward ----------------------------------------------------------------------------

namespace {

namespace fx = zt::test::ports;

PortsSpec forward_spec(std::string firewall = "nftables", std::string sysctl_file = k_ours) {
  return {.strategy = zt::profile::PortStrategy::forward,
          .port_start = 80,
          .sysctl_file = std::move(sysctl_file),
          .firewall = std::move(firewall),
          .forwards = zt::checks::port_forwards(fx::forward_stack())};
}

/// An image tree with nftables installed.
void with_nft(zt::test::TempRoot& root) {
  root.write("/usr/sbin/nft", "#!/bin/false\n");
}

zt::host::CommandResult ok_out(std::string out) {
  return {.exit_code = 0, .out = std::move(out), .err = ""};
}

} // namespace

TEST_CASE("Ports forward: ports_spec takes the stack's forwards and the profile's firewall", "[provisioners][ports]") {
  auto spec = zt::provisioners::ports_spec(fx::forward_config(zt::profile::PortStrategy::forward, "firewalld"));
  CHECK(spec.strategy == zt::profile::PortStrategy::forward);
  CHECK(spec.firewall == "firewalld");
  CHECK(spec.forwards == std::vector<zt::checks::PortForward>{{80, 8080, "tcp"}, {443, 8443, "tcp"}});
}

TEST_CASE("Ports forward (nftables): writes table, unit and link once, then is a no-op", "[provisioners][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: writes root-owned files");
  }
  zt::test::TempRoot root;
  with_nft(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{forward_spec()};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(plan->changes ==
          std::vector<Change>{{fx::k_conf, "create"},
                              {fx::k_unit, "create"},
                              {fx::k_link, "enable: symlink -> /etc/systemd/system/ztagent-forward.service"}});
  REQUIRE(step.apply(host, *plan));
  CHECK(root.read(fx::k_conf) == fx::k_nft_conf_text);
  CHECK(root.read(fx::k_unit) == fx::k_unit_text);
  CHECK(mode_of(root.real(fx::k_conf)) == 0644);
  CHECK(mode_of(root.real(fx::k_unit)) == 0644);
  CHECK(mode_of(root.real("/etc/ztagent")) == 0755);
  CHECK(std::filesystem::read_symlink(root.real(fx::k_link)) == fx::k_unit);

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(runner.calls().empty()); // not live: nft is never run under --root

  // The step's forward checks agree.
  auto config = fx::forward_config(zt::profile::PortStrategy::forward);
  auto built = zt::provisioners::make_ports_step(config, {});
  REQUIRE(built.checks.size() == 5);
  CHECK(built.checks[3]->id() == "ports.forward-persisted");
  CHECK(built.checks[4]->id() == "ports.forward-live");
  CHECK(built.checks[3]->run(host.view()).outcome == zt::checks::Outcome::pass);
  CHECK(built.checks[4]->run(host.view()).outcome == zt::checks::Outcome::skip);
  CHECK(built.provisioner->managed_paths(host.view()) == std::vector<std::string>{fx::k_conf, fx::k_unit, fx::k_link});
}

TEST_CASE("Ports forward (nftables): repairs an edited file, a wrong mode and a retargeted link",
          "[provisioners][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: writes root-owned files");
  }
  zt::test::TempRoot root;
  with_nft(root);
  root.write(fx::k_conf, "table inet ztagent {}\n");
  root.write(fx::k_unit, fx::k_unit_text);
  std::filesystem::permissions(root.real(fx::k_unit), std::filesystem::perms(0600));
  root.mkdir("/etc/systemd/system/multi-user.target.wants");
  std::filesystem::create_symlink("/dev/null", root.real(fx::k_link));
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{forward_spec()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(plan->changes ==
          std::vector<Change>{
              {fx::k_conf, "rewrite (content differs)"},
              {fx::k_unit, "set mode 0644, owner root:root (is 0600 0:0)"},
              {fx::k_link, "enable: symlink -> /etc/systemd/system/ztagent-forward.service (points to /dev/null)"}});
  REQUIRE(step.apply(host, *plan));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(std::filesystem::read_symlink(root.real(fx::k_link)) == fx::k_unit);
}

TEST_CASE("Ports forward (nftables): a second run plans nothing and runs no mutating command",
          "[provisioners][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: the converged files are root-owned");
  }
  zt::test::TempRoot root;
  with_nft(root);
  root.write(fx::k_conf, fx::k_nft_conf_text);
  root.write(fx::k_unit, fx::k_unit_text);
  std::filesystem::permissions(root.real(fx::k_conf), std::filesystem::perms(0644));
  std::filesystem::permissions(root.real(fx::k_unit), std::filesystem::perms(0644));
  root.mkdir("/etc/systemd/system/multi-user.target.wants");
  std::filesystem::create_symlink(fx::k_unit, root.real(fx::k_link));
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto plan = Ports{forward_spec()}.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  CHECK(runner.mutating_calls() == 0);
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports forward (nftables): a dry run leaves disk and runner untouched", "[provisioners][ports]") {
  zt::test::TempRoot root;
  with_nft(root);
  root.write(k_ours, k_expected_file);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto plan = Ports{forward_spec()}.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 4);
  CHECK_FALSE(root.exists(fx::k_conf));
  CHECK_FALSE(root.exists("/etc/systemd"));
  CHECK(root.read(k_ours) == k_expected_file);
  CHECK(runner.calls().empty());
}

TEST_CASE("Ports forward: removes ztagent's own sysctl file, keeps anyone else's", "[provisioners][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: writes root-owned files");
  }
  zt::test::TempRoot root;
  with_nft(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Ports step{forward_spec()};
  const Change removal{k_ours, "remove ztagent's sysctl file (strategy forward does not need it; the live value "
                               "stays until reboot)"};
  SECTION("ours (written by strategy sysctl)") {
    root.write(k_ours, k_expected_file);
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    REQUIRE(plan->changes.size() == 4);
    CHECK(plan->changes[0] == removal);
    REQUIRE(step.apply(host, *plan));
    CHECK_FALSE(root.exists(k_ours));
  }
  SECTION("someone else's file at the same path") {
    root.write(k_ours, "net.ipv4.ip_unprivileged_port_start = 80\n");
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(plan->changes.size() == 3);
    REQUIRE(step.apply(host, *plan));
    CHECK(root.read(k_ours) == "net.ipv4.ip_unprivileged_port_start = 80\n");
  }
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
}

TEST_CASE("Ports forward: failures give the exact message", "[provisioners][ports]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);

  SECTION("nft missing") {
    auto plan = Ports{forward_spec()}.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::unsupported);
    CHECK(plan.error().message ==
          "ports: /usr/sbin/nft not found: install nftables or set ports.strategy = \"sysctl\"");
  }
  SECTION("the wants link is a regular file") {
    with_nft(root);
    root.write(fx::k_link, "");
    auto plan = Ports{forward_spec()}.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message == "ports: /etc/systemd/system/multi-user.target.wants/ztagent-forward.service is a "
                                  "regular file, not a symlink; remove it so ztagent can enable "
                                  "ztagent-forward.service");
  }
  SECTION("the table file is a symlink") {
    with_nft(root);
    root.mkdir("/etc/ztagent");
    std::filesystem::create_symlink("/tmp/x.conf", root.real(fx::k_conf));
    auto plan = Ports{forward_spec()}.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message ==
          "ports: /etc/ztagent/nftables.conf is a symlink; remove it so ztagent can write the file");
  }
  SECTION("nft -f fails") {
    runner.on({"nft", "-f", "/etc/ztagent/nftables.conf"},
              {.exit_code = 1, .out = "", .err = "/etc/ztagent/nftables.conf:6:9-16: Error: syntax error\n"});
    zt::provisioners::Plan live;
    live.changes.push_back({"nftables: table inet ztagent", "load"});
    auto applied = Ports{forward_spec()}.apply(host, live);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message == "ports: nft -f /etc/ztagent/nftables.conf failed (exit 1): "
                                     "/etc/ztagent/nftables.conf:6:9-16: Error: syntax error");
  }
  SECTION("firewalld under --root") {
    auto plan = Ports{forward_spec("firewalld")}.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::unsupported);
    CHECK(plan.error().message == "ports: strategy forward with firewalld needs the live host (firewall-cmd "
                                  "configures the running daemon); run without --root, or set ports.strategy = "
                                  "\"sysctl\"");
  }
  CHECK(runner.mutating_calls() <= 1);
}

TEST_CASE("Ports forward (nftables): plan_nft_live decides the live part", "[provisioners][ports]") {
  const auto forwards = zt::checks::port_forwards(fx::forward_stack());
  auto same = zt::provisioners::plan_nft_live(ok_out(fx::k_nft_listing), forwards);
  REQUIRE(same);
  CHECK_FALSE(same->has_value());

  auto missing = zt::provisioners::plan_nft_live(
      {.exit_code = 1, .out = "", .err = "Error: No such file or directory\nlist table inet ztagent\n"}, forwards);
  REQUIRE(missing);
  REQUIRE(missing->has_value());
  CHECK(**missing ==
        Change{"nftables: table inet ztagent", "load /etc/ztagent/nftables.conf with nft -f (live table missing)"});

  auto differs = zt::provisioners::plan_nft_live(ok_out("table inet ztagent {\n}\n"), forwards);
  REQUIRE(differs);
  REQUIRE(differs->has_value());
  CHECK((*differs)->summary == "load /etc/ztagent/nftables.conf with nft -f (live table differs)");

  auto failed = zt::provisioners::plan_nft_live(
      {.exit_code = 1, .out = "", .err = "Error: Operation not permitted\n"}, forwards);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == zt::Errc::command_failed);
  CHECK(failed.error().message == "ports: nft list table inet ztagent failed (exit 1): Error: Operation not permitted");
}

TEST_CASE("Ports forward (nftables): the live change runs nft -f as a mutating host command",
          "[provisioners][ports]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  runner.on({"nft", "-f", "/etc/ztagent/nftables.conf"});
  auto host = root.host(runner);
  zt::provisioners::Plan live;
  live.changes.push_back({"nftables: table inet ztagent", "load /etc/ztagent/nftables.conf with nft -f"});
  REQUIRE(Ports{forward_spec()}.apply(host, live));
  REQUIRE(runner.calls().size() == 1);
  CHECK(runner.calls()[0].effect == zt::host::Effect::mutating);
  CHECK(runner.calls()[0].scope == zt::host::Scope::host);
}

namespace {

/// A scripted firewalld: permanent and runtime item lists that the fake firewall-cmd edits.
struct FakeFirewalld {
  std::vector<std::string> permanent_ports, permanent_rules, runtime_ports, runtime_rules;
  bool running = true;

  static std::string lines(const std::vector<std::string>& v, std::string_view suffix = "") {
    std::string out;
    for (const auto& s : v) {
      out += s + std::string(suffix) + "\n";
    }
    return out;
  }

  void script(zt::test::FakeRunner& runner) {
    runner.on({"firewall-cmd", "--state"},
              {.exit_code = running ? 0 : 252, .out = running ? "running\n" : "not running\n", .err = ""});
    runner.on({"firewall-cmd", "--permanent", "--list-forward-ports"}, ok_out(lines(permanent_ports, ":toaddr=")));
    runner.on({"firewall-cmd", "--permanent", "--direct", "--get-all-rules"}, ok_out(lines(permanent_rules)));
    runner.on({"firewall-cmd", "--list-forward-ports"}, ok_out(lines(runtime_ports, ":toaddr=")));
    runner.on({"firewall-cmd", "--direct", "--get-all-rules"}, ok_out(lines(runtime_rules)));
  }
};

} // namespace

TEST_CASE("Ports forward (firewalld): adds the permanent items, reloads, then is a no-op", "[provisioners][ports]") {
  // Fs("/") makes the view live; the firewalld path reads only the nonexistent sysctl_file from disk.
  const std::string no_sysctl = "/nonexistent-ztagent-test/60-ztagent.conf";
  FakeFirewalld fw;
  fw.permanent_ports = {"port=22:proto=tcp:toport=2222"}; // someone else's: kept
  fw.runtime_ports = fw.permanent_ports;
  zt::test::FakeRunner runner;
  fw.script(runner);
  zt::host::Host host(zt::host::Fs("/"), runner);
  Ports step{forward_spec("firewalld", no_sysctl)};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(plan->changes.size() == 7);
  CHECK(plan->changes[0] == Change{"firewalld: permanent", "add port=80:proto=tcp:toport=8080"});
  CHECK(plan->changes[1] ==
        Change{"firewalld: permanent", "add ipv4 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080"});
  CHECK(plan->changes[6].target == "firewalld: runtime");
  CHECK(plan->changes[6].summary.starts_with("firewall-cmd --reload (runtime lacks port=80:proto=tcp:toport=8080, "));

  // Apply: each add edits the permanent lists; --reload copies them to the runtime.
  zt::test::FakeRunner applier;
  auto add = [&](const std::vector<std::string>& argv, std::vector<std::string>& list, std::string item) {
    applier.on(argv, {}, [&list, item] { list.push_back(item); });
  };
  for (const auto& item : zt::checks::firewalld_items(zt::checks::port_forwards(fx::forward_stack()))) {
    add(zt::checks::firewalld_add_argv(item),
        item.kind == zt::checks::FirewalldItem::Kind::forward_port ? fw.permanent_ports : fw.permanent_rules,
        item.text);
  }
  applier.on({"firewall-cmd", "--reload"}, {}, [&] {
    fw.runtime_ports = fw.permanent_ports;
    fw.runtime_rules = fw.permanent_rules;
  });
  zt::host::Host apply_host(zt::host::Fs("/"), applier);
  REQUIRE(step.apply(apply_host, *plan));
  CHECK(applier.mutating_calls() == 7);
  for (const auto& call : applier.calls()) {
    CHECK(call.scope == zt::host::Scope::host);
  }
  CHECK(applier.calls().back().argv == std::vector<std::string>{"firewall-cmd", "--reload"});

  // Second run: nothing to do, no mutating command.
  zt::test::FakeRunner again_runner;
  fw.script(again_runner);
  zt::host::Host again_host(zt::host::Fs("/"), again_runner);
  auto again = step.plan(again_host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(again_runner.mutating_calls() == 0);
  CHECK(std::find(fw.permanent_ports.begin(), fw.permanent_ports.end(), "port=22:proto=tcp:toport=2222") !=
        fw.permanent_ports.end());
}

TEST_CASE("Ports forward (firewalld): only a reload when the runtime lost a rule, with exact failures",
          "[provisioners][ports]") {
  const std::string no_sysctl = "/nonexistent-ztagent-test/60-ztagent.conf";
  FakeFirewalld fw;
  for (const auto& item : zt::checks::firewalld_items(zt::checks::port_forwards(fx::forward_stack()))) {
    (item.kind == zt::checks::FirewalldItem::Kind::forward_port ? fw.permanent_ports : fw.permanent_rules)
        .push_back(item.text);
  }
  fw.runtime_ports = fw.permanent_ports;
  fw.runtime_rules = {fw.permanent_rules[0]};
  Ports step{forward_spec("firewalld", no_sysctl)};

  SECTION("reload only") {
    zt::test::FakeRunner runner;
    fw.script(runner);
    zt::host::Host host(zt::host::Fs("/"), runner);
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    REQUIRE(plan->changes.size() == 1);
    CHECK(plan->changes[0] ==
          Change{"firewalld: runtime",
                 "firewall-cmd --reload (runtime lacks ipv6 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT "
                 "--to-ports 8080, ipv4 nat OUTPUT 0 -o lo -p tcp --dport 443 -j REDIRECT --to-ports 8443, ipv6 nat "
                 "OUTPUT 0 -o lo -p tcp --dport 443 -j REDIRECT --to-ports 8443)"});
    CHECK(runner.mutating_calls() == 0);
  }
  SECTION("firewalld not running") {
    fw.running = false;
    zt::test::FakeRunner runner;
    fw.script(runner);
    zt::host::Host host(zt::host::Fs("/"), runner);
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::unsupported);
    CHECK(plan.error().message == "ports: firewalld: not running (firewall-cmd --state exit 252); start it with "
                                  "`systemctl enable --now firewalld` or set ports.strategy = \"sysctl\"");
  }
  SECTION("firewall-cmd --reload fails") {
    zt::test::FakeRunner runner;
    runner.on({"firewall-cmd", "--reload"}, {.exit_code = 1, .out = "", .err = "Error: COMMAND_FAILED\n"});
    zt::host::Host host(zt::host::Fs("/"), runner);
    zt::provisioners::Plan plan;
    plan.changes.push_back({"firewalld: runtime", "firewall-cmd --reload"});
    auto applied = step.apply(host, plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message == "ports: firewall-cmd --reload failed (exit 1): Error: COMMAND_FAILED");
  }
}
