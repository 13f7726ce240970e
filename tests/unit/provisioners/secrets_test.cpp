// SPDX-License-Identifier: Apache-2.0
#include "../checks/secrets_fixture.hpp"
#include "checks/secrets.hpp"
#include "provisioners/secrets.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

using zt::provisioners::Change;
using zt::provisioners::Secrets;

namespace {

using zt::test::secrets::k_dir;
using zt::test::secrets::k_pg;
using zt::test::secrets::k_zt;
using zt::test::secrets::test_stack;

zt::host::Account ztnet_account() {
  return {"ztnet", 999, 999, "/home/ztnet", "/usr/sbin/nologin"};
}

void add_ztnet(zt::test::TempRoot& root) {
  root.add_user("ztnet", 999, 999, "/home/ztnet");
  root.mkdir("/home/ztnet");
}

std::map<std::string, std::string> env_of(const zt::test::TempRoot& root, const std::string& path) {
  auto entries = zt::checks::parse_env_file(root.read(path), path);
  REQUIRE(entries);
  std::map<std::string, std::string> out;
  for (const auto& e : *entries) {
    out[e.name] = e.value;
  }
  return out;
}

bool is_hex(const std::string& s, std::size_t length) {
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// A podman that keeps the user's secrets in memory: `secret ls` and `secret create NAME -`.
class FakePodman final : public zt::host::CommandRunner {
public:
  zt::Result<zt::host::CommandResult> run(const zt::host::Command& cmd) override {
    m_calls.push_back(cmd);
    const std::vector<std::string> base = {"runuser", "-u", "ztnet", "--", "podman", "secret"};
    if (cmd.argv.size() < base.size() || !std::equal(base.begin(), base.end(), cmd.argv.begin())) {
      FAIL_CHECK("FakePodman: unexpected command: " << zt::util::quote_argv(cmd.argv));
      return zt::make_error(zt::Errc::internal, "unexpected");
    }
    std::vector<std::string> rest(cmd.argv.begin() + static_cast<std::ptrdiff_t>(base.size()),
                                  cmd.argv.end());
    if (rest == std::vector<std::string>{"ls", "--format", "{{.Name}}"}) {
      CHECK(cmd.effect == zt::host::Effect::read_only);
      std::string out;
      for (const auto& [name, value] : values) {
        out += name + "\n";
      }
      return zt::host::CommandResult{0, out, ""};
    }
    if (rest.size() == 3 && rest[0] == "create" && rest[2] == "-") {
      CHECK(cmd.effect == zt::host::Effect::mutating);
      REQUIRE(cmd.input);
      if (values.contains(rest[1])) {
        return zt::host::CommandResult{125, "", "Error: " + rest[1] + ": secret name in use"};
      }
      values[rest[1]] = *cmd.input;
      return zt::host::CommandResult{0, "0123abcd\n", ""};
    }
    FAIL_CHECK("FakePodman: unexpected command: " << zt::util::quote_argv(cmd.argv));
    return zt::make_error(zt::Errc::internal, "unexpected");
  }

  std::map<std::string, std::string> values;
  [[nodiscard]] const std::vector<zt::host::Command>& calls() const { return m_calls; }
  [[nodiscard]] std::size_t mutating_calls() const {
    return static_cast<std::size_t>(
        std::count_if(m_calls.begin(), m_calls.end(),
                      [](const zt::host::Command& c) { return c.effect == zt::host::Effect::mutating; }));
  }

private:
  std::vector<zt::host::Command> m_calls;
};

} // namespace

// ---- files store (image mode: --root) --------------------------------------------------------

TEST_CASE("Secrets (files): creates the env files once with shared values, then is a no-op",
          "[provisioners][secrets]") {
  zt::test::TempRoot root;
  add_ztnet(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Secrets step{"ztnet", test_stack()};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(
      plan->changes ==
      std::vector<Change>{
          {"/home/ztnet/.config", "create directory 0700 owned by ztnet"},
          {"/home/ztnet/.config/ztagent", "create directory 0700 owned by ztnet"},
          {k_dir, "create directory 0700 owned by ztnet"},
          {k_pg, "create 0600 with POSTGRES_PASSWORD (new random value)"},
          {k_zt, "create 0600 with POSTGRES_PASSWORD (new random value), NEXTAUTH_SECRET (new random value)"},
      });
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());

  auto dir = host.fs().lstat(k_dir);
  REQUIRE(dir);
  CHECK(dir->type == zt::host::FileType::directory);
  CHECK(dir->mode == 0700);
  CHECK(dir->uid == 999);
  CHECK(dir->gid == 999);
  auto config = host.fs().lstat("/home/ztnet/.config");
  REQUIRE(config);
  CHECK(config->uid == 999);
  for (const auto& path : {k_pg, k_zt}) {
    auto st = host.fs().lstat(path);
    REQUIRE(st);
    CHECK(st->type == zt::host::FileType::regular);
    CHECK(st->mode == 0600);
    CHECK(st->uid == 999);
    CHECK(st->gid == 999);
  }
  auto pg = env_of(root, k_pg);
  auto zt_env = env_of(root, k_zt);
  CHECK(pg.size() == 1);
  CHECK(zt_env.size() == 2);
  CHECK(is_hex(pg["POSTGRES_PASSWORD"], 64));
  CHECK(is_hex(zt_env["NEXTAUTH_SECRET"], 64));
  CHECK(zt_env["POSTGRES_PASSWORD"] == pg["POSTGRES_PASSWORD"]);
  CHECK(zt_env["NEXTAUTH_SECRET"] != pg["POSTGRES_PASSWORD"]);
  CHECK(root.read(k_zt) == "POSTGRES_PASSWORD=" + pg["POSTGRES_PASSWORD"] +
                               "\nNEXTAUTH_SECRET=" + zt_env["NEXTAUTH_SECRET"] + "\n");
  CHECK_FALSE(root.exists(k_dir + "/ztnet-caddy.env"));

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  for (const auto& check : zt::checks::make_secrets_checks("ztnet", test_stack())) {
    INFO(check->id());
    CHECK(check->run(host.view()).outcome == zt::checks::Outcome::pass);
  }
}

TEST_CASE("Secrets (files): a second run plans nothing, runs nothing and keeps the values",
          "[provisioners][secrets]") {
  zt::test::TempRoot root;
  add_ztnet(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  {
    Secrets first{"ztnet", test_stack()};
    auto plan = first.plan(host.view());
    REQUIRE(plan);
    REQUIRE(first.apply(host, *plan));
  }
  const std::string pg_before = root.read(k_pg);
  const std::string zt_before = root.read(k_zt);

  Secrets second{"ztnet", test_stack()};
  auto plan = second.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(second.apply(host, *plan));
  CHECK(runner.calls().empty());
  CHECK(runner.mutating_calls() == 0);
  CHECK(root.read(k_pg) == pg_before);
  CHECK(root.read(k_zt) == zt_before);
}

TEST_CASE("Secrets (files): an existing value wins over a new one, in every file that shares it",
          "[provisioners][secrets]") {
  zt::test::TempRoot root;
  add_ztnet(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Secrets step{"ztnet", test_stack()};

  SECTION("the postgres file survived, the ztnet file was lost") {
    root.mkdir(k_dir);
    root.write(k_pg, "# written by hand\nPOSTGRES_PASSWORD=kept-from-before\n");
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(plan->changes ==
          std::vector<Change>{
              {k_dir, "owner 0:0 -> 999:999, mode 0755 -> 0700"},
              {k_pg, "owner 0:0 -> 999:999, mode 0644 -> 0600"},
              {k_zt, "create 0600 with POSTGRES_PASSWORD (existing value), NEXTAUTH_SECRET (new "
                     "random value)"},
          });
    REQUIRE(step.apply(host, *plan));
    CHECK(root.read(k_pg) == "# written by hand\nPOSTGRES_PASSWORD=kept-from-before\n");
    CHECK(env_of(root, k_zt)["POSTGRES_PASSWORD"] == "kept-from-before");
  }
  SECTION("a variable is empty in one file and set in the other; other lines are kept") {
    root.mkdir(k_dir);
    root.write(k_pg, "POSTGRES_PASSWORD=\n");
    root.write(k_zt, "EXTRA=1\nNEXTAUTH_SECRET=abc\nPOSTGRES_PASSWORD=from-ztnet\n");
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(std::count(plan->changes.begin(), plan->changes.end(),
                     Change{k_pg, "set POSTGRES_PASSWORD (existing value)"}) == 1);
    REQUIRE(step.apply(host, *plan));
    CHECK(root.read(k_pg) == "POSTGRES_PASSWORD=from-ztnet\n");
    CHECK(root.read(k_zt) == "EXTRA=1\nNEXTAUTH_SECRET=abc\nPOSTGRES_PASSWORD=from-ztnet\n");
  }
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(runner.calls().empty());
}

TEST_CASE("Secrets (files): dry run leaves disk and runner untouched", "[provisioners][secrets]") {
  zt::test::TempRoot root;
  add_ztnet(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Secrets step{"ztnet", test_stack()};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 5);
  CHECK_FALSE(root.exists("/home/ztnet/.config"));
  CHECK(runner.calls().empty());

  SECTION("also with the user still missing") {
    zt::test::TempRoot fresh;
    auto fresh_host = fresh.host(runner);
    auto early = step.plan(fresh_host.view());
    REQUIRE(early);
    CHECK(early->changes ==
          std::vector<Change>{
              {"secrets of ztnet", "generate POSTGRES_PASSWORD, NEXTAUTH_SECRET once user ztnet exists"}});
    CHECK_FALSE(fresh.exists("/home"));
    CHECK(runner.calls().empty());
  }
}

TEST_CASE("Secrets (files): repairs owner, mode and ACLs without touching the values",
          "[provisioners][secrets]") {
  zt::test::TempRoot root;
  add_ztnet(root);
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Secrets step{"ztnet", test_stack()};
  auto first = step.plan(host.view());
  REQUIRE(first);
  REQUIRE(step.apply(host, *first));
  const std::string zt_before = root.read(k_zt);

  auto acl = zt::host::Acl::from_text("user::rw-,user:1000:r--,group::---,mask::r--,other::---");
  REQUIRE(acl);
  REQUIRE(host.fs().set_acl(k_zt, zt::host::AclType::access, *acl));
  REQUIRE(host.fs().set_owner(k_pg, 0, 0));
  auto dacl = zt::host::Acl::from_text("user::rwx,user:1000:r-x,group::---,mask::r-x,other::---");
  REQUIRE(dacl);
  REQUIRE(host.fs().set_acl(k_dir, zt::host::AclType::default_acl, *dacl));
  REQUIRE(host.fs().set_mode(k_dir, 0750));

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{
                             {k_dir, "mode 0750 -> 0700, remove default ACL"},
                             {k_pg, "owner 0:0 -> 999:999"},
                             {k_zt, "mode 0640 -> 0600, remove extended ACL entries"},
                         });
  REQUIRE(step.apply(host, *plan));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(root.read(k_zt) == zt_before);
  for (const auto& check : zt::checks::make_secrets_checks("ztnet", test_stack())) {
    INFO(check->id());
    CHECK(check->run(host.view()).outcome == zt::checks::Outcome::pass);
  }
}

TEST_CASE("Secrets (files): failures give exact messages and never print content",
          "[provisioners][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Secrets step{"ztnet", test_stack()};

  SECTION("the user does not exist at apply time") {
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::not_found);
    CHECK(applied.error().message == "secrets: user ztnet does not exist; run the user step first (ztagent "
                                     "provision --only user,secrets)");
  }
  SECTION("the home directory is missing") {
    root.add_user("ztnet", 999, 999, "/home/ztnet");
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::not_found);
    CHECK(plan.error().message ==
          "secrets: home directory /home/ztnet of ztnet is missing; run the user step first");
  }
  SECTION("a malformed env file names path and line, not content") {
    add_ztnet(root);
    root.write(k_zt, "NEXTAUTH_SECRET=ok\nthis line leaks nothing-secret\n");
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::parse);
    CHECK(plan.error().message == "secrets: " + k_zt + ": line 2 is not NAME=value");
  }
  SECTION("two files disagree") {
    add_ztnet(root);
    root.write(k_pg, "POSTGRES_PASSWORD=one\n");
    root.write(k_zt, "POSTGRES_PASSWORD=two\nNEXTAUTH_SECRET=x\n");
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(
        plan.error().message ==
        "secrets: POSTGRES_PASSWORD differs between ztnet-postgres.env and ztnet-ztnet.env; make them equal "
        "(keep the one the database was initialised with) and run again");
  }
  SECTION("a planted symlink instead of an env file is refused, not followed") {
    add_ztnet(root);
    root.mkdir(k_dir);
    root.write("/etc/shadow-like", "POSTGRES_PASSWORD=root-only\n");
    std::filesystem::create_symlink("/etc/shadow-like", root.real(k_pg));
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message ==
          "secrets: " + k_pg + " is a symlink, not a regular file; remove it and run again");
  }
  SECTION("a symlinked ~/.config is refused") {
    add_ztnet(root);
    root.mkdir("/elsewhere");
    std::filesystem::create_directory_symlink("../../elsewhere", root.real("/home/ztnet/.config"));
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message ==
          "secrets: /home/ztnet/.config/ztagent/secrets: refusing to follow symlink at /home/ztnet/.config");
    CHECK_FALSE(root.exists("/elsewhere/ztagent"));
  }
  SECTION("an undeclared secret reference") {
    add_ztnet(root);
    auto stack = test_stack();
    stack.containers[3].secrets = {{"CADDY_TOKEN", "TOKEN"}};
    Secrets bad{"ztnet", stack};
    auto plan = bad.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::invalid_config);
    CHECK(plan.error().message == "secrets: stack: container caddy references undeclared secret CADDY_TOKEN");
  }
  CHECK(runner.calls().empty());
}

// ---- podman store (live host; the store functions are called directly: this machine is not live) ----

TEST_CASE("Secrets (podman): creates each missing secret once, value on stdin", "[provisioners][secrets]") {
  zt::test::TempRoot root;
  add_ztnet(root);
  FakePodman podman;
  podman.values["ztnet-postgres-password"] = "existing-value";
  podman.values["unrelated"] = "x";
  auto host = root.host(podman);
  const auto account = ztnet_account();
  const auto stack = test_stack();

  auto plan = zt::provisioners::plan_podman_secrets(host.view(), account, stack);
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{{"podman secrets of ztnet", "create podman secret ztnet-nextauth-secret"}});
  CHECK(podman.mutating_calls() == 0);

  REQUIRE(zt::provisioners::apply_podman_secrets(host, account, stack));
  CHECK(podman.values["ztnet-postgres-password"] == "existing-value"); // never replaced
  CHECK(is_hex(podman.values["ztnet-nextauth-secret"], 64));
  REQUIRE(podman.mutating_calls() == 1);
  const auto& create = podman.calls().back();
  CHECK(create.argv == std::vector<std::string>{"runuser", "-u", "ztnet", "--", "podman", "secret", "create",
                                                "ztnet-nextauth-secret", "-"});
  CHECK(create.scope == zt::host::Scope::host);

  auto again = zt::provisioners::plan_podman_secrets(host.view(), account, stack);
  REQUIRE(again);
  CHECK(again->empty());
  const std::size_t before = podman.calls().size();
  REQUIRE(zt::provisioners::apply_podman_secrets(host, account, stack)); // second run: ls only
  CHECK(podman.calls().size() == before + 1);
  CHECK(podman.mutating_calls() == 1);
}

TEST_CASE("Secrets (podman): dry run only lists", "[provisioners][secrets]") {
  zt::test::TempRoot root;
  FakePodman podman;
  auto host = root.host(podman);
  auto plan = zt::provisioners::plan_podman_secrets(host.view(), ztnet_account(), test_stack());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{
                             {"podman secrets of ztnet", "create podman secret ztnet-postgres-password"},
                             {"podman secrets of ztnet", "create podman secret ztnet-nextauth-secret"},
                         });
  CHECK(podman.calls().size() == 1);
  CHECK(podman.mutating_calls() == 0);
  CHECK(podman.values.empty());
}

TEST_CASE("Secrets (podman): failures give exact messages", "[provisioners][secrets]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const std::vector<std::string> ls = {"runuser", "-u", "ztnet",    "--",       "podman",
                                       "secret",  "ls", "--format", "{{.Name}}"};

  SECTION("podman secret ls fails") {
    runner.on(ls, {125, "", "Error: cannot set up namespace\n"});
    auto plan = zt::provisioners::plan_podman_secrets(host.view(), ztnet_account(), test_stack());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::command_failed);
    CHECK(plan.error().message ==
          "secrets: podman secret ls failed (exit 125): Error: cannot set up namespace");
  }
  SECTION("podman secret create fails") {
    runner.on(ls, {0, "ztnet-postgres-password\n", ""});
    runner.on({"runuser", "-u", "ztnet", "--", "podman", "secret", "create", "ztnet-nextauth-secret", "-"},
              {125, "", "Error: no space left on device\n"});
    auto applied = zt::provisioners::apply_podman_secrets(host, ztnet_account(), test_stack());
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::command_failed);
    CHECK(applied.error().message == "secrets: podman secret create ztnet-nextauth-secret failed (exit 125): "
                                     "Error: no space left on device");
  }
}

// ---- the values never leak ------------------------------------------------------------------------

TEST_CASE("Secrets: generated values appear in no command, plan, check result or log line",
          "[provisioners][secrets]") {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);

  std::vector<std::string> texts; // everything a person or a log could see
  std::vector<zt::host::Command> commands;
  std::set<std::string> values;
  const auto stack = test_stack();
  auto record_plan = [&](const zt::provisioners::Plan& plan) {
    for (const auto& c : plan.changes) {
      texts.push_back(c.target);
      texts.push_back(c.summary);
    }
    texts.push_back(plan.describe());
  };

  { // files store, through the step and its checks
    zt::test::TempRoot root;
    add_ztnet(root);
    zt::test::FakeRunner runner;
    auto host = root.host(runner);
    auto step = zt::provisioners::make_secrets_step(
        [&] {
          zt::profile::Config config;
          config.stack = stack;
          return config;
        }(),
        {});
    auto plan = step.provisioner->plan(host.view());
    REQUIRE(plan);
    record_plan(*plan);
    REQUIRE(step.provisioner->apply(host, *plan));
    auto again = step.provisioner->plan(host.view());
    REQUIRE(again);
    record_plan(*again);
    for (const auto& path : {k_pg, k_zt}) {
      for (const auto& [name, value] : env_of(root, path)) {
        values.insert(value);
      }
    }
    root.write(k_zt,
               "POSTGRES_PASSWORD=" + env_of(root, k_pg)["POSTGRES_PASSWORD"] + "x\nNEXTAUTH_SECRET=\n");
    for (const auto& check : step.checks) {
      auto r = check->run(host.view());
      texts.insert(texts.end(), {r.expected, r.actual, r.fix});
    }
    auto conflict = step.provisioner->plan(host.view());
    REQUIRE_FALSE(conflict);
    texts.push_back(conflict.error().message);
    commands.insert(commands.end(), runner.calls().begin(), runner.calls().end());
  }
  { // podman store
    zt::test::TempRoot root;
    FakePodman podman;
    auto host = root.host(podman);
    auto plan = zt::provisioners::plan_podman_secrets(host.view(), ztnet_account(), stack);
    REQUIRE(plan);
    record_plan(*plan);
    REQUIRE(zt::provisioners::apply_podman_secrets(host, ztnet_account(), stack));
    for (const auto& [name, value] : podman.values) {
      values.insert(value);
    }
    auto verdict = zt::checks::judge_podman_secrets_present(
        stack, zt::checks::list_podman_secrets(host.view(), ztnet_account()));
    CHECK(verdict.outcome == zt::checks::Outcome::pass);
    texts.insert(texts.end(), {verdict.expected, verdict.actual, verdict.fix});
    commands.insert(commands.end(), podman.calls().begin(), podman.calls().end());
  }
  for (const auto& line : sink->last_formatted()) {
    texts.push_back(line);
  }
  spdlog::set_default_logger(previous);

  REQUIRE(values.size() == 4); // two per store
  REQUIRE_FALSE(commands.empty());
  std::size_t inputs = 0;
  for (const auto& value : values) {
    REQUIRE(is_hex(value, 64));
    for (const auto& cmd : commands) {
      for (const auto& arg : cmd.argv) {
        CHECK(arg.find(value) == std::string::npos);
      }
      for (const auto& [key, env] : cmd.env) {
        CHECK(key.find(value) == std::string::npos);
        CHECK(env.find(value) == std::string::npos);
      }
      inputs += cmd.input && *cmd.input == value ? 1 : 0;
    }
    for (const auto& text : texts) {
      CHECK(text.find(value) == std::string::npos);
    }
  }
  CHECK(inputs == 2); // the podman values went on stdin, and only there
}
