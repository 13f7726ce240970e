// SPDX-License-Identifier: Apache-2.0
// Root test: ports.strategy = forward with nftables, for real, inside a private network namespace.
// The test process moves itself into a fresh netns (unshare(CLONE_NEWNET)) so `nft` loads the table
// there and never touches the host's ruleset; it moves back and the namespace disappears at the end.
// The files it writes (/etc/ztagent/nftables.conf, the unit and its wants link) are on the real
// filesystem and are removed afterwards; it skips when any of them already exists.
#include "checks/ports.hpp"
#include "host/command_runner.hpp"
#include "host/fs.hpp"
#include "host/host.hpp"
#include "provisioners/ports.hpp"
#include "support/catch.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> k_files = {"/etc/ztagent/nftables.conf", "/etc/systemd/system/ztagent-forward.service",
                                          "/etc/systemd/system/multi-user.target.wants/ztagent-forward.service"};

/// Enters a fresh network namespace; the destructor returns to the original one.
class PrivateNetns {
public:
  PrivateNetns() {
    m_original = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (m_original < 0) {
      m_error = std::string("open /proc/self/ns/net: ") + std::strerror(errno);
      return;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      m_error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      ::close(m_original);
      m_original = -1;
    }
  }
  ~PrivateNetns() {
    if (m_original >= 0) {
      (void)::setns(m_original, CLONE_NEWNET);
      ::close(m_original);
    }
  }
  PrivateNetns(const PrivateNetns&) = delete;
  PrivateNetns& operator=(const PrivateNetns&) = delete;
  [[nodiscard]] const std::string& error() const { return m_error; }

private:
  int m_original = -1;
  std::string m_error;
};

/// Removes the files the test wrote, and the directories only if the test created them.
struct RemoveFiles {
  bool had_etc_ztagent = fs::exists("/etc/ztagent");
  bool had_wants = fs::exists("/etc/systemd/system/multi-user.target.wants");
  ~RemoveFiles() {
    for (const auto& f : k_files) {
      std::error_code ec;
      fs::remove(f, ec);
    }
    std::error_code ec;
    if (!had_etc_ztagent) {
      fs::remove("/etc/ztagent", ec);
    }
    if (!had_wants) {
      fs::remove("/etc/systemd/system/multi-user.target.wants", ec);
    }
  }
};

zt::host::CommandResult run(std::vector<std::string> argv, zt::host::Effect effect = zt::host::Effect::read_only) {
  zt::host::RealCommandRunner runner(zt::host::RunnerPolicy{true, true, false});
  zt::host::Command c;
  c.argv = std::move(argv);
  c.effect = effect;
  auto r = runner.run(c);
  REQUIRE(r);
  return *r;
}

/// Whether a TCP connection to 127.0.0.1:port succeeds (the output chain's redirect applies to it).
bool connects(std::uint16_t port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(s >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(s);
  return ok;
}

} // namespace

TEST_CASE("root: ports forward loads table inet ztagent into a private netns, converges, repairs",
          "[root][ports]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root");
  }
  if (!fs::exists("/usr/sbin/nft")) {
    ZT_SKIP("nftables is not installed (/usr/sbin/nft)");
  }
  for (const auto& f : k_files) {
    if (fs::exists(fs::symlink_status(f))) {
      ZT_SKIP(f + " already exists: not clobbering a real configuration");
    }
  }
  PrivateNetns netns;
  if (!netns.error().empty()) {
    ZT_SKIP("no private network namespace: " + netns.error());
  }
  RemoveFiles cleanup;
  REQUIRE(run({"ip", "link", "set", "lo", "up"}, zt::host::Effect::mutating).exit_code == 0);

  zt::profile::Config config;
  config.site.port_strategy = zt::profile::PortStrategy::forward;
  config.site.sysctl_file = "/etc/sysctl.d/61-ztagent-root-test-absent.conf"; // never the real one
  config.profile.firewall = "nftables";
  config.stack.ports = {{.name = "http", .port = 80, .container = 80, .protocol = "tcp", .forward_to = 8080},
                        {.name = "https", .port = 443, .container = 443, .protocol = "tcp", .forward_to = 8443},
                        {.name = "zerotier", .port = 9993, .container = 9993, .protocol = "udp", .forward_to = 0}};

  zt::host::RealCommandRunner runner(zt::host::RunnerPolicy{true, true, false});
  zt::host::Host host(zt::host::Fs("/"), runner);
  auto step = zt::provisioners::make_ports_step(config, {});
  REQUIRE(step.checks.size() == 5);
  const auto& persisted = *step.checks[3];
  const auto& live = *step.checks[4];

  // The fresh namespace has no table: plan says so (nft list ran for real).
  auto plan = step.provisioner->plan(host.view());
  REQUIRE(plan);
  REQUIRE(plan->changes.size() == 4);
  CHECK(plan->changes[3].summary == "load /etc/ztagent/nftables.conf with nft -f (live table missing)");
  REQUIRE(step.provisioner->apply(host, *plan));
  auto again = step.provisioner->plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());

  auto listed = run({"nft", "list", "table", "inet", "ztagent"});
  CHECK(listed.out == zt::checks::render_nft_table(zt::checks::port_forwards(config.stack)));
  CHECK(persisted.run(host.view()).outcome == zt::checks::Outcome::pass);
  CHECK(live.run(host.view()).outcome == zt::checks::Outcome::pass);

  // The file is re-runnable: loading it again replaces the table (no duplicate rules).
  REQUIRE(run({"nft", "-f", "/etc/ztagent/nftables.conf"}, zt::host::Effect::mutating).exit_code == 0);
  CHECK(run({"nft", "list", "table", "inet", "ztagent"}).out == listed.out);

  // Locally generated traffic: a listener on 8080 answers a connection to 127.0.0.1:80.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(8080);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  CHECK(connects(80));
  CHECK_FALSE(connects(81));
  ::close(listener);

  // Tamper with the live table: the check fails, plan wants to reload, apply repairs.
  REQUIRE(run({"nft", "flush", "chain", "inet", "ztagent", "output"}, zt::host::Effect::mutating).exit_code == 0);
  auto tampered = live.run(host.view());
  CHECK(tampered.outcome == zt::checks::Outcome::fail);
  CHECK(tampered.actual ==
        "differs: line 9 is '}', expected 'fib daddr type local tcp dport 80 redirect to :8080'");
  CHECK(persisted.run(host.view()).outcome == zt::checks::Outcome::pass);
  auto repair = step.provisioner->plan(host.view());
  REQUIRE(repair);
  REQUIRE(repair->changes.size() == 1);
  CHECK(repair->changes[0].summary == "load /etc/ztagent/nftables.conf with nft -f (live table differs)");
  REQUIRE(step.provisioner->apply(host, *repair));
  CHECK(live.run(host.view()).outcome == zt::checks::Outcome::pass);

  // Remove the enablement link: persisted fails on its own.
  fs::remove(k_files[2]);
  auto unlinked = persisted.run(host.view());
  CHECK(unlinked.outcome == zt::checks::Outcome::fail);
  CHECK(live.run(host.view()).outcome == zt::checks::Outcome::pass);

  // Other tables are never touched: one created beside ours survives a reload.
  REQUIRE(run({"nft", "add", "table", "inet", "someone_else"}, zt::host::Effect::mutating).exit_code == 0);
  REQUIRE(run({"nft", "-f", "/etc/ztagent/nftables.conf"}, zt::host::Effect::mutating).exit_code == 0);
  CHECK(run({"nft", "list", "table", "inet", "someone_else"}).exit_code == 0);
}
