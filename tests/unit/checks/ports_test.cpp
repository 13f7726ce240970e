// SPDX-License-Identifier: Apache-2.0
#include "checks/ports.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <unistd.h>

namespace {

using zt::checks::EffectiveSetting;
using zt::checks::Outcome;
using zt::checks::SysctlFile;

const std::string k_ours = "/etc/sysctl.d/60-ztagent.conf";
const std::string k_expected_file =
    "# Managed by ztagent: lets the rootless Podman stack bind ports 80/443.\n"
    "net.ipv4.ip_unprivileged_port_start = 80\n";

zt::profile::SiteConfig site_with(zt::profile::PortStrategy strategy) {
  zt::profile::SiteConfig site;
  site.port_strategy = strategy;
  return site;
}

const zt::checks::Check& find_check(const std::vector<std::unique_ptr<zt::checks::Check>>& checks,
                                    std::string_view id) {
  for (const auto& c : checks) {
    if (c->id() == id) {
      return *c;
    }
  }
  FAIL("no check " << id);
  throw std::logic_error("unreachable");
}

void symlink_in(const zt::test::TempRoot& root, const std::string& target, std::string_view link) {
  std::filesystem::create_directories(root.real(link).parent_path());
  std::filesystem::create_symlink(target, root.real(link));
}

zt::host::FileStat stat_of(zt::host::FileType type, std::uint32_t mode = 0, std::uint32_t uid = 0) {
  zt::host::FileStat st;
  st.type = type;
  st.mode = mode;
  st.uid = uid;
  return st;
}

void write_ours(zt::test::TempRoot& root) {
  root.write(k_ours, k_expected_file);
  std::filesystem::permissions(root.real(k_ours), std::filesystem::perms(0644));
}

} // namespace

TEST_CASE("ports: render_ports_sysctl is exact", "[checks][ports]") {
  CHECK(zt::checks::render_ports_sysctl(80) == k_expected_file);
  CHECK(zt::checks::render_ports_sysctl(0) ==
        "# Managed by ztagent: lets the rootless Podman stack bind ports 80/443.\n"
        "net.ipv4.ip_unprivileged_port_start = 0\n");
}

TEST_CASE("ports: normalize_sysctl_key follows systemd-sysctl", "[checks][ports]") {
  CHECK(zt::checks::normalize_sysctl_key("net.ipv4.ip_unprivileged_port_start") ==
        "net.ipv4.ip_unprivileged_port_start");
  CHECK(zt::checks::normalize_sysctl_key("net/ipv4/ip_unprivileged_port_start") ==
        "net.ipv4.ip_unprivileged_port_start");
  CHECK(zt::checks::normalize_sysctl_key("net/ipv4/conf/eth0.100/rp_filter") ==
        "net.ipv4.conf.eth0/100.rp_filter");
  CHECK(zt::checks::normalize_sysctl_key("net.ipv4.conf.eth0/100.rp_filter") ==
        "net.ipv4.conf.eth0/100.rp_filter");
  CHECK(zt::checks::normalize_sysctl_key("kernel") == "kernel");
}

TEST_CASE("ports: parse_sysctl_conf handles comments, '-' and junk", "[checks][ports]") {
  auto a = zt::checks::parse_sysctl_conf("# comment = 1\n"
                                         "; also = 2\n"
                                         "\n"
                                         "  net.ipv4.ip_forward=1  \n"
                                         "-net/ipv4/ip_unprivileged_port_start =  80\n"
                                         "no equals sign\n"
                                         " = 5\n"
                                         "kernel.x = a b\n");
  REQUIRE(a.size() == 3);
  CHECK(a[0].key == "net.ipv4.ip_forward");
  CHECK(a[0].value == "1");
  CHECK(a[0].line == 4);
  CHECK(a[1].key == "net.ipv4.ip_unprivileged_port_start");
  CHECK(a[1].value == "80");
  CHECK(a[1].line == 5);
  CHECK(a[2].key == "kernel.x");
  CHECK(a[2].value == "a b");
  CHECK(a[2].line == 8);
}

TEST_CASE("ports: order_sysctl_files dedups by name, earlier directory wins, sorted by name",
          "[checks][ports]") {
  auto order = zt::checks::order_sysctl_files({
      {"/etc/sysctl.d", {"99-sysctl.conf", "60-ztagent.conf", "README.sysctl", "10-x.conf"}},
      {"/run/sysctl.d", {"10-x.conf", "50-run.conf"}},
      {"/usr/lib/sysctl.d", {"50-default.conf", "60-ztagent.conf", "50-run.conf", ".conf"}},
  });
  CHECK(order == std::vector<std::string>{"/etc/sysctl.d/10-x.conf", "/usr/lib/sysctl.d/50-default.conf",
                                          "/run/sysctl.d/50-run.conf", "/etc/sysctl.d/60-ztagent.conf",
                                          "/etc/sysctl.d/99-sysctl.conf"});
}

TEST_CASE("ports: effective_sysctl takes the last assignment in order", "[checks][ports]") {
  const std::string key{zt::checks::k_port_start_key};
  struct Row {
    std::vector<SysctlFile> files;
    std::optional<std::string> file;
    std::size_t line;
    std::string value;
  };
  std::vector<Row> rows = {
      {{}, std::nullopt, 0, ""},
      {{{"/a.conf", "kernel.x = 1\n"}}, std::nullopt, 0, ""},
      {{{"/a.conf", key + " = 80\n"}}, "/a.conf", 1, "80"},
      {{{"/a.conf", key + " = 80\n"}, {"/b.conf", "# x\nnet/ipv4/ip_unprivileged_port_start=1024\n"}},
       "/b.conf",
       2,
       "1024"},
      {{{"/a.conf", key + " = 1024\n" + key + " = 443\n"}, {"/b.conf", "-" + key + " = 80\n"}},
       "/b.conf",
       1,
       "80"},
      {{{"/a.conf", key + " = 1024\n" + key + " = 443\n"}}, "/a.conf", 2, "443"},
  };
  for (const auto& row : rows) {
    auto e = zt::checks::effective_sysctl(row.files, key);
    CAPTURE(row.files.size(), row.value);
    REQUIRE(e.has_value() == row.file.has_value());
    if (e) {
      CHECK(e->file == *row.file);
      CHECK(e->line == row.line);
      CHECK(e->value == row.value);
    }
  }
}

TEST_CASE("ports: read_sysctl_files reads like systemd-sysctl plus /etc/sysctl.conf last",
          "[checks][ports]") {
  zt::test::TempRoot root;
  root.write("/etc/sysctl.conf", "net.ipv4.ip_unprivileged_port_start = 1024\n");
  symlink_in(root, "../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf"); // Debian
  root.write("/etc/sysctl.d/README.sysctl", "not a conf\n");
  root.write("/etc/sysctl.d/10-local.conf", "kernel.a = 1\n");
  root.write("/usr/lib/sysctl.d/10-local.conf", "kernel.a = 2\n"); // shadowed by /etc
  root.write("/usr/lib/sysctl.d/50-default.conf", "kernel.b = 1\n");
  root.write("/lib/sysctl.d/50-pid-max.conf", "kernel.c = 1\n");
  symlink_in(root, "/dev/null", "/etc/sysctl.d/50-pid-max.conf"); // a mask
  root.mkdir("/run/sysctl.d/dir.conf");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);

  SECTION("as on disk") {
    auto files = zt::checks::read_sysctl_files(host.fs());
    REQUIRE(files);
    std::vector<std::string> paths;
    for (const auto& f : *files) {
      paths.push_back(f.path);
    }
    CHECK(paths == std::vector<std::string>{"/etc/sysctl.d/10-local.conf",
                                            "/usr/lib/sysctl.d/50-default.conf",
                                            "/etc/sysctl.d/50-pid-max.conf", "/etc/sysctl.conf"});
    CHECK((*files)[0].content == "kernel.a = 1\n");
    CHECK((*files)[2].content.empty());
    auto e = zt::checks::effective_sysctl(*files, zt::checks::k_port_start_key);
    REQUIRE(e);
    CHECK(e->file == "/etc/sysctl.conf");
  }
  SECTION("with an overlay for a file not yet written") {
    auto files = zt::checks::read_sysctl_files(host.fs(), SysctlFile{k_ours, k_expected_file});
    REQUIRE(files);
    REQUIRE(files->size() == 5);
    CHECK((*files)[3].path == k_ours);
    CHECK((*files)[3].content == k_expected_file);
    CHECK((*files)[4].path == "/etc/sysctl.conf");
  }
}

TEST_CASE("ports: evaluate_sysctl_persisted", "[checks][ports]") {
  const auto good = stat_of(zt::host::FileType::regular, 0644);
  const std::string expected = k_ours + ": net.ipv4.ip_unprivileged_port_start = 80, 0644 root:root";
  const std::string fix = "run `ztagent provision` to write " + k_ours;

  auto r = zt::checks::evaluate_sysctl_persisted(k_ours, good, k_expected_file, 80);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == expected);
  CHECK(r.actual == "net.ipv4.ip_unprivileged_port_start = 80, 0644 root:root");

  r = zt::checks::evaluate_sysctl_persisted(k_ours, {}, std::nullopt, 80);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "missing");
  CHECK(r.fix == fix);

  r = zt::checks::evaluate_sysctl_persisted(k_ours, good, "net.ipv4.ip_unprivileged_port_start = 1024\n", 80);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "content differs (net.ipv4.ip_unprivileged_port_start = 1024)");

  r = zt::checks::evaluate_sysctl_persisted(k_ours, good, "", 80);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "content differs (no net.ipv4.ip_unprivileged_port_start line)");

  r = zt::checks::evaluate_sysctl_persisted(k_ours, stat_of(zt::host::FileType::regular, 0600, 1000),
                                            k_expected_file, 80);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "mode 0600, owner 1000:0");

  r = zt::checks::evaluate_sysctl_persisted(k_ours, stat_of(zt::host::FileType::symlink), std::nullopt, 80);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "a symlink");
  CHECK(r.fix == "remove the symlink " + k_ours + ", then " + fix);
}

TEST_CASE("ports: evaluate_sysctl_effective names the file that sets the value", "[checks][ports]") {
  auto r = zt::checks::evaluate_sysctl_effective(EffectiveSetting{k_ours, 2, "80"}, 80, k_ours);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == "<= 80 at boot");
  CHECK(r.actual == "80 (set by /etc/sysctl.d/60-ztagent.conf:2)");

  r = zt::checks::evaluate_sysctl_effective(EffectiveSetting{"/etc/sysctl.d/99-local.conf", 3, "1024"}, 80, k_ours);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "1024 (set by /etc/sysctl.d/99-local.conf:3)");
  CHECK(r.fix == "remove net.ipv4.ip_unprivileged_port_start from /etc/sysctl.d/99-local.conf or set "
                 "ports.sysctl_file to sort after it, then run `ztagent provision`");

  r = zt::checks::evaluate_sysctl_effective(EffectiveSetting{"/etc/sysctl.conf", 1, "junk"}, 80, k_ours);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "junk (set by /etc/sysctl.conf:1)");

  // ztagent's own file (or none) deciding is ports.sysctl-persisted's business: skip, not a second failure.
  r = zt::checks::evaluate_sysctl_effective(std::nullopt, 80, k_ours);
  CHECK(r.outcome == Outcome::skip);
  CHECK(r.actual == "1024 (kernel default; no sysctl file sets net.ipv4.ip_unprivileged_port_start; "
                    "/etc/sysctl.d/60-ztagent.conf is reported by ports.sysctl-persisted)");
  r = zt::checks::evaluate_sysctl_effective(EffectiveSetting{k_ours, 1, "1024"}, 80, k_ours);
  CHECK(r.outcome == Outcome::skip);
  CHECK(r.actual == "1024 (set by /etc/sysctl.d/60-ztagent.conf:1); ztagent's own file is reported by "
                    "ports.sysctl-persisted");
}

TEST_CASE("ports: evaluate_sysctl_live", "[checks][ports]") {
  auto r = zt::checks::evaluate_sysctl_live("80\n", 80);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "80");
  r = zt::checks::evaluate_sysctl_live("0\n", 80);
  CHECK(r.outcome == Outcome::pass);
  r = zt::checks::evaluate_sysctl_live("1024\n", 80);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.expected == "<= 80");
  CHECK(r.actual == "1024");
  CHECK(r.fix == "sysctl -w net.ipv4.ip_unprivileged_port_start=80 (or run `ztagent provision`)");
  r = zt::checks::evaluate_sysctl_live("x\n", 80);
  CHECK(r.outcome == Outcome::error);
  CHECK(r.actual == "cannot parse /proc/sys/net/ipv4/ip_unprivileged_port_start: 'x'");
}

TEST_CASE("ports checks: pass on a good tree, fail on each tampered state", "[checks][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: the good state has a root-owned file");
  }
  zt::test::TempRoot root;
  symlink_in(root, "../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf");
  root.write("/etc/sysctl.conf", "# nothing\n");
  write_ours(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto checks = zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::sysctl));
  REQUIRE(checks.size() == 3);
  const auto& persisted = find_check(checks, "ports.sysctl-persisted");
  const auto& effective = find_check(checks, "ports.sysctl-effective");
  const auto& live = find_check(checks, "ports.sysctl-live");
  for (const auto& c : checks) {
    CHECK(c->step() == "ports");
  }

  CHECK(persisted.run(host.view()).outcome == Outcome::pass);
  CHECK(effective.run(host.view()).outcome == Outcome::pass);
  auto l = live.run(host.view());
  CHECK(l.outcome == Outcome::skip);
  CHECK(l.actual == "not live: --root " + root.str());

  SECTION("content changed") {
    root.write(k_ours, "net.ipv4.ip_unprivileged_port_start = 1024\n");
    auto r = persisted.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "content differs (net.ipv4.ip_unprivileged_port_start = 1024)");
    CHECK(effective.run(host.view()).outcome == Outcome::skip);
  }
  SECTION("mode changed") {
    std::filesystem::permissions(root.real(k_ours), std::filesystem::perms(0600));
    auto r = persisted.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "mode 0600, owner 0:0");
  }
  SECTION("missing") {
    std::filesystem::remove(root.real(k_ours));
    CHECK(persisted.run(host.view()).actual == "missing");
    auto r = effective.run(host.view());
    CHECK(r.outcome == Outcome::skip);
  }
  SECTION("a later file overrides") {
    root.write("/etc/sysctl.d/99-local.conf", "net/ipv4/ip_unprivileged_port_start=1024\n");
    CHECK(persisted.run(host.view()).outcome == Outcome::pass);
    auto r = effective.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "1024 (set by /etc/sysctl.d/99-local.conf:1)");
  }
  SECTION("/etc/sysctl.conf overrides (applied last)") {
    root.write("/etc/sysctl.conf", "net.ipv4.ip_unprivileged_port_start = 1024\n");
    auto r = effective.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "1024 (set by /etc/sysctl.conf:1)");
  }
}

TEST_CASE("ports checks: strategy none skips, forward is an error", "[checks][ports]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  for (const auto& c : zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::none))) {
    auto r = c->run(host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "ports.strategy = none");
  }
  for (const auto& c : zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::forward))) {
    auto r = c->run(host.view());
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual ==
          "ports: strategy 'forward' (nftables/firewalld) is not implemented yet; use ports.strategy = "
          "\"sysctl\" or \"none\"");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("ports checks: sanity on this machine (never error)", "[checks][ports][live]") {
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  for (const auto& c : zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::sysctl))) {
    auto r = c->run(host.view());
    CAPTURE(c->id(), r.expected, r.actual, r.fix);
    CHECK(r.outcome != Outcome::error);
  }
  CHECK(runner.calls().empty());
}
