// SPDX-License-Identifier: Apache-2.0
// Integration tests: the built binary against --root image trees. Real useradd/usermod --prefix,
// real ACLs and files; nothing outside the tree is touched (the live-host tests are in tests/root/).
#include "integration/support.hpp"

#include "host/fs.hpp"
#include "report/report.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

using zt::test::AgentRun;
using zt::test::base_args;
using zt::test::check_ids_with;
using zt::test::is_root;
using zt::test::run_agent;
using zt::test::TempRoot;
using zt::test::with;

namespace {

std::string summary_steps(const std::string& json) {
  auto pos = json.find("\"summary\":");
  REQUIRE(pos != std::string::npos);
  return json.substr(pos);
}

} // namespace

TEST_CASE("cli: --help, --version, profiles", "[integration][cli]") {
  auto help = run_agent({"--help"});
  CHECK(help.exit_code == 0);
  for (const char* opt : {"--profile", "--config", "--set", "--root", "--only", "--skip", "--keep-going", "--format",
                          "--output", "--retry-timeout", "--dry-run", "--allow-host-commands", "-v", "-q"}) {
    INFO(opt);
    CHECK(help.out.find(opt) != std::string::npos);
  }
  auto version = run_agent({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("ztagent ", 0) == 0);
  auto profiles = run_agent({"profiles"});
  CHECK(profiles.exit_code == 0);
  for (const char* p : {"debian-12", "debian-13", "ubuntu-24.04"}) {
    CHECK(profiles.out.find(p) != std::string::npos);
  }
}

TEST_CASE("cli: usage errors exit 64 and name the problem", "[integration][cli]") {
  auto r = run_agent({"verify", "--bogus"});
  CHECK(r.exit_code == 64);
  CHECK(r.err == "ztagent: error: unknown option '--bogus'\nTry 'ztagent --help'.\n");
  CHECK(r.out.empty());
  auto nodir = run_agent({"verify", "--root", "/nonexistent/ztagent-tree"});
  CHECK(nodir.exit_code == 64);
  CHECK(nodir.err == "ztagent: error: --root /nonexistent/ztagent-tree: not a directory\nTry 'ztagent --help'.\n");
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto only = run_agent({"plan", "--profile", "debian-12", "--root", root.str(), "--only", "usres"});
  CHECK(only.exit_code == 64);
  CHECK(only.err.find("unknown step 'usres' in --only") != std::string::npos);
}

TEST_CASE("cli: an empty --only or --skip (an unset shell variable) is a usage error, not every step",
          "[integration][cli]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  for (const char* opt : {"--only", "--skip"}) {
    for (const char* value : {"", " ", ",", " , "}) {
      INFO(opt << " '" << value << "'");
      auto r = run_agent({"plan", "--profile", "debian-12", "--root", root.str(), opt, value});
      CHECK(r.exit_code == 64);
      CHECK(r.err == std::string("ztagent: error: ") + opt + " needs at least one step name (e.g. " + opt +
                         " user,subids; `ztagent list` shows them), got '" + value +
                         "'\nTry 'ztagent --help'.\n");
      CHECK(r.out.empty());
    }
  }
  // The --opt=value spelling too.
  auto eq = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--only="});
  CHECK(eq.exit_code == 64);
  CHECK(eq.err.find("--only needs at least one step name") != std::string::npos);
}

TEST_CASE("cli: provision into a --root tree converges, the second run changes nothing", "[integration][cli]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto user = "ztit" + std::to_string(::getpid() % 100000);
  auto set_user = "service.user=" + user;

  auto plan = run_agent(with(base_args("plan", root), {"--set", set_user}));
  INFO(plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find("\"status\":\"would_change\"") != std::string::npos);
  CHECK(root.read("/etc/passwd").find(user) == std::string::npos);  // plan changed nothing

  auto first = run_agent(with(base_args("provision", root), {"--set", set_user}));
  INFO(first.out);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(check_ids_with(first.out, "fail").empty());
  CHECK(check_ids_with(first.out, "error").empty());
  CHECK(root.read("/etc/passwd").find(user + ":") != std::string::npos);
  CHECK(root.read("/etc/subuid").find(user + ":") != std::string::npos);
  CHECK(root.exists("/var/lib/systemd/linger/" + user));
  CHECK(root.read("/etc/sysctl.d/60-ztagent.conf").find("net.ipv4.ip_unprivileged_port_start = 80") !=
        std::string::npos);
  // Nothing outside the tree: the live host has no such user.
  zt::host::Fs live("/");
  auto passwd = live.read_file("/etc/passwd");
  REQUIRE(passwd);
  CHECK(passwd->find(user + ":") == std::string::npos);

  auto before = zt::test::snapshot(root);
  auto second = run_agent(with(base_args("provision", root), {"--set", set_user}));
  INFO(second.err);
  CHECK(second.exit_code == 0);
  CHECK(summary_steps(second.out).find("\"changed\":0,") != std::string::npos);
  CHECK(second.err.find("run: ") == std::string::npos);  // no mutating command ran
  CHECK(zt::test::snapshot(root) == before);

  auto junit = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--set", set_user, "--format",
                          "junit"});
  CHECK(junit.exit_code == 0);
  CHECK(junit.out.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0) == 0);
  CHECK(junit.out.find("<failure") == std::string::npos);
  CHECK(junit.out.find("classname=\"ztagent.data\"") != std::string::npos);
}

TEST_CASE("cli: tampering with a postcondition fails exactly that check, provision repairs it",
          "[integration][cli]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto user = "ztiu" + std::to_string(::getpid() % 100000);
  auto set_user = "service.user=" + user;
  REQUIRE(run_agent(with(base_args("provision", root), {"--set", set_user})).exit_code == 0);

  struct Tamper {
    std::string check;
    std::function<void()> act;
  };
  const std::vector<Tamper> tampers = {
      {"data.zerotier.mode",
       [&] {
         std::filesystem::permissions(root.real("/opt/ztnet-data/zerotier"), static_cast<std::filesystem::perms>(0755));
       }},
      {"data.postgres-data.default-acl",
       [&] {
         // Drop the default entry of the mapped postgres UID (the highest named uid), only that.
         zt::host::Fs fs(root.path());
         auto acl = fs.read_acl("/opt/ztnet-data/postgres-data", zt::host::AclType::default_acl);
         REQUIRE(acl);
         auto& e = acl->entries;
         auto it = std::max_element(e.begin(), e.end(), [](const auto& a, const auto& b) {
           return (a.tag == zt::host::AclEntry::Tag::user ? a.id : 0) < (b.tag == zt::host::AclEntry::Tag::user ? b.id : 0);
         });
         REQUIRE(it != e.end());
         REQUIRE(it->tag == zt::host::AclEntry::Tag::user);
         e.erase(it);
         REQUIRE(fs.set_acl("/opt/ztnet-data/postgres-data", zt::host::AclType::default_acl, *acl));
       }},
      {"linger.enabled", [&] { std::filesystem::remove(root.real("/var/lib/systemd/linger/" + user)); }},
      {"subids.subuid-range",
       [&] {
         // The user's line disappears from /etc/subuid (the subgid range stays).
         root.write("/etc/subuid", "");
       }},
      {"ports.sysctl-persisted",
       [&] { root.write("/etc/sysctl.d/60-ztagent.conf", "net.ipv4.ip_unprivileged_port_start = 1024\n"); }},
  };
  for (const auto& t : tampers) {
    INFO("tamper: " << t.check);
    t.act();
    auto v = run_agent(with(base_args("verify", root), {"--set", set_user}));
    CHECK(v.exit_code == 1);
    auto failed = check_ids_with(v.out, "fail");
    auto errored = check_ids_with(v.out, "error");
    CHECK(errored.empty());
    CHECK(failed == std::vector<std::string>{t.check});
    auto repair = run_agent(with(base_args("provision", root), {"--set", set_user}));
    INFO(repair.err);
    CHECK(repair.exit_code == 0);
    auto again = run_agent(with(base_args("verify", root), {"--set", set_user}));
    CHECK(again.exit_code == 0);
  }
}

TEST_CASE("cli: malformed site configs exit 78 with every error located, nothing changes", "[integration][cli]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  struct Case {
    std::string config;
    std::vector<std::string> must_contain;  // each a full "file:line:col: message" suffix after the path
  };
  const std::vector<Case> cases = {
      {"[service]\nusr = \"ztnet\"\n", {":2:1: "}},
      {"[service]\nuser = 7\ndata_root = \"opt/data\"\n", {":2:", ":3:"}},
      {"[service]\nuser = \"Bad User\"\n[ports]\nstrategy = \"teleport\"\nunprivileged_port_start = 70000\n",
       {":2:", ":4:", ":5:"}},
      {"[service]\ndata_root = \"/opt/../etc\"\n", {":2:"}},
      {"[service\nuser = \"x\"\n", {":1:"}},
  };
  for (const auto& c : cases) {
    INFO(c.config);
    root.write("/etc/ztagent/ztagent.toml", c.config);
    auto before = zt::test::snapshot(root);
    auto r = run_agent({"provision", "--profile", "debian-12", "--root", root.str()});
    CHECK(r.exit_code == 78);
    CHECK(r.out.empty());
    auto path = root.real("/etc/ztagent/ztagent.toml").string();
    for (const auto& frag : c.must_contain) {
      CHECK(r.err.find(path + frag) != std::string::npos);
    }
    std::size_t lines = std::count(r.err.begin(), r.err.end(), '\n');
    CHECK(lines == c.must_contain.size() + 1);  // one per error + the closing line
    CHECK(r.err.find("nothing was changed") != std::string::npos);
    CHECK(zt::test::snapshot(root) == before);
  }
  std::filesystem::remove(root.real("/etc/ztagent/ztagent.toml"));
  auto bad_set = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--set", "service.nope=1"});
  CHECK(bad_set.exit_code == 78);
  CHECK(bad_set.err == "--set:1:1: unknown key 'service.nope' (did you mean 'service.home'?)\n"
                       "ztagent: error: 1 configuration error; nothing was changed\n");
}

TEST_CASE("cli: a symlink planted in the data tree is never followed", "[integration][cli]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto user = "ztis" + std::to_string(::getpid() % 100000);
  auto set_user = "service.user=" + user;
  TempRoot outside;  // stands for /etc or any directory an attacker wants root to chmod
  outside.mkdir("/victim");
  std::filesystem::permissions(outside.real("/victim"), static_cast<std::filesystem::perms>(0700));
  root.mkdir("/opt/ztnet-data");
  std::filesystem::create_directory_symlink(outside.real("/victim"), root.real("/opt/ztnet-data/zerotier"));

  auto r = run_agent(with(base_args("provision", root), {"--set", set_user, "--keep-going"}));
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("is a symlink") != std::string::npos);
  auto st = std::filesystem::status(outside.real("/victim"));
  CHECK(st.permissions() == static_cast<std::filesystem::perms>(0700));
  struct stat sb {};
  REQUIRE(::stat(outside.real("/victim").c_str(), &sb) == 0);
  CHECK(sb.st_uid == 0);
  zt::host::Fs fs(outside.path());
  auto acl = fs.read_acl("/victim", zt::host::AclType::default_acl);
  REQUIRE(acl);
  CHECK(acl->empty());
  CHECK(std::filesystem::is_symlink(root.real("/opt/ztnet-data/zerotier")));
  auto v = run_agent(with(base_args("verify", root), {"--set", set_user}));
  CHECK(v.exit_code == 1);
  auto failed = check_ids_with(v.out, "fail");
  CHECK(std::find(failed.begin(), failed.end(), "data.no-symlinks") != failed.end());
}

TEST_CASE("cli: --output writes the report atomically, logs never enter it", "[integration][cli]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto out = root.real("/report.xml").string();
  auto r = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--format", "junit", "--output", out,
                      "-v"});
  CHECK(r.out.empty());
  auto xml = root.read("/report.xml");
  CHECK(xml.rfind("<?xml", 0) == 0);
  CHECK(xml.find("ztagent: ") == std::string::npos);
  CHECK(xml.find("</testsuites>") != std::string::npos);
  auto missing = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--output", "/nonexistent/dir/r.xml"});
  CHECK(missing.exit_code == 64);
}

TEST_CASE("cli: several reporters in one run, Prometheus keeps the last success", "[integration][cli]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto user = "ztir" + std::to_string(::getpid() % 100000);
  auto set_user = "service.user=" + user;
  REQUIRE(run_agent(with(base_args("provision", root), {"--set", set_user})).exit_code == 0);
  auto prom = root.real("/ztagent.prom").string();
  auto xml = root.real("/r.xml").string();
  auto ok = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--set", set_user, "--format", "text",
                       "--report", "prometheus:" + prom, "--report", "junit:" + xml});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("passed, 0 failed") != std::string::npos);
  CHECK(root.read("/r.xml").find("</testsuites>") != std::string::npos);
  auto first = zt::report::parse_last_success(root.read("/ztagent.prom"));
  REQUIRE(first);
  CHECK(root.read("/ztagent.prom").find("ztagent_check_outcome{check=\"data.zerotier.mode\",step=\"data\",outcome=\"pass\"} 1") !=
        std::string::npos);

  std::filesystem::permissions(root.real("/opt/ztnet-data/zerotier"), static_cast<std::filesystem::perms>(0700));
  auto bad = run_agent({"verify", "--profile", "debian-12", "--root", root.str(), "--set", set_user, "--format",
                        "nagios", "--report", "prometheus:" + prom});
  CHECK(bad.exit_code == 2);  // Nagios CRITICAL
  CHECK(bad.out.rfind("ZTAGENT CRITICAL - 1 of ", 0) == 0);
  CHECK(bad.out.find("data.zerotier.mode") != std::string::npos);
  auto text = root.read("/ztagent.prom");
  CHECK(zt::report::parse_last_success(text) == first);  // a failing run keeps the previous value
  CHECK(text.find("ztagent_check_outcome{check=\"data.zerotier.mode\",step=\"data\",outcome=\"fail\"} 1") !=
        std::string::npos);
}

TEST_CASE("cli: drift names a tampered file, verify --remediate repairs only that step", "[integration][cli][drift]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto user = "ztdr" + std::to_string(::getpid() % 100000);
  auto set_user = "service.user=" + user;

  // No provision yet: drift has nothing to compare with.
  auto none = run_agent({"drift", "--profile", "debian-12", "--root", root.str(), "--set", set_user});
  CHECK(none.exit_code == 66);
  CHECK(none.err == "ztagent: error: no provision recorded in " + root.str() +
                        "/var/lib/ztagent/state.json: run `ztagent provision` first\n");

  REQUIRE(run_agent(with(base_args("provision", root), {"--set", set_user})).exit_code == 0);
  REQUIRE(root.exists("/var/lib/ztagent/state.json"));
  struct stat st {};
  REQUIRE(::stat(root.real("/var/lib/ztagent/state.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == 0);
  const std::string state = root.read("/var/lib/ztagent/state.json");
  CHECK(state.find("\"path\":\"/etc/subuid\"") != std::string::npos);
  CHECK(state.find("\"path\":\"/opt/ztnet-data/postgres-data\"") != std::string::npos);
  CHECK(state.find("\"path\":\"/var/lib/systemd/linger/" + user + "\"") != std::string::npos);
  CHECK(state.find("\"path\":\"/etc/sysctl.d/60-ztagent.conf\"") != std::string::npos);
  // Digests, never contents: no file's text appears (the subids Change summary names the range).
  const std::string subuid_text = zt::report::json_quote(root.read("/etc/subuid"));
  CHECK(state.find(subuid_text.substr(1, subuid_text.size() - 2)) == std::string::npos);
  const std::string sysctl_text = zt::report::json_quote(root.read("/etc/sysctl.d/60-ztagent.conf"));
  CHECK(state.find(sysctl_text.substr(1, sysctl_text.size() - 2)) == std::string::npos);

  // A second provision changes nothing, the state file included.
  REQUIRE(run_agent(with(base_args("provision", root), {"--set", set_user})).exit_code == 0);
  CHECK(root.read("/var/lib/ztagent/state.json") == state);

  auto clean = run_agent(with(base_args("drift", root), {"--set", set_user}));
  INFO(clean.err);
  CHECK(clean.exit_code == 0);
  CHECK(check_ids_with(clean.out, "fail").empty());
  CHECK(clean.out.find("\"command\":\"drift\"") != std::string::npos);

  // Tamper: the user's subuid line disappears, and the default ACL of postgres-data loses an entry... only
  // the first here; the subids step must be the only one re-run.
  const std::string subuid = root.read("/etc/subuid");
  root.write("/etc/subuid", "");
  auto drift = run_agent({"drift", "--profile", "debian-12", "--root", root.str(), "--set", set_user});
  CHECK(drift.exit_code == 1);
  auto pos = state.find("\"provisioned_at\":\"");
  REQUIRE(pos != std::string::npos);
  const std::string when = state.substr(pos + 18, 20);
  CHECK(drift.err.find("ztagent: warning: /etc/subuid: content changed since the provision of " + when + "\n") !=
        std::string::npos);
  CHECK(drift.out.find("FAIL  drift:/etc/subuid: expected as recorded by the provision of " + when +
                       ", got content changed") != std::string::npos);
  CHECK(drift.out.find("subids.subuid-range") != std::string::npos);
  auto drift_json = run_agent(with(base_args("drift", root), {"--set", set_user}));
  CHECK(check_ids_with(drift_json.out, "fail") == std::vector<std::string>{"subids.subuid-range", "drift:/etc/subuid"});

  const std::string data_before = root.read("/etc/sysctl.d/60-ztagent.conf");
  auto fixed = run_agent(with(base_args("verify", root), {"--set", set_user, "--remediate"}));
  INFO(fixed.out);
  INFO(fixed.err);
  CHECK(fixed.exit_code == 0);
  CHECK(check_ids_with(fixed.out, "fail").empty());
  // Only subids ran, and it changed /etc/subuid.
  CHECK(fixed.out.find("\"steps\":[{\"id\":\"subids\",\"status\":\"changed\"") != std::string::npos);
  CHECK(fixed.out.find("{\"id\":\"data\",\"status\"") == std::string::npos);
  CHECK(fixed.out.find("{\"id\":\"users\",\"status\"") == std::string::npos);
  CHECK(fixed.err.find("remediate: re-running subids\n") != std::string::npos);
  CHECK(root.read("/etc/subuid") == subuid);
  CHECK(root.read("/etc/sysctl.d/60-ztagent.conf") == data_before);

  auto after = run_agent(with(base_args("drift", root), {"--set", set_user}));
  INFO(after.err);
  CHECK(after.exit_code == 0);
  CHECK(check_ids_with(after.out, "fail").empty());

  // drift --remediate repairs a chmod on a data dir the same way (data only).
  std::filesystem::permissions(root.real("/opt/ztnet-data/zerotier"), static_cast<std::filesystem::perms>(0755));
  auto chmod = run_agent({"drift", "--profile", "debian-12", "--root", root.str(), "--set", set_user});
  CHECK(chmod.exit_code == 1);
  CHECK(chmod.err.find("/opt/ztnet-data/zerotier: mode 0750 -> 0755 since the provision of") != std::string::npos);
  auto chmod_fixed = run_agent(with(base_args("drift", root), {"--set", set_user, "--remediate"}));
  INFO(chmod_fixed.err);
  CHECK(chmod_fixed.exit_code == 0);
  CHECK(chmod_fixed.out.find("\"steps\":[{\"id\":\"data\",\"status\":\"changed\"") != std::string::npos);
}

TEST_CASE("cli: schedule install/remove writes exactly its files, idempotently", "[integration][cli][schedule]") {
  if (!is_root()) {
    ZT_SKIP("needs root (files owned by root)");
  }
  SECTION("cron where the tree has no systemd") {
    TempRoot root;
    zt::test::make_debian12_tree(root);
    root.write("/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    root.write("/usr/bin/ztagent", "");  // the package is installed in the image
    root.write("/run/ztagent.lock", ""); // the run lock lives in the tree (ROOT/run/ztagent.lock)
    const auto before = zt::test::snapshot(root);
    auto install = run_agent({"schedule", "install", "--profile", "debian-12", "--root", root.str(), "--every", "30m"});
    INFO(install.err);
    CHECK(install.exit_code == 0);
    CHECK(install.err.find("warning") == std::string::npos);
    CHECK(install.out == "wrote /etc/cron.d/ztagent\nschedule: cron job /etc/cron.d/ztagent installed\n");
    const std::string cron = root.read("/etc/cron.d/ztagent");
    CHECK(cron.rfind("# Managed by ztagent (ztagent schedule install)", 0) == 0);
    CHECK(cron.find("*/30 * * * * root sleep ") != std::string::npos);
    CHECK(cron.find("; /usr/bin/ztagent verify --log-target syslog --profile debian-12 >/dev/null || [ $? -eq 75 ]\n") !=
          std::string::npos);
    auto again = run_agent({"schedule", "install", "--profile", "debian-12", "--root", root.str(), "--every", "30m"});
    CHECK(again.exit_code == 0);
    CHECK(again.out == "unchanged /etc/cron.d/ztagent\nschedule: cron job /etc/cron.d/ztagent unchanged\n");
    auto remove = run_agent({"schedule", "remove", "--profile", "debian-12", "--root", root.str()});
    CHECK(remove.exit_code == 0);
    CHECK(remove.out == "removed /etc/cron.d/ztagent\nschedule: removed\n");
    // The directory /etc/cron.d stays (install created it; cron owns it on a real host).
    std::filesystem::remove(root.real("/etc/cron.d"));
    CHECK(zt::test::snapshot(root) == before);
    auto bad = run_agent({"schedule", "install", "--profile", "debian-12", "--root", root.str(), "--every", "45m"});
    CHECK(bad.exit_code == 64);
    CHECK(bad.err == "ztagent: error: --every 45min: cron cannot run at that interval (use a divisor of 60 minutes "
                     "or whole hours dividing 24, e.g. 15m, 30m, 1h, 6h)\nTry 'ztagent --help'.\n");
  }
  SECTION("systemd timer where the tree has systemd") {
    TempRoot root;
    zt::test::make_debian12_tree(root);
    root.write("/usr/lib/systemd/systemd", "");
    root.mkdir("/etc/systemd/system");
    // A report directory that does not exist in the tree: every scheduled run would exit 64.
    auto missing_dir = run_agent({"schedule", "install", "--profile", "debian-12", "--root", root.str(), "--report",
                                  "prometheus:/var/lib/prometheus/node-exporter/ztagent.prom"});
    CHECK(missing_dir.exit_code == 64);
    CHECK(missing_dir.err.find("--report /var/lib/prometheus/node-exporter/ztagent.prom: directory " +
                               root.real("/var/lib/prometheus/node-exporter").string() +
                               " does not exist, so every scheduled run would fail; create it first") !=
          std::string::npos);
    CHECK_FALSE(root.exists("/etc/systemd/system/ztagent-verify.timer"));
    root.mkdir("/var/lib/prometheus/node-exporter");
    root.write("/run/ztagent.lock", ""); // the run lock lives in the tree (ROOT/run/ztagent.lock)
    const auto before = zt::test::snapshot(root);
    auto install = run_agent({"schedule", "install", "--profile", "debian-12", "--root", root.str(), "--remediate",
                              "--report", "prometheus:/var/lib/prometheus/node-exporter/ztagent.prom"});
    INFO(install.err);
    CHECK(install.exit_code == 0);
    CHECK(install.out == "wrote /etc/systemd/system/ztagent-verify.service\n"
                         "wrote /etc/systemd/system/ztagent-verify.timer\n"
                         "wrote /etc/systemd/system/timers.target.wants/ztagent-verify.timer -> "
                         "/etc/systemd/system/ztagent-verify.timer\n"
                         "schedule: systemd timer ztagent-verify.timer installed\n");
    // No ztagent package in this image: the schedule still names the packaged path, and says so.
    CHECK(install.err.rfind("ztagent: warning: " + root.real("/usr/bin/ztagent").string() +
                                " does not exist: the schedule runs /usr/bin/ztagent, so install the ztagent "
                                "package in the image\n",
                            0) == 0);
    CHECK(root.read("/etc/systemd/system/ztagent-verify.service")
              .find("ExecStart=/usr/bin/ztagent verify --log-target syslog --remediate --profile debian-12 "
                    "--report=prometheus:/var/lib/prometheus/node-exporter/ztagent.prom\n") !=
          std::string::npos);
    CHECK(root.read("/etc/systemd/system/ztagent-verify.timer").find("OnUnitActiveSec=15min\n") != std::string::npos);
    CHECK(std::filesystem::read_symlink(root.real("/etc/systemd/system/timers.target.wants/ztagent-verify.timer")) ==
          "/etc/systemd/system/ztagent-verify.timer");
    auto again = run_agent({"schedule", "install", "--profile", "debian-12", "--root", root.str(), "--remediate",
                            "--report", "prometheus:/var/lib/prometheus/node-exporter/ztagent.prom"});
    CHECK(again.out.find("schedule: systemd timer ztagent-verify.timer unchanged\n") != std::string::npos);
    auto remove = run_agent({"schedule", "remove", "--profile", "debian-12", "--root", root.str()});
    CHECK(remove.exit_code == 0);
    CHECK(remove.out == "removed /etc/systemd/system/timers.target.wants/ztagent-verify.timer\n"
                        "removed /etc/systemd/system/ztagent-verify.timer\n"
                        "removed /etc/systemd/system/ztagent-verify.service\n"
                        "schedule: removed\n");
    std::filesystem::remove(root.real("/etc/systemd/system/timers.target.wants"));
    CHECK(zt::test::snapshot(root) == before);
    auto nothing = run_agent({"schedule", "remove", "--profile", "debian-12", "--root", root.str()});
    CHECK(nothing.out == "schedule: nothing installed\n");
  }
}

TEST_CASE("cli: explain and list", "[integration][cli][explain]") {
  auto e = run_agent({"explain", "subids.subgid-rang", "--profile", "debian-12"});
  CHECK(e.exit_code == 64);
  CHECK(e.err == "ztagent: error: unknown check 'subids.subgid-rang' (did you mean 'subids.subgid-range'?)\n"
                 "Try 'ztagent --help'.\n");
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto ok = run_agent({"explain", "ports.sysctl-persisted", "--profile", "debian-12", "--root", root.str()});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.rfind("ports.sysctl-persisted (step ports)\n  verifies: ", 0) == 0);
  CHECK(ok.out.find("\n  now:      fail: expected ") != std::string::npos);
  CHECK(ok.out.find("\n  source:   podman troubleshooting #48") != std::string::npos);
  CHECK(ok.out.find("\n  ztagent:  sudo ztagent provision --only ports (or sudo ztagent verify --remediate)\n") !=
        std::string::npos);
  auto list = run_agent({"list", "--profile", "debian-12"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.rfind("profile debian-12: ", 0) == 0);
  CHECK(list.out.find("\npreflight (checks only)\n  preflight.userns ") != std::string::npos);
  CHECK(list.out.find("\nsubids\n  subids.subuid-range ") != std::string::npos);

  // --help names the steps in profile order, as `list` does ("preflight (checks only)", ...).
  std::vector<std::string> listed;
  for (auto line : zt::util::lines(list.out)) {
    if (!line.empty() && line[0] != ' ' && line.rfind("profile ", 0) != 0) {
      listed.emplace_back(line);
    }
  }
  const std::string help = run_agent({"--help"}).out;
  const auto begin = help.find("Steps (in profile order): ");
  REQUIRE(begin != std::string::npos);
  const auto end = help.find('.', begin);
  std::string steps_text = help.substr(begin + 26, end - begin - 26);
  std::replace(steps_text.begin(), steps_text.end(), '\n', ' ');
  std::vector<std::string> in_help;
  for (auto part : zt::util::split(steps_text, ',')) {
    in_help.emplace_back(zt::util::trim(part));
  }
  CHECK(in_help == listed);
}
