// SPDX-License-Identifier: Apache-2.0
#include "check_fixture.hpp"
#include "checks/ports.hpp"
#include "ports_fixture.hpp"
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

zt::profile::Config site_with(zt::profile::PortStrategy strategy) {
  return zt::test::ports::forward_config(strategy);
}

using zt::test::find_check;

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
  REQUIRE(checks.size() == 5);
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

TEST_CASE("ports checks: each strategy skips the other strategy's checks", "[checks][ports]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  for (const auto& c : zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::none))) {
    auto r = c->run(host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "ports.strategy = none");
  }
  auto forward = zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::forward));
  REQUIRE(forward.size() == 5);
  for (std::string_view id : {"ports.sysctl-persisted", "ports.sysctl-effective", "ports.sysctl-live"}) {
    auto r = find_check(forward, id).run(host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "ports.strategy = forward");
  }
  auto sysctl = zt::checks::make_ports_checks(site_with(zt::profile::PortStrategy::sysctl));
  for (std::string_view id : {"ports.forward-persisted", "ports.forward-live"}) {
    auto r = find_check(sysctl, id).run(host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "ports.strategy = sysctl");
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

// --- strategy forward ----------------------------------------------------------------------------

namespace {

namespace fx = zt::test::ports;

std::vector<zt::checks::PortForward> fixture_forwards() {
  return zt::checks::port_forwards(fx::forward_stack());
}

zt::host::CommandResult nft_ok(std::string out) {
  return {.exit_code = 0, .out = std::move(out), .err = ""};
}

/// A tree in the state the nftables forward strategy leaves behind.
void write_forward_tree(zt::test::TempRoot& root) {
  root.write(fx::k_conf, fx::k_nft_conf_text);
  root.write(fx::k_unit, fx::k_unit_text);
  root.write("/usr/sbin/nft", "#!/bin/false\n");
  std::filesystem::permissions(root.real(fx::k_conf), std::filesystem::perms(0644));
  std::filesystem::permissions(root.real(fx::k_unit), std::filesystem::perms(0644));
  symlink_in(root, fx::k_unit, fx::k_link);
}

} // namespace

TEST_CASE("ports forward: port_forwards keeps only ports with forward_to", "[checks][ports]") {
  CHECK(fixture_forwards() ==
        std::vector<zt::checks::PortForward>{{80, 8080, "tcp"}, {443, 8443, "tcp"}});
  CHECK(zt::checks::port_forwards(zt::profile::Stack{}).empty());
}

TEST_CASE("ports forward: the nftables table, file and unit are exact", "[checks][ports]") {
  CHECK(zt::checks::render_nft_table(fixture_forwards()) == fx::k_nft_listing);
  CHECK(zt::checks::render_nft_conf(fixture_forwards()) == fx::k_nft_conf_text);
  CHECK(zt::checks::render_forward_unit() == fx::k_unit_text);
  CHECK(zt::checks::render_nft_table({{9993, 19993, "udp"}}) ==
        "table inet ztagent {\n"
        "\tchain prerouting {\n"
        "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
        "\t\tudp dport 9993 redirect to :19993\n"
        "\t}\n"
        "\n"
        "\tchain output {\n"
        "\t\ttype nat hook output priority -100; policy accept;\n"
        "\t\tfib daddr type local udp dport 9993 redirect to :19993\n"
        "\t}\n"
        "}\n");
}

TEST_CASE("ports forward: normalize_nft_listing", "[checks][ports]") {
  CHECK(zt::checks::normalize_nft_listing("table inet ztagent {\n\n  chain output {\n"
                                          "    type nat  hook output priority dstnat; policy accept;\n"
                                          "\t\ttcp dport 80   redirect to :8080\n  }\n}\n") ==
        std::vector<std::string>{"table inet ztagent {", "chain output {",
                                 "type nat hook output priority -100; policy accept;",
                                 "tcp dport 80 redirect to :8080", "}", "}"});
  CHECK(zt::checks::normalize_nft_listing("type nat hook postrouting priority srcnat;") ==
        std::vector<std::string>{"type nat hook postrouting priority 100;"});
}

TEST_CASE("ports forward: evaluate_nft_live", "[checks][ports]") {
  const auto forwards = fixture_forwards();
  auto ok = zt::checks::evaluate_nft_live(nft_ok(fx::k_nft_listing), forwards);
  CHECK(ok.outcome == Outcome::pass);
  CHECK(ok.actual == "2 redirect(s) in prerouting and output");

  auto missing = zt::checks::evaluate_nft_live(
      {.exit_code = 1,
       .out = "",
       .err = "Error: No such file or directory\nlist table inet ztagent\n                 ^^^^^^^\n"},
      forwards);
  CHECK(missing.outcome == Outcome::fail);
  CHECK(missing.actual == "table inet ztagent missing");
  CHECK(missing.fix == "run `ztagent provision` (loads /etc/ztagent/nftables.conf with nft -f)");

  std::string edited = fx::k_nft_listing;
  edited.replace(edited.find(":8443\n\t}"), 5, ":9443");
  auto changed = zt::checks::evaluate_nft_live(nft_ok(edited), forwards);
  CHECK(changed.outcome == Outcome::fail);
  CHECK(changed.actual ==
        "differs: line 5 is 'tcp dport 443 redirect to :9443', expected 'tcp dport 443 redirect to :8443'");

  std::string deleted = fx::k_nft_listing;
  deleted.erase(deleted.find("\t\tfib daddr type local tcp dport 443"),
                std::string_view("\t\tfib daddr type local tcp dport 443 redirect to :8443\n").size());
  auto short_one = zt::checks::evaluate_nft_live(nft_ok(deleted), forwards);
  CHECK(short_one.outcome == Outcome::fail);
  CHECK(short_one.actual ==
        "differs: line 10 is '}', expected 'fib daddr type local tcp dport 443 redirect to :8443'");

  auto broken = zt::checks::evaluate_nft_live(
      {.exit_code = 1, .out = "", .err = "Error: Could not process rule: Operation not permitted\n"}, forwards);
  CHECK(broken.outcome == Outcome::error);
  CHECK(broken.actual ==
        "nft list table inet ztagent failed (exit 1): Error: Could not process rule: Operation not permitted");
}

TEST_CASE("ports forward: firewalld items, argv and what is missing", "[checks][ports]") {
  using Kind = zt::checks::FirewalldItem::Kind;
  auto items = zt::checks::firewalld_items(fixture_forwards());
  REQUIRE(items.size() == 6);
  CHECK(items[0] == zt::checks::FirewalldItem{Kind::forward_port, "port=80:proto=tcp:toport=8080"});
  CHECK(items[1] == zt::checks::FirewalldItem{
                        Kind::direct_rule, "ipv4 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080"});
  CHECK(items[2] == zt::checks::FirewalldItem{
                        Kind::direct_rule, "ipv6 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080"});
  CHECK(zt::checks::firewalld_add_argv(items[0]) ==
        std::vector<std::string>{"firewall-cmd", "--permanent", "--add-forward-port=port=80:proto=tcp:toport=8080"});
  CHECK(zt::checks::firewalld_add_argv(items[1]) ==
        std::vector<std::string>{"firewall-cmd", "--permanent", "--direct", "--add-rule", "ipv4", "nat", "OUTPUT",
                                 "0", "-o", "lo", "-p", "tcp", "--dport", "80", "-j", "REDIRECT", "--to-ports",
                                 "8080"});

  CHECK(zt::checks::missing_firewalld_items(items, {fx::k_fw_ports, fx::k_fw_rules}).empty());
  // Other entries are ignored; a to-addr makes it a different forward.
  auto missing = zt::checks::missing_firewalld_items(
      items, {"port=22:proto=tcp:toport=2222:toaddr=\nport=80:proto=tcp:toport=8080:toaddr=10.0.0.1\n"
              "port=443:proto=tcp:toport=8443\n",
              "ipv4  nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080\n"});
  CHECK(missing == std::vector<zt::checks::FirewalldItem>{items[0], items[2], items[4], items[5]});
}

TEST_CASE("ports forward (nftables): pass on a good tree, fail on each tampered state", "[checks][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: the good state has root-owned files");
  }
  zt::test::TempRoot root;
  write_forward_tree(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto checks = zt::checks::make_ports_checks(fx::forward_config(zt::profile::PortStrategy::forward));
  const auto& persisted = find_check(checks, "ports.forward-persisted");
  const auto& live = find_check(checks, "ports.forward-live");

  auto good = persisted.run(host.view());
  CAPTURE(good.actual);
  CHECK(good.outcome == Outcome::pass);
  CHECK(good.expected == "/etc/ztagent/nftables.conf + ztagent-forward.service enabled");
  CHECK(good.actual == "table with 2 redirect(s), unit enabled");
  auto l = live.run(host.view());
  CHECK(l.outcome == Outcome::skip);
  CHECK(l.actual == "not live: --root " + root.str());

  auto fails_with = [&](const std::string& actual) {
    auto r = persisted.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == actual);
    CHECK(r.fix == "run `ztagent provision`");
  };
  SECTION("table file edited") {
    root.write(fx::k_conf, fx::k_nft_conf_text + "add rule inet ztagent output tcp dport 22 redirect to :2222\n");
    fails_with("/etc/ztagent/nftables.conf content differs");
  }
  SECTION("table file mode") {
    std::filesystem::permissions(root.real(fx::k_conf), std::filesystem::perms(0666));
    fails_with("/etc/ztagent/nftables.conf has mode 0666, owner 0:0");
  }
  SECTION("unit removed") {
    std::filesystem::remove(root.real(fx::k_unit));
    fails_with("/etc/systemd/system/ztagent-forward.service missing");
  }
  SECTION("enablement symlink removed") {
    std::filesystem::remove(root.real(fx::k_link));
    fails_with("/etc/systemd/system/multi-user.target.wants/ztagent-forward.service missing "
               "(ztagent-forward.service not enabled)");
  }
  SECTION("enablement symlink points elsewhere") {
    std::filesystem::remove(root.real(fx::k_link));
    std::filesystem::create_symlink("/dev/null", root.real(fx::k_link));
    fails_with("/etc/systemd/system/multi-user.target.wants/ztagent-forward.service points to /dev/null");
  }
  SECTION("nft not installed") {
    std::filesystem::remove(root.real("/usr/sbin/nft"));
    fails_with("/usr/sbin/nft not found: install nftables or set ports.strategy = \"sysctl\"");
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("ports forward (nftables): forward-live reads nft list on the live host", "[checks][ports]") {
  // Fs("/") makes the view live; forward-live reads nothing from disk, only the (fake) runner.
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  auto checks = zt::checks::make_ports_checks(fx::forward_config(zt::profile::PortStrategy::forward));
  const auto& live = find_check(checks, "ports.forward-live");
  const std::vector<std::string> list = {"nft", "list", "table", "inet", "ztagent"};

  SECTION("equal") {
    runner.on(list, nft_ok(fx::k_nft_listing));
    CHECK(live.run(host.view()).outcome == Outcome::pass);
  }
  SECTION("a live rule deleted") {
    std::string deleted = fx::k_nft_listing;
    deleted.erase(deleted.find("\t\ttcp dport 80 "), std::string_view("\t\ttcp dport 80 redirect to :8080\n").size());
    runner.on(list, nft_ok(deleted));
    auto r = live.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual ==
          "differs: line 4 is 'tcp dport 443 redirect to :8443', expected 'tcp dport 80 redirect to :8080'");
  }
  SECTION("nft cannot start") {
    runner.on_error(list, zt::Error{zt::Errc::io, "nft: not found in PATH"});
    auto r = live.run(host.view());
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "nft: not found in PATH");
  }
  REQUIRE(runner.calls().size() == 1);
  CHECK(runner.calls()[0].effect == zt::host::Effect::read_only);
}

TEST_CASE("ports forward (firewalld): pass when configured, fail on each missing piece", "[checks][ports]") {
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  auto checks =
      zt::checks::make_ports_checks(fx::forward_config(zt::profile::PortStrategy::forward, "firewalld"));
  REQUIRE(checks.size() == 5);
  const auto& persisted = find_check(checks, "ports.forward-persisted");
  const auto& live = find_check(checks, "ports.forward-live");

  std::string perm_ports = fx::k_fw_ports;
  std::string perm_rules = fx::k_fw_rules;
  std::string run_ports = fx::k_fw_ports;
  std::string run_rules = fx::k_fw_rules;
  int state_exit = 0;
  auto script = [&] {
    runner = zt::test::FakeRunner{};
    runner.on({"firewall-cmd", "--state"},
              {.exit_code = state_exit, .out = state_exit != 0 ? "not running\n" : "running\n", .err = ""});
    runner.on({"firewall-cmd", "--permanent", "--list-forward-ports"}, nft_ok(perm_ports));
    runner.on({"firewall-cmd", "--permanent", "--direct", "--get-all-rules"}, nft_ok(perm_rules));
    runner.on({"firewall-cmd", "--list-forward-ports"}, nft_ok(run_ports));
    runner.on({"firewall-cmd", "--direct", "--get-all-rules"}, nft_ok(run_rules));
  };

  SECTION("all present") {
    script();
    auto p = persisted.run(host.view());
    CHECK(p.outcome == Outcome::pass);
    CHECK(p.expected == "permanent forward-ports and direct rules present");
    CHECK(p.actual == "6 item(s) present");
    CHECK(live.run(host.view()).outcome == Outcome::pass);
    CHECK(runner.mutating_calls() == 0);
  }
  SECTION("permanent forward-port removed") {
    perm_ports = "port=443:proto=tcp:toport=8443:toaddr=\n";
    script();
    auto p = persisted.run(host.view());
    CHECK(p.outcome == Outcome::fail);
    CHECK(p.actual == "missing: port=80:proto=tcp:toport=8080");
    CHECK(p.fix == "run `ztagent provision`");
    CHECK(live.run(host.view()).outcome == Outcome::pass);
  }
  SECTION("runtime lo rule deleted") {
    run_rules = "ipv4 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080\n";
    script();
    CHECK(persisted.run(host.view()).outcome == Outcome::pass);
    auto r = live.run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.expected == "runtime forward-ports and direct rules present");
    CHECK(r.actual == "missing: ipv6 nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080, "
                      "ipv4 nat OUTPUT 0 -o lo -p tcp --dport 443 -j REDIRECT --to-ports 8443, "
                      "ipv6 nat OUTPUT 0 -o lo -p tcp --dport 443 -j REDIRECT --to-ports 8443");
    CHECK(r.fix == "run `firewall-cmd --reload` (or `ztagent provision`)");
  }
  SECTION("firewalld not running") {
    state_exit = 252;
    script();
    auto r = persisted.run(host.view());
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "firewalld: not running (firewall-cmd --state exit 252); start it with `systemctl enable "
                      "--now firewalld` or set ports.strategy = \"sysctl\"");
  }
}

TEST_CASE("ports forward (firewalld): skipped under --root", "[checks][ports]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto checks =
      zt::checks::make_ports_checks(fx::forward_config(zt::profile::PortStrategy::forward, "firewalld"));
  auto p = find_check(checks, "ports.forward-persisted").run(host.view());
  CHECK(p.outcome == Outcome::skip);
  CHECK(p.actual == "not live: --root " + root.str() + " (firewalld is read through firewall-cmd on the live host)");
  CHECK(find_check(checks, "ports.forward-live").run(host.view()).outcome == Outcome::skip);
  CHECK(runner.calls().empty());
}
