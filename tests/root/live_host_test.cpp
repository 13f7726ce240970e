// SPDX-License-Identifier: Apache-2.0
// Root tests: the built binary on the REAL host (root "/"): a throwaway user, real /etc/subuid,
// real ACLs under /var/tmp, the real linger directory and the real sysctl. Everything is put back
// afterwards. Built only with -DZTAGENT_BUILD_ROOT_TESTS=ON; run only in a throwaway VM/container.
#include "host/command_runner.hpp"
#include "host/fs.hpp"
#include "integration/support.hpp"
#include "util/strings.hpp"

#include <unistd.h>

using zt::test::run_agent;

namespace {

std::string read_or_empty(const std::string& path) {
  zt::host::Fs fs("/");
  auto t = fs.read_file(path);
  return t ? *t : std::string();
}

int run(std::vector<std::string> argv) {
  zt::host::RealCommandRunner runner(zt::host::RunnerPolicy{true, true, false});
  zt::host::Command c;
  c.argv = std::move(argv);
  c.effect = zt::host::Effect::mutating;
  auto r = runner.run(c);
  return r ? r->exit_code : -1;
}

/// Removes the throwaway user, its subid lines, linger file and data tree, whatever happened.
struct UserCleanup {
  std::string user, data_root, subuid_before, subgid_before;
  ~UserCleanup() {
    run({"userdel", "--remove", user});
    zt::host::Fs fs("/");
    (void)fs.write_file("/etc/subuid", subuid_before, {});
    (void)fs.write_file("/etc/subgid", subgid_before, {});
    (void)fs.remove_file("/var/lib/systemd/linger/" + user);
    std::error_code ec;
    std::filesystem::remove_all(data_root, ec);
  }
};

} // namespace

TEST_CASE("root: provision user, subids, data and linger on the live host, then verify", "[root][live]") {
  auto user = "ztroot" + std::to_string(::getpid() % 100000);
  auto data_root = "/var/tmp/ztagent-root-test-" + std::to_string(::getpid()) + "/data";
  std::filesystem::create_directories(std::filesystem::path(data_root).parent_path());
  UserCleanup cleanup{user, std::filesystem::path(data_root).parent_path().string(), read_or_empty("/etc/subuid"),
                      read_or_empty("/etc/subgid")};
  std::vector<std::string> common = {"--profile", "debian-12", "--only", "user,subids,data,linger",
                                     "--set", "service.user=" + user, "--set", "service.data_root=" + data_root,
                                     "--format", "json"};
  auto args = [&](std::string verb) {
    std::vector<std::string> a = {std::move(verb)};
    a.insert(a.end(), common.begin(), common.end());
    return a;
  };

  auto first = run_agent(args("provision"));
  INFO(first.out);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(read_or_empty("/etc/subuid").find(user + ":") != std::string::npos);
  CHECK(std::filesystem::exists("/var/lib/systemd/linger/" + user));

  // Real ACLs on the real filesystem: the mapped postgres UID has a default entry, mode reads 0750.
  zt::host::Fs fs("/");
  auto st = fs.lstat(data_root + "/postgres-data");
  REQUIRE(st);
  CHECK(st->mode == 0750);
  auto def = fs.read_acl(data_root + "/postgres-data", zt::host::AclType::default_acl);
  REQUIRE(def);
  CHECK(def->entries.size() >= 6);

  auto second = run_agent(args("provision"));
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("\"changed\":0,") != std::string::npos);
  CHECK(second.err.find("run: ") == std::string::npos);

  auto verify = run_agent(args("verify"));
  INFO(verify.out);
  CHECK(verify.exit_code == 0);

  // Drift on the live host: chmod a data dir; verify fails exactly that check, provision repairs.
  std::filesystem::permissions(data_root + "/caddy_data", static_cast<std::filesystem::perms>(0777));
  auto drift = run_agent(args("verify"));
  CHECK(drift.exit_code == 1);
  CHECK(zt::test::check_ids_with(drift.out, "fail") == std::vector<std::string>{"data.caddy_data.mode"});
  CHECK(run_agent(args("provision")).exit_code == 0);
  CHECK(run_agent(args("verify")).exit_code == 0);
}

TEST_CASE("root: ports via the real sysctl, persisted and live, restored afterwards", "[root][live]") {
  const std::string proc = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
  const std::string file = "/etc/sysctl.d/60-ztagent.conf";
  auto before_live = zt::util::trim(read_or_empty(proc));
  REQUIRE_FALSE(before_live.empty());
  std::string before_file = read_or_empty(file);
  bool had_file = std::filesystem::exists(file);
  struct Restore {
    std::string live, file_path, file_text;
    bool had;
    ~Restore() {
      run({"sysctl", "-w", "net.ipv4.ip_unprivileged_port_start=" + live});
      zt::host::Fs fs("/");
      if (had) {
        (void)fs.write_file(file_path, file_text, {});
      } else {
        (void)fs.remove_file(file_path);
      }
    }
  } restore{std::string(before_live), file, before_file, had_file};

  run({"sysctl", "-w", "net.ipv4.ip_unprivileged_port_start=1024"});
  std::vector<std::string> only = {"--profile", "debian-12", "--only", "ports", "--format", "json"};
  auto a = [&](std::string verb) {
    std::vector<std::string> v = {std::move(verb)};
    v.insert(v.end(), only.begin(), only.end());
    return v;
  };
  auto drift = run_agent(a("verify"));
  CHECK(drift.exit_code == 1);
  auto fails = zt::test::check_ids_with(drift.out, "fail");
  CHECK(std::find(fails.begin(), fails.end(), "ports.sysctl-live") != fails.end());

  auto p = run_agent(a("provision"));
  INFO(p.err);
  CHECK(p.exit_code == 0);
  CHECK(zt::util::trim(read_or_empty(proc)) == "80");
  CHECK(read_or_empty(file).find("net.ipv4.ip_unprivileged_port_start = 80") != std::string::npos);
  auto again = run_agent(a("provision"));
  CHECK(again.out.find("\"changed\":0,") != std::string::npos);
  CHECK(run_agent(a("verify")).exit_code == 0);
}

TEST_CASE("root: schedule install on the live host runs this binary (cron without systemd)", "[root][live]") {
  if (std::filesystem::exists("/run/systemd/system")) {
    ZT_SKIP("systemd runs here: the live schedule would be a timer (the e2e scenario drift proves it)");
  }
  const std::string cron = "/etc/cron.d/ztagent";
  REQUIRE_FALSE(std::filesystem::exists(cron));  // never overwrite a real schedule
  const bool had_dir = std::filesystem::exists("/etc/cron.d");
  struct Cleanup {
    std::string path;
    bool had_dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
      if (!had_dir) {
        std::filesystem::remove("/etc/cron.d", ec);
      }
    }
  } cleanup{cron, had_dir};

  auto install = run_agent({"schedule", "install", "--profile", "debian-12", "--every", "5m"});
  INFO(install.err);
  REQUIRE(install.exit_code == 0);
  CHECK(install.out == "wrote /etc/cron.d/ztagent\nschedule: cron job /etc/cron.d/ztagent installed\n");
  const std::string text = read_or_empty(cron);
  const std::string self = std::filesystem::canonical(ZT_AGENT_BINARY).string();
  if (self.rfind("/usr/", 0) != 0) {  // a build tree: the schedule works, but says it is fragile
    CHECK(install.err.find("ztagent: warning: the schedule runs " + self + ", which is not under /usr or /opt") !=
          std::string::npos);
  }
  CHECK(text.find("*/5 * * * * root sleep ") != std::string::npos);
  CHECK(text.find("; " + self + " verify --log-target syslog --profile debian-12 >/dev/null || [ $? -eq 75 ]\n") !=
        std::string::npos);
  auto remove = run_agent({"schedule", "remove"});
  CHECK(remove.exit_code == 0);
  CHECK(remove.out == "removed /etc/cron.d/ztagent\nschedule: removed\n");
  CHECK_FALSE(std::filesystem::exists(cron));
}
