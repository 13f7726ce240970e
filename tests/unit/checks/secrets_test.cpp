// SPDX-License-Identifier: Apache-2.0
#include "checks/secrets.hpp"
#include "provisioners/secrets.hpp"
#include "secrets_fixture.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using zt::checks::CheckResult;
using zt::checks::Outcome;

namespace {

using zt::test::secrets::k_dir;
using zt::test::secrets::k_pg;
using zt::test::secrets::k_zt;
using zt::test::secrets::test_stack;

/// Runs the three checks: id -> result.
std::map<std::string, CheckResult> run_checks(const zt::host::Host& host) {
  std::map<std::string, CheckResult> out;
  for (const auto& check : zt::checks::make_secrets_checks("ztnet", test_stack())) {
    CHECK(check->step() == "secrets");
    CHECK_FALSE(check->runtime());
    out[std::string(check->id())] = check->run(host.view());
  }
  return out;
}

/// A good files store, made by the provisioner.
void provision(zt::test::TempRoot& root, zt::host::Host& host) {
  root.add_user("ztnet", 999, 999, "/home/ztnet");
  root.mkdir("/home/ztnet");
  zt::provisioners::Secrets step{"ztnet", test_stack()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  REQUIRE(step.apply(host, *plan));
}

std::string value_of(const zt::test::TempRoot& root, const std::string& path, const std::string& name) {
  auto entries = zt::checks::parse_env_file(root.read(path), path);
  REQUIRE(entries);
  for (const auto& e : *entries) {
    if (e.name == name) {
      return e.value;
    }
  }
  return {};
}

} // namespace

TEST_CASE("parse_env_file: table", "[checks][secrets]") {
  struct Row {
    std::string text;
    std::vector<std::pair<std::string, std::string>> want;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"", {}, ""},
      {"A=1\nB=\n", {{"A", "1"}, {"B", ""}}, ""},
      {"# comment\n\n  \nA=x=y\n", {{"A", "x=y"}}, ""},
      {"A=1", {{"A", "1"}}, ""},
      {"_A9=a b\n", {{"_A9", "a b"}}, ""},
      {"A=1\nnot a line\n", {}, "f.env: line 2 is not NAME=value"},
      {"9A=1\n", {}, "f.env: line 1 is not NAME=value"},
      {" A=1\n", {}, "f.env: line 1 is not NAME=value"},
      {"A=1\n\nA=2\n", {}, "f.env: A is set twice (lines 1 and 3)"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto parsed = zt::checks::parse_env_file(row.text, "f.env");
    if (!row.error.empty()) {
      REQUIRE_FALSE(parsed);
      CHECK(parsed.error().code == zt::Errc::parse);
      CHECK(parsed.error().message == row.error);
      continue;
    }
    REQUIRE(parsed);
    std::vector<std::pair<std::string, std::string>> got;
    for (const auto& e : *parsed) {
      got.emplace_back(e.name, e.value);
    }
    CHECK(got == row.want);
  }
}

TEST_CASE("validate_stack_secrets and secret_containers", "[checks][secrets]") {
  auto stack = test_stack();
  CHECK(zt::checks::validate_stack_secrets(stack));
  auto containers = zt::checks::secret_containers(stack);
  REQUIRE(containers.size() == 2);
  CHECK(containers[0]->name == "postgres");
  CHECK(containers[1]->name == "ztnet");

  stack.secrets[1].bytes = 0;
  auto zero = zt::checks::validate_stack_secrets(stack);
  REQUIRE_FALSE(zero);
  CHECK(zero.error().message == "stack: secret NEXTAUTH_SECRET must have at least 1 byte");
  stack = test_stack();
  stack.containers[1].secrets[1].env = "NEXTAUTH-SECRET";
  auto bad_env = zt::checks::validate_stack_secrets(stack);
  REQUIRE_FALSE(bad_env);
  CHECK(bad_env.error().message == "stack: container ztnet: 'NEXTAUTH-SECRET' is not a valid variable name");
}

TEST_CASE("secrets checks (files store): pass on the provisioned state", "[checks][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  provision(root, host);
  auto results = run_checks(host);
  REQUIRE(results.size() == 4);
  CHECK(results["secrets.present"].outcome == Outcome::pass);
  CHECK(results["secrets.present"].actual == "2 env files in " + k_dir + " set every secret");
  CHECK(results["secrets.consistent"].outcome == Outcome::pass);
  CHECK(results["secrets.permissions"].outcome == Outcome::pass);
  CHECK(results["secrets.permissions"].actual == k_dir + " 0700 and its env files 0600, owned by ztnet");
  CHECK(results["secrets.no-leftovers"].outcome == Outcome::pass);
  CHECK(results["secrets.no-leftovers"].actual == "no leftover temporary files in " + k_dir);
  CHECK(runner.calls().empty());
}

TEST_CASE("secrets checks (files store): each tampered state fails exactly its check", "[checks][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  provision(root, host);
  std::string failing;
  std::string actual;

  SECTION("an env file is missing") {
    std::filesystem::remove(root.real(k_zt));
    failing = "secrets.present";
    actual = "ztnet-ztnet.env is missing";
  }
  SECTION("a variable is empty") {
    root.write(k_zt,
               "POSTGRES_PASSWORD=" + value_of(root, k_pg, "POSTGRES_PASSWORD") + "\nNEXTAUTH_SECRET=\n");
    failing = "secrets.present";
    actual = "ztnet-ztnet.env: NEXTAUTH_SECRET not set";
  }
  SECTION("a variable is gone") {
    root.write(k_pg, "OTHER=1\n");
    failing = "secrets.present";
    actual = "ztnet-postgres.env: POSTGRES_PASSWORD not set";
  }
  SECTION("the env file is a symlink") {
    std::filesystem::remove(root.real(k_pg));
    std::filesystem::create_symlink("/etc/passwd", root.real(k_pg));
    failing = "secrets.present";
    actual = "ztnet-postgres.env is a symlink";
  }
  SECTION("the secrets dir is missing") {
    std::filesystem::remove_all(root.real(k_dir));
    failing = "secrets.present";
    actual = k_dir + " is missing";
  }
  SECTION("the values differ") {
    root.write(k_zt, "POSTGRES_PASSWORD=changed\nNEXTAUTH_SECRET=" + value_of(root, k_zt, "NEXTAUTH_SECRET") +
                         "\n");
    failing = "secrets.consistent";
    actual = "POSTGRES_PASSWORD differs between ztnet-postgres.env and ztnet-ztnet.env";
  }
  SECTION("a file is world-readable") {
    std::filesystem::permissions(root.real(k_zt), std::filesystem::perms(0644));
    failing = "secrets.permissions";
    actual = "ztnet-ztnet.env: mode 0644 -> 0600";
  }
  SECTION("a file belongs to root") {
    REQUIRE(host.fs().set_owner(k_pg, 0, 0));
    failing = "secrets.permissions";
    actual = "ztnet-postgres.env: owner 0:0 -> 999:999";
  }
  SECTION("an ACL entry grants another user") {
    auto acl = zt::host::Acl::from_text("user::rw-,user:1000:r--,group::---,mask::---,other::---");
    REQUIRE(acl);
    REQUIRE(host.fs().set_acl(k_zt, zt::host::AclType::access, *acl));
    failing = "secrets.permissions";
    actual = "ztnet-ztnet.env: remove extended ACL entries";
  }
  SECTION("the directory is group-readable") {
    REQUIRE(host.fs().set_mode(k_dir, 0750));
    failing = "secrets.permissions";
    actual = k_dir + ": mode 0750 -> 0700";
  }
  SECTION("the directory has a default ACL") {
    auto acl = zt::host::Acl::from_text("user::rwx,group::---,other::---");
    REQUIRE(acl);
    REQUIRE(host.fs().set_acl(k_dir, zt::host::AclType::default_acl, *acl));
    failing = "secrets.permissions";
    actual = k_dir + ": remove default ACL";
  }
  SECTION("a killed write left its temp file (a copy of the secrets)") {
    root.write(k_dir + "/.ztnet-postgres.env.ztagent-AbC123", root.read(k_pg));
    failing = "secrets.no-leftovers";
    actual = "1 leftover temporary file in " + k_dir + ": .ztnet-postgres.env.ztagent-AbC123";
  }
  SECTION("the directory belongs to root") {
    REQUIRE(host.fs().set_owner(k_dir, 0, 0));
    failing = "secrets.permissions";
    actual = k_dir + ": owner 0:0 -> 999:999";
  }

  auto results = run_checks(host);
  for (const auto& [id, result] : results) {
    INFO(id);
    if (id == failing) {
      CHECK(result.outcome == Outcome::fail);
      CHECK(result.actual == actual);
      CHECK_FALSE(result.fix.empty());
    } else {
      CHECK(result.outcome != Outcome::fail);
      CHECK(result.outcome != Outcome::error);
    }
  }
}

TEST_CASE("secrets checks (files store): a malformed file fails without its content", "[checks][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  provision(root, host);
  root.write(k_zt, "NEXTAUTH_SECRET hunter2\n");
  auto results = run_checks(host);
  CHECK(results["secrets.present"].outcome == Outcome::fail);
  CHECK(results["secrets.present"].actual == k_zt + ": line 1 is not NAME=value");
  CHECK(results["secrets.consistent"].outcome == Outcome::fail);
  for (const auto& [id, r] : results) {
    CHECK(r.actual.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("secrets checks: the user is missing", "[checks][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  for (const auto& [id, r] : run_checks(host)) {
    INFO(id);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "user ztnet does not exist");
  }
}

TEST_CASE("judge_podman_secrets_present: table", "[checks][secrets]") {
  const auto stack = test_stack();
  const std::string expected = "podman secrets ztnet-postgres-password, ztnet-nextauth-secret";

  auto good = zt::checks::judge_podman_secrets_present(
      stack, std::set<std::string>{"ztnet-postgres-password", "ztnet-nextauth-secret", "other"});
  CHECK(good.outcome == Outcome::pass);
  CHECK(good.expected == expected);
  CHECK(good.actual == "all 2 podman secrets exist");

  auto missing =
      zt::checks::judge_podman_secrets_present(stack, std::set<std::string>{"ztnet-postgres-password"});
  CHECK(missing.outcome == Outcome::fail);
  CHECK(missing.actual == "missing podman secret ztnet-nextauth-secret");
  CHECK(missing.fix == "ztagent provision --only secrets");

  auto none = zt::checks::judge_podman_secrets_present(stack, std::set<std::string>{});
  CHECK(none.actual == "missing podman secret ztnet-postgres-password, ztnet-nextauth-secret");

  zt::Result<std::set<std::string>> failed =
      zt::make_error(zt::Errc::command_failed, "podman secret ls failed (exit 125): boom");
  auto err = zt::checks::judge_podman_secrets_present(stack, failed);
  CHECK(err.outcome == Outcome::error);
  CHECK(err.actual == "podman secret ls failed (exit 125): boom");
}

TEST_CASE("list_podman_secrets: runs podman secret ls as the user, read-only", "[checks][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  runner.on({"runuser", "-u", "ztnet", "--", "podman", "secret", "ls", "--format", "{{.Name}}"},
            {0, "ztnet-postgres-password\n\nother\n", ""});
  auto host = root.host(runner);
  zt::host::Account account{"ztnet", 999, 999, "/home/ztnet", "/usr/sbin/nologin"};
  auto names = zt::checks::list_podman_secrets(host.view(), account);
  REQUIRE(names);
  CHECK(*names == std::set<std::string>{"ztnet-postgres-password", "other"});
  REQUIRE(runner.calls().size() == 1);
  const auto& cmd = runner.calls().front();
  CHECK(cmd.effect == zt::host::Effect::read_only);
  CHECK(cmd.env == std::vector<std::pair<std::string, std::string>>{
                       {"XDG_RUNTIME_DIR", "/run/user/999"},
                       {"DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/999/bus"}});
}

TEST_CASE("make_secrets_step: provisioner and checks for the site user", "[checks][secrets]") {
  zt::profile::Config config;
  config.site.user = "svc";
  config.stack = test_stack();
  auto step = zt::provisioners::make_secrets_step(config, {});
  CHECK(step.id == "secrets");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "secrets");
  REQUIRE(step.checks.size() == 4);
  CHECK(step.checks[0]->id() == "secrets.present");
  CHECK(step.checks[1]->id() == "secrets.consistent");
  CHECK(step.checks[2]->id() == "secrets.permissions");
  CHECK(step.checks[3]->id() == "secrets.no-leftovers");
}
