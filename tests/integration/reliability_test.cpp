// SPDX-License-Identifier: Apache-2.0
// Integration tests for runs that start on a damaged host: a useradd that was killed half-way, an
// account with root's ids, corrupt host files, a preflight check that makes provisioning
// pointless. The built binary with --root on a throwaway tree, with the real shadow tools.
#include "integration/support.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <unistd.h>

using zt::test::AgentRun;
using zt::test::check_ids_with;
using zt::test::is_root;
using zt::test::run_agent;
using zt::test::TempRoot;

namespace {

std::vector<std::string> args(const std::string& verb, const TempRoot& root, const std::string& user,
                              std::initializer_list<std::string> more = {}) {
  std::vector<std::string> a = {verb, "--profile", "debian-12", "--root", root.str(), "--format", "json",
                                "--set", "service.user=" + user};
  a.insert(a.end(), more);
  return a;
}

std::string unique_user(std::string_view prefix) {
  return std::string(prefix) + std::to_string(::getpid() % 100000);
}

/// The "status" of step `id` in a JSON report ("" when absent).
std::string step_status(const std::string& json, const std::string& id) {
  const std::string key = "{\"id\":\"" + id + "\",\"status\":\"";
  auto pos = json.find(key);
  if (pos == std::string::npos) {
    return "";
  }
  pos += key.size();
  return json.substr(pos, json.find('"', pos) - pos);
}

/// The tree's snapshot without ztagent's own provision record (state.json, which every provision
/// writes, also a refused one): what must not change is the host the steps manage. (The run lock,
/// ROOT/run/ztagent.lock, is created before `before` is taken.)
std::string host_snapshot(const TempRoot& root) {
  std::filesystem::remove_all(root.real("/var/lib/ztagent"));
  return zt::test::snapshot(root);
}

} // namespace

TEST_CASE("reliability: after a useradd killed between passwd and group, one run converges",
          "[integration][reliability]") {
  if (!is_root()) {
    ZT_SKIP("needs root (useradd/groupadd/usermod --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  const std::string user = unique_user("ztkl");
  // What a useradd killed after writing passwd and shadow, before group and gshadow, leaves.
  root.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n" + user + ":x:998:998::/home/" + user +
                                ":/usr/sbin/nologin\n");
  root.write("/etc/group", "root:x:0:\n");
  root.write("/etc/shadow", "root:*:19000:0:99999:7:::\n" + user + ":!:19000::::::\n");

  auto first = run_agent(args("provision", root, user, {"--only", "user"}));
  INFO(first.out);
  INFO(first.err);
  CHECK(first.exit_code == 0); // before: exit 2, "usermod: group '<user>' does not exist"
  CHECK(first.err.find("does not exist") == std::string::npos);
  const auto group = root.read("/etc/group");
  auto line = group.find(user + ":x:");
  REQUIRE(line != std::string::npos);
  const std::string gid = std::string(zt::util::split(group.substr(line), ':')[2]);
  CHECK(root.read("/etc/passwd").find(user + ":x:998:" + gid + ":") != std::string::npos);

  auto again = run_agent(args("provision", root, user, {"--only", "user"}));
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(step_status(again.out, "user") == "unchanged");
  CHECK(again.err.find("run: ") == std::string::npos); // no mutating command
}

TEST_CASE("reliability: an existing service account with root's uid is refused by the step and the check",
          "[integration][reliability]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  const std::string user = unique_user("ztu0");
  root.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n" + user + ":x:0:0::/home/" + user +
                                ":/usr/sbin/nologin\n");
  root.write("/etc/group", "root:x:0:\n" + user + ":x:0:\n");
  root.mkdir("/home/" + user);
  root.write("/run/ztagent.lock", "");
  const auto before = host_snapshot(root);

  auto provision = run_agent(args("provision", root, user, {"--only", "user,subids,data"}));
  INFO(provision.out);
  INFO(provision.err);
  CHECK(provision.exit_code == 2);
  CHECK(step_status(provision.out, "user") == "failed");
  CHECK(provision.out.find("user: the existing account " + user + " cannot run the stack: uid 0 is root's: "
                           "the \\\"rootless\\\" stack would run as root; its group " + user +
                           " has gid 0, root's group") !=
        std::string::npos);
  CHECK(step_status(provision.out, "data") == "skipped");
  CHECK(host_snapshot(root) == before);

  auto verify = run_agent(args("verify", root, user, {"--only", "user"}));
  CHECK(verify.exit_code == 1);
  CHECK(check_ids_with(verify.out, "fail") == std::vector<std::string>{"user.account"});
  CHECK(verify.out.find("userdel " + user) != std::string::npos);
}

TEST_CASE("reliability: a corrupt host file stops provision before its first change",
          "[integration][reliability]") {
  if (!is_root()) {
    ZT_SKIP("needs root (useradd --prefix for the --keep-going half)");
  }
  const std::string user = unique_user("ztcr");
  struct Case {
    std::string file, content, failed_step, message;
  };
  const std::vector<Case> cases = {
      // The user step reads /etc/subuid too (a uid inside another user's range is refused).
      {"/etc/subuid", "alice:100000\n", "user", "/etc/subuid:1: "},
      {"/etc/login.defs", "UID_MIN  10OO\n", "user", "/etc/login.defs:1: UID_MIN '10OO' is not a decimal id"},
      {"/etc/group", "root:x:0:\nbroken-line\n", "user", "/etc/group:2: "},
      {"/var/lib/dpkg/status", "Package: podman\nnot a field\n", "packages", "line 2"},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    TempRoot root;
    zt::test::make_debian12_tree(root);
    root.write(c.file, c.content);
    root.write("/run/ztagent.lock", ""); // the run lock is the one file a refused run may create
    const auto before = host_snapshot(root);
    auto run = run_agent(args("provision", root, user));
    INFO(run.out);
    INFO(run.err);
    CHECK(run.exit_code == 2);
    CHECK(step_status(run.out, c.failed_step) == "failed");
    CHECK(run.out.find(c.message) != std::string::npos);
    CHECK(run.out.find("nothing was changed") != std::string::npos);
    for (const char* other : {"packages", "user", "data", "linger", "ports", "secrets", "units"}) {
      if (other != c.failed_step) {
        INFO(other);
        CHECK(step_status(run.out, other) == "skipped");
      }
    }
    CHECK(run.err.find("run: ") == std::string::npos); // no mutating command ran
    CHECK(host_snapshot(root) == before);         // the user was not created, nothing written
  }

  // --keep-going goes past it: the steps that do not need the file converge, its own step fails.
  TempRoot root;
  zt::test::make_debian12_tree(root);
  root.write("/var/lib/dpkg/status", "Package: podman\nnot a field\n");
  auto keep = run_agent(args("provision", root, user, {"--keep-going"}));
  INFO(keep.err);
  CHECK(keep.exit_code == 2);
  CHECK(keep.err.find("--keep-going: provisioning anyway") != std::string::npos);
  CHECK(step_status(keep.out, "packages") == "failed");
  CHECK(step_status(keep.out, "user") == "changed");
  CHECK(step_status(keep.out, "subids") == "changed");
  CHECK(root.read("/etc/passwd").find(user + ":") != std::string::npos);
}

TEST_CASE("reliability: a failing free-space preflight stops provision, --keep-going provisions anyway",
          "[integration][reliability]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  const std::string user = unique_user("ztfs");
  const std::string huge = "preflight.min_free_mib=4000000000"; // ~3.7 PiB
  root.write("/run/ztagent.lock", "");
  const auto before = host_snapshot(root);
  auto run = run_agent(args("provision", root, user, {"--set", huge}));
  INFO(run.out);
  INFO(run.err);
  CHECK(run.exit_code == 2);
  CHECK(step_status(run.out, "preflight") == "failed");
  CHECK(run.out.find("preflight.free-space failed: expected >= 4000000000 MiB free for /opt/ztnet-data") !=
        std::string::npos);
  CHECK(step_status(run.out, "user") == "skipped");
  const auto failing = check_ids_with(run.out, "fail"); // the checks still all run and report
  CHECK(std::find(failing.begin(), failing.end(), "preflight.free-space") != failing.end());
  CHECK(host_snapshot(root) == before);

  // plan is not stopped: it only says what would change.
  auto plan = run_agent(args("plan", root, user, {"--set", huge}));
  CHECK(plan.exit_code == 0);
  CHECK(step_status(plan.out, "user") == "would_change");

  if (!is_root()) {
    return;
  }
  auto keep = run_agent(args("provision", root, user, {"--set", huge, "--keep-going"}));
  INFO(keep.err);
  CHECK(keep.exit_code == 1); // provisioned; the free-space check still fails
  CHECK(step_status(keep.out, "user") == "changed");
  CHECK(keep.err.find("preflight.free-space failed") != std::string::npos);
  CHECK(root.read("/etc/passwd").find(user + ":") != std::string::npos);
}

TEST_CASE("reliability: a system directory as service.data_root is a located config error, nothing changes",
          "[integration][reliability]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  root.write("/etc/ztagent/ztagent.toml", "[service]\ndata_root = \"/etc\"\n");
  const auto before = host_snapshot(root);
  auto run = run_agent({"provision", "--profile", "debian-12", "--root", root.str()});
  CHECK(run.exit_code == 78);
  CHECK(run.err.find(root.real("/etc/ztagent/ztagent.toml").string() +
                     ":2:13: service.data_root: '/etc' is a system directory (the data step would chown it to "
                     "the service user and set mode 0750)") != std::string::npos);
  CHECK(host_snapshot(root) == before);
  for (const char* bad : {"/usr", "/home", "/var", "/var/lib", "/boot", "/etc/ztnet", "/home/ztnet"}) {
    INFO(bad);
    auto set = run_agent({"plan", "--profile", "debian-12", "--root", root.str(), "--set",
                          std::string("service.data_root=") + bad});
    CHECK(set.exit_code == 78);
    CHECK(set.err.find(std::string("service.data_root: '") + bad + "'") != std::string::npos);
  }
  auto fine = run_agent({"plan", "--profile", "debian-12", "--root", root.str(), "--set",
                         "service.data_root=/srv/ztnet"});
  CHECK(fine.exit_code == 0);
}
