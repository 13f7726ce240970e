// SPDX-License-Identifier: Apache-2.0
#include "checks/preflight.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"
#include "util/strings.hpp"

#include <cerrno>
#include <filesystem>
#include <map>
#include <sys/xattr.h>
#include <unistd.h>

namespace {

using zt::checks::Outcome;
using zt::checks::PreflightContext;

zt::host::FileStat stat_of(zt::host::FileType type, std::uint32_t mode = 0, std::uint32_t uid = 0) {
  zt::host::FileStat st;
  st.type = type;
  st.mode = mode;
  st.uid = uid;
  return st;
}

zt::host::FileStat device(std::uint32_t major, std::uint32_t minor) {
  auto st = stat_of(zt::host::FileType::char_device, 0666);
  st.rdev_major = major;
  st.rdev_minor = minor;
  return st;
}

/// A security.capability xattr value: magic_etc then (permitted, inheritable) pairs, little endian.
std::string caps_xattr(std::uint32_t magic, std::vector<std::uint32_t> words) {
  std::string out;
  auto put = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  };
  put(magic);
  for (auto w : words) {
    put(w);
  }
  return out;
}

std::map<std::string, std::unique_ptr<zt::checks::Check>>
by_id(std::vector<std::unique_ptr<zt::checks::Check>> v) {
  std::map<std::string, std::unique_ptr<zt::checks::Check>> out;
  for (auto& c : v) {
    std::string id{c->id()};
    out.emplace(std::move(id), std::move(c));
  }
  return out;
}

const std::string k_podman_profile = "# Gives podman a name so it may create user namespaces.\n"
                                     "abi <abi/4.0>,\n"
                                     "include <tunables/global>\n"
                                     "\n"
                                     "profile podman /usr/bin/podman flags=(unconfined) {\n"
                                     "  userns,\n"
                                     "\n"
                                     "  include if exists <local/podman>\n"
                                     "}\n";

} // namespace

TEST_CASE("preflight: evaluate_userns", "[checks][preflight]") {
  auto r = zt::checks::evaluate_userns("15000\n", std::nullopt);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "user.max_user_namespaces = 15000");
  r = zt::checks::evaluate_userns("15000\n", "1\n");
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "user.max_user_namespaces = 15000, kernel.unprivileged_userns_clone = 1");
  r = zt::checks::evaluate_userns("15000\n", "0\n");
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "user.max_user_namespaces = 15000, kernel.unprivileged_userns_clone = 0");
  CHECK(r.fix == "sysctl -w kernel.unprivileged_userns_clone=1 and persist it in /etc/sysctl.d/");
  r = zt::checks::evaluate_userns("0\n", std::nullopt);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "user.max_user_namespaces = 0");
  CHECK(r.fix == "sysctl -w user.max_user_namespaces=15000 and persist it in /etc/sysctl.d/");
  r = zt::checks::evaluate_userns(std::nullopt, std::nullopt);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "/proc/sys/user/max_user_namespaces missing (kernel without user namespaces)");
  r = zt::checks::evaluate_userns("lots\n", std::nullopt);
  CHECK(r.outcome == Outcome::error);
  CHECK(r.actual == "cannot parse /proc/sys/user/max_user_namespaces: 'lots'");
}

TEST_CASE("preflight: apparmor_profile_grants_userns", "[checks][preflight]") {
  CHECK(zt::checks::apparmor_profile_grants_userns(k_podman_profile));
  CHECK(zt::checks::apparmor_profile_grants_userns("/usr/local/bin/podman flags=(unconfined) {\n"
                                                   "  audit allow userns create, # needed\n}\n"));
  CHECK_FALSE(
      zt::checks::apparmor_profile_grants_userns("profile podman /usr/bin/podman {\n  deny userns,\n}\n"));
  CHECK_FALSE(
      zt::checks::apparmor_profile_grants_userns("profile podman /usr/bin/podman {\n  # userns,\n}\n"));
  CHECK_FALSE(zt::checks::apparmor_profile_grants_userns("profile runc /usr/sbin/runc flags=(unconfined) {\n"
                                                         "  userns,\n}\n"));
  CHECK_FALSE(zt::checks::apparmor_profile_grants_userns("profile podman /usr/bin/podman {\n  userns\n}\n"));
  CHECK_FALSE(zt::checks::apparmor_profile_grants_userns(""));
}

TEST_CASE("preflight: evaluate_apparmor_userns", "[checks][preflight]") {
  const std::string fix =
      "add a profile for /usr/bin/podman with a 'userns,' rule in /etc/apparmor.d (Ubuntu's "
      "apparmor package ships /etc/apparmor.d/podman) and reload AppArmor, or set "
      "kernel.apparmor_restrict_unprivileged_userns=0";
  auto r = zt::checks::evaluate_apparmor_userns(std::nullopt, {});
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "kernel.apparmor_restrict_unprivileged_userns absent");
  r = zt::checks::evaluate_apparmor_userns("0\n", {});
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "kernel.apparmor_restrict_unprivileged_userns = 0");
  r = zt::checks::evaluate_apparmor_userns("1\n", {"/etc/apparmor.d/podman"});
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual ==
        "kernel.apparmor_restrict_unprivileged_userns = 1; userns granted by /etc/apparmor.d/podman");
  r = zt::checks::evaluate_apparmor_userns("1\n", {});
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual ==
        "kernel.apparmor_restrict_unprivileged_userns = 1; no AppArmor profile for podman grants userns");
  CHECK(r.fix == fix);
  r = zt::checks::evaluate_apparmor_userns("?\n", {});
  CHECK(r.outcome == Outcome::error);
}

TEST_CASE("preflight: parse_file_caps_permitted", "[checks][preflight]") {
  // Revision 2 with the effective flag, permitted = cap_setuid.
  CHECK(zt::checks::parse_file_caps_permitted(caps_xattr(0x02000001, {1U << 7, 0, 0, 0})) == (1U << 7));
  // Revision 3 (namespaced, with rootid), permitted = cap_setgid | a high cap.
  CHECK(zt::checks::parse_file_caps_permitted(caps_xattr(0x03000001, {1U << 6, 0, 1, 0, 0})) ==
        ((1ULL << 6) | (1ULL << 32)));
  // Revision 1: one 32-bit set.
  CHECK(zt::checks::parse_file_caps_permitted(caps_xattr(0x01000000, {0xC0, 0})) == 0xC0U);
  CHECK_FALSE(zt::checks::parse_file_caps_permitted(caps_xattr(0x02000001, {1, 0})).has_value());
  CHECK_FALSE(zt::checks::parse_file_caps_permitted(caps_xattr(0x04000000, {1, 0, 0, 0})).has_value());
  CHECK_FALSE(zt::checks::parse_file_caps_permitted("ab").has_value());
}

TEST_CASE("preflight: evaluate_idmap_helper", "[checks][preflight]") {
  const std::string path = "/usr/bin/newuidmap";
  const unsigned setuid = zt::checks::k_cap_setuid;
  auto r = zt::checks::evaluate_idmap_helper(path, stat_of(zt::host::FileType::regular, 04755), std::nullopt,
                                             setuid, "apt-get install uidmap");
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == "/usr/bin/newuidmap: setuid root or file capability cap_setuid");
  CHECK(r.actual == "setuid root (mode 4755)");

  r = zt::checks::evaluate_idmap_helper(path, stat_of(zt::host::FileType::regular, 0755),
                                        caps_xattr(0x02000001, {1U << 7, 0, 0, 0}), setuid,
                                        "apt-get install uidmap");
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "file capability cap_setuid");

  r = zt::checks::evaluate_idmap_helper(path, stat_of(zt::host::FileType::regular, 0755),
                                        caps_xattr(0x02000001, {1U << 6, 0, 0, 0}), setuid,
                                        "apt-get install uidmap");
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "file capabilities without cap_setuid");
  CHECK(r.fix == "reinstall it (apt-get install uidmap)");

  r = zt::checks::evaluate_idmap_helper(path, stat_of(zt::host::FileType::regular, 04755, 1000), std::nullopt,
                                        setuid, "apt-get install uidmap");
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "mode 4755, owner uid 1000, no file capabilities");

  r = zt::checks::evaluate_idmap_helper(path, {}, std::nullopt, setuid, "apt-get install uidmap");
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "missing");
  CHECK(r.fix == "apt-get install uidmap");

  r = zt::checks::evaluate_idmap_helper(path, stat_of(zt::host::FileType::regular, 0755), std::string("xx"),
                                        setuid, "apt-get install uidmap");
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "malformed security.capability xattr");
}

TEST_CASE("preflight: evaluate_cgroup_v2", "[checks][preflight]") {
  CHECK(zt::checks::evaluate_cgroup_v2(true, false).outcome == Outcome::pass);
  auto r = zt::checks::evaluate_cgroup_v2(false, true);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "hybrid hierarchy (cgroup v1, cgroup2 only at /sys/fs/cgroup/unified)");
  CHECK(r.fix ==
        "boot with systemd.unified_cgroup_hierarchy=1 (add it to GRUB_CMDLINE_LINUX in /etc/default/grub, "
        "run update-grub, reboot)");
  r = zt::checks::evaluate_cgroup_v2(false, false);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "cgroup v1");
}

TEST_CASE("preflight: evaluate_cgroup_delegation", "[checks][preflight]") {
  const std::string path = "/sys/fs/cgroup/user.slice/user-999.slice/user@999.service/cgroup.controllers";
  auto r = zt::checks::evaluate_cgroup_delegation("cpuset cpu io memory pids\n", path);
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "controllers: cpuset cpu io memory pids");
  r = zt::checks::evaluate_cgroup_delegation("memory pids\n", path);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "controllers: memory pids (missing cpu)");
  r = zt::checks::evaluate_cgroup_delegation("cpuset io\n", path);
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "controllers: cpuset io (missing cpu, memory, pids)");
  r = zt::checks::evaluate_cgroup_delegation("", path);
  CHECK(r.outcome == Outcome::fail);
}

TEST_CASE("preflight: evaluate_tun_device", "[checks][preflight]") {
  auto r = zt::checks::evaluate_tun_device(device(10, 200));
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == "/dev/net/tun: character device 10:200, mode 0666");
  CHECK(r.actual == "character device 10:200, mode 0666");
  r = zt::checks::evaluate_tun_device(device(10, 201));
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "character device 10:201");
  // The right node, but the service user cannot open it (a host that chmod'ed it 0600/0660).
  for (std::uint32_t mode : {0600U, 0660U, 0664U}) {
    auto st = device(10, 200);
    st.mode = mode;
    r = zt::checks::evaluate_tun_device(st);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "character device 10:200, mode " + zt::util::format_mode(mode));
    CHECK(r.fix == "chmod 0666 /dev/net/tun and keep it so with a udev rule: KERNEL==\"tun\", "
                   "MODE=\"0666\" in /etc/udev/rules.d/60-tun.rules");
  }
  r = zt::checks::evaluate_tun_device({});
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "missing");
  CHECK(r.fix == "modprobe tun and add 'tun' to /etc/modules-load.d/tun.conf");
  r = zt::checks::evaluate_tun_device(stat_of(zt::host::FileType::regular, 0644));
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "a regular file");
}

TEST_CASE("preflight: evaluate_free_space and evaluate_root_privileges", "[checks][preflight]") {
  auto r = zt::checks::evaluate_free_space(2048ULL * 1024 * 1024, 1024, "/opt/ztnet-data");
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.expected == ">= 1024 MiB free for /opt/ztnet-data");
  CHECK(r.actual == "2048 MiB available");
  r = zt::checks::evaluate_free_space(1024ULL * 1024 * 1024 - 1, 1024, "/opt/ztnet-data");
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "1023 MiB available");
  CHECK(r.fix ==
        "free space on the filesystem holding /opt/ztnet-data or lower preflight.min_free_mib in the site "
        "config");

  r = zt::checks::evaluate_root_privileges({.euid_root = false, .provisioning = true});
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.fix == "ztagent provision must run as root: sudo ztagent provision");
  CHECK(zt::checks::evaluate_root_privileges({.euid_root = true, .provisioning = true}).outcome ==
        Outcome::pass);
  r = zt::checks::evaluate_root_privileges({.euid_root = false, .provisioning = false});
  CHECK(r.outcome == Outcome::skip);
  CHECK(r.actual == "verify does not need root");
}

TEST_CASE("preflight checks: ids, and live-only checks skip under --root", "[checks][preflight]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  zt::profile::Config config;
  config.profile.package_manager = "apt";
  auto list = zt::checks::make_preflight_checks(config, {.euid_root = true, .provisioning = true});
  std::vector<std::string> ids;
  for (const auto& c : list) {
    ids.emplace_back(c->id());
    CHECK(c->step() == "preflight");
    CHECK_FALSE(c->description().empty());
  }
  CHECK(ids == std::vector<std::string>{"preflight.userns", "preflight.apparmor-userns",
                                        "preflight.newuidmap", "preflight.newgidmap", "preflight.cgroup-v2",
                                        "preflight.cgroup-delegation", "preflight.tun-device",
                                        "preflight.free-space", "preflight.root-privileges"});
  auto checks = by_id(std::move(list));
  const std::string not_live = "not live: --root " + root.str();
  for (std::string id :
       {"preflight.userns", "preflight.cgroup-v2", "preflight.cgroup-delegation", "preflight.tun-device"}) {
    auto r = checks.at(id)->run(host.view());
    CAPTURE(id);
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == not_live);
  }
  auto aa = checks.at("preflight.apparmor-userns")->run(host.view());
  CHECK(aa.outcome == Outcome::skip);
  CHECK(aa.actual == "not an AppArmor-userns profile");
  CHECK(checks.at("preflight.root-privileges")->run(host.view()).outcome == Outcome::pass);
  CHECK(runner.calls().empty());
}

TEST_CASE("preflight checks: AppArmor profile lookup in the tree", "[checks][preflight]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  zt::profile::Config config;
  config.profile.apparmor_userns = true;
  auto checks = by_id(zt::checks::make_preflight_checks(config, {}));
  const auto& check = *checks.at("preflight.apparmor-userns");

  auto r = check.run(host.view());
  CHECK(r.outcome == Outcome::skip);
  CHECK(r.actual == "not live: --root " + root.str());

  root.write("/etc/apparmor.d/podman", k_podman_profile);
  root.write("/etc/apparmor.d/runc", "profile runc /usr/sbin/runc flags=(unconfined) {\n  userns,\n}\n");
  r = check.run(host.view());
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "userns granted by /etc/apparmor.d/podman (kernel setting not read: not live: --root " +
                        root.str() + ")");
}

TEST_CASE("preflight checks: newuidmap/newgidmap pass when setuid root, fail when tampered",
          "[checks][preflight]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root: the good state is a root-owned setuid file");
  }
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  zt::profile::Config config;
  config.profile.package_manager = "apt";
  auto checks = by_id(zt::checks::make_preflight_checks(config, {}));
  const auto& uid = *checks.at("preflight.newuidmap");
  const auto& gid = *checks.at("preflight.newgidmap");

  auto r = uid.run(host.view());
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "missing");
  CHECK(r.fix == "apt-get install uidmap");
  CHECK_FALSE(uid.blocks_provision(host.view(), r)); // missing: the packages step installs uidmap

  for (const char* p : {"/usr/bin/newuidmap", "/usr/bin/newgidmap"}) {
    root.write(p, "binary");
    std::filesystem::permissions(root.real(p), std::filesystem::perms(04755));
  }
  CHECK(uid.run(host.view()).outcome == Outcome::pass);
  CHECK(gid.run(host.view()).outcome == Outcome::pass);

  std::filesystem::permissions(root.real("/usr/bin/newgidmap"), std::filesystem::perms(0755));
  r = gid.run(host.view());
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.actual == "mode 0755, owner uid 0, no file capabilities");
  CHECK(gid.blocks_provision(host.view(), r)); // installed but unusable: provisioning is pointless
  CHECK_FALSE(uid.blocks_provision(host.view(), uid.run(host.view())));

  // File capabilities instead of setuid (Fedora's shadow-utils).
  auto caps = caps_xattr(0x02000001, {1U << 6, 0, 0, 0});
  if (::setxattr(root.real("/usr/bin/newgidmap").c_str(), "security.capability", caps.data(), caps.size(),
                 0) != 0) {
    ZT_SKIP("cannot set security.capability here (errno " << errno << ")");
  }
  r = gid.run(host.view());
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.actual == "file capability cap_setgid");
  CHECK(runner.calls().empty());
}

TEST_CASE("preflight checks: free space under --root", "[checks][preflight]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  zt::profile::Config config;
  config.site.min_free_mib = 1;
  auto r = by_id(zt::checks::make_preflight_checks(config, {})).at("preflight.free-space")->run(host.view());
  CHECK(r.outcome == Outcome::pass);
  CHECK_FALSE(by_id(zt::checks::make_preflight_checks(config, {})).at("preflight.free-space")->blocks_provision(host.view(), r));
  config.site.min_free_mib = 1ULL << 40; // an exbibyte
  auto checks = by_id(zt::checks::make_preflight_checks(config, {}));
  r = checks.at("preflight.free-space")->run(host.view());
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.expected == ">= 1099511627776 MiB free for /opt/ztnet-data");
  CHECK(checks.at("preflight.free-space")->blocks_provision(host.view(), r));
  // Checks that never block: a failing tun device or cgroup does not make provisioning pointless.
  CHECK_FALSE(checks.at("preflight.tun-device")->blocks_provision(host.view(), zt::checks::fail("x", "y", "z")));
  CHECK_FALSE(checks.at("preflight.root-privileges")->blocks_provision(host.view(), zt::checks::fail("x", "y", "z")));
}

TEST_CASE("preflight checks: sanity on this machine (never error)", "[checks][preflight][live]") {
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  zt::profile::Config config;
  config.profile.apparmor_userns = true;
  for (bool provisioning : {false, true}) {
    for (const auto& c : zt::checks::make_preflight_checks(
             config, {.euid_root = ::geteuid() == 0, .provisioning = provisioning})) {
      auto r = c->run(host.view());
      CAPTURE(c->id(), r.expected, r.actual, r.fix);
      CHECK(r.outcome != Outcome::error);
    }
  }
  CHECK(runner.calls().empty());
}
