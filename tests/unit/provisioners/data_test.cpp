// SPDX-License-Identifier: Apache-2.0
#include "provisioners/data.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

using zt::Errc;
using zt::checks::DataSpec;
using zt::checks::Outcome;
using zt::host::Acl;
using zt::host::AclType;
using zt::provisioners::Change;
using zt::provisioners::Data;

namespace {

const std::string k_root = "/opt/ztnet-data";
const std::string k_pg = "/opt/ztnet-data/postgres-data";
const std::string k_zt = "/opt/ztnet-data/zerotier";
const std::string k_caddy = "/opt/ztnet-data/caddy_data";

DataSpec ztnet_spec() {
  DataSpec spec;
  spec.dirs = {{"postgres-data", 0750, {70}}, {"zerotier", 0750, {}}, {"caddy_data", 0750, {}}};
  return spec;
}

Acl acl(std::string_view text) {
  auto parsed = Acl::from_text(text);
  REQUIRE(parsed);
  return *parsed;
}

std::string acl_text(const zt::host::Fs& fs, const std::string& path, AclType type) {
  auto got = fs.read_acl(path, type);
  REQUIRE(got);
  return got->to_text();
}

void ztnet_host(zt::test::TempRoot& root) {
  root.add_user("ztnet", 999, 999);
  root.write("/etc/subuid", "ztnet:165536:65536\n");
}

std::vector<std::string> failing_checks(const zt::host::HostView& view, const DataSpec& spec) {
  std::vector<std::string> ids;
  for (const auto& check : zt::checks::make_data_checks(spec)) {
    if (check->run(view).outcome != Outcome::pass) {
      ids.emplace_back(check->id());
    }
  }
  return ids;
}

/// plan -> apply -> plan is empty. False (after ZT_SKIP's warning) when the filesystem lacks ACLs.
[[nodiscard]] bool converge(Data& step, zt::host::Host& host) {
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  auto applied = step.apply(host, *plan);
  if (!applied && applied.error().code == Errc::unsupported) {
    WARN("skipped: no ACL support here: " << applied.error().message);
    return false;
  }
  REQUIRE(applied);
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->changes == std::vector<Change>{});
  return true;
}

} // namespace

TEST_CASE("Data: creates the tree with owner, mode and ACLs, then plans nothing", "[provisioners][data]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown");
  }
  zt::test::TempRoot root;
  ztnet_host(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  Data step(ztnet_spec());
  CHECK(step.id() == "data");

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  const std::string access = "ACL: add user:999:rwx, add mask::r-x";
  const std::string plain_default = "default ACL: set user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---";
  CHECK(plan->changes ==
        std::vector<Change>{
            {"/opt", "create directory 0755"},
            {k_root, "create directory 0750"},
            {k_root, "owner root:root -> ztnet:ztnet"},
            {k_root, access},
            {k_pg, "create directory 0750"},
            {k_pg, "owner root:root -> ztnet:ztnet"},
            {k_pg, "ACL: add user:999:rwx, add user:165605:rwx, add mask::r-x"},
            {k_pg, "default ACL: set user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---"},
            {k_zt, "create directory 0750"},
            {k_zt, "owner root:root -> ztnet:ztnet"},
            {k_zt, access},
            {k_zt, plain_default},
            {k_caddy, "create directory 0750"},
            {k_caddy, "owner root:root -> ztnet:ztnet"},
            {k_caddy, access},
            {k_caddy, plain_default},
        });
  if (!converge(step, host)) {
    return;
  }
  const auto& fs = host.fs();
  for (const auto& path : {k_root, k_pg, k_zt, k_caddy}) {
    INFO(path);
    auto st = fs.lstat(path);
    REQUIRE(st);
    CHECK(st->type == zt::host::FileType::directory);
    CHECK(st->mode == 0750); // the named entry did not widen the mask
    CHECK(st->uid == 999);
    CHECK(st->gid == 999);
    CHECK(acl_text(fs, path, AclType::access) ==
          (path == k_pg ? "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::r-x,other::---"
                        : "user::rwx,user:999:rwx,group::r-x,mask::r-x,other::---"));
  }
  CHECK(acl_text(fs, k_root, AclType::default_acl).empty());
  CHECK(acl_text(fs, k_pg, AclType::default_acl) ==
        "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---");
  CHECK(acl_text(fs, k_zt, AclType::default_acl) == "user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---");
  auto opt = fs.lstat("/opt");
  REQUIRE(opt);
  CHECK(opt->mode == 0755);
  CHECK(failing_checks(host.view(), ztnet_spec()).empty());
  CHECK(runner.calls().empty());
}

TEST_CASE("Data: a second run plans nothing and changes nothing", "[provisioners][data]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown");
  }
  zt::test::TempRoot root;
  ztnet_host(root);
  root.write(k_pg + "/PG_VERSION", "15\n"); // container content below a data dir: never touched
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  Data step(ztnet_spec());
  auto content_before = host.fs().lstat(k_pg + "/PG_VERSION");
  REQUIRE(content_before);
  if (!converge(step, host)) {
    return;
  }
  const auto before = acl_text(host.fs(), k_pg, AclType::default_acl);
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(step.apply(host, *plan)); // converged: apply finds nothing to do
  CHECK(acl_text(host.fs(), k_pg, AclType::default_acl) == before);
  auto content = host.fs().lstat(k_pg + "/PG_VERSION");
  REQUIRE(content);
  CHECK(content->uid == content_before->uid); // not chowned
  CHECK(content->mode == content_before->mode);
  CHECK(runner.mutating_calls() == 0);
  CHECK(runner.calls().empty());
}

TEST_CASE("Data: a dry run leaves the disk untouched", "[provisioners][data]") {
  zt::test::TempRoot root;
  ztnet_host(root);
  root.mkdir(k_zt);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  Data step(ztnet_spec());
  const auto mode_before = std::filesystem::status(root.real(k_zt)).permissions();
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK_FALSE(plan->empty());
  CHECK_FALSE(root.exists(k_pg));
  CHECK(std::filesystem::status(root.real(k_zt)).permissions() == mode_before);
  CHECK(acl_text(host.fs(), k_zt, AclType::default_acl).empty());
  CHECK(runner.calls().empty());
}

TEST_CASE("Data: before the user or its subuid range exists, plan says what follows",
          "[provisioners][data]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  Data step(ztnet_spec());

  SECTION("no user") {
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    const std::string later = "owner ztnet:ztnet and ACLs follow once user ztnet exists";
    CHECK(plan->changes == std::vector<Change>{{"/opt", "create directory 0755"},
                                               {k_root, "create directory 0750"},
                                               {k_root, later},
                                               {k_pg, "create directory 0750"},
                                               {k_pg, later},
                                               {k_zt, "create directory 0750"},
                                               {k_zt, later},
                                               {k_caddy, "create directory 0750"},
                                               {k_caddy, later}});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == Errc::not_found);
    CHECK(applied.error().message == "data: user ztnet does not exist; run the user step first");
    CHECK_FALSE(root.exists("/opt"));
  }
  SECTION("user without a subuid range") {
    root.add_user("ztnet", 999, 999);
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(plan->changes.size() == 16);
    CHECK(plan->changes[7] ==
          Change{k_pg, "default ACL: container uid mappings follow once ztnet has a range in /etc/subuid"});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == Errc::not_found);
    CHECK(applied.error().message == "data: /opt/ztnet-data/postgres-data needs the user's subuid range to "
                                     "map container uid 70, but there is "
                                     "none in /etc/subuid; run the subids step first");
    CHECK_FALSE(root.exists("/opt")); // validated before the first change
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("Data: a symlink planted in the data tree is refused and never followed", "[provisioners][data]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown");
  }
  zt::test::TempRoot root;
  ztnet_host(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  Data step(ztnet_spec());
  if (!converge(step, host)) {
    return;
  }
  // The unprivileged user owns data_root: it can swap a data dir for a link to anything.
  root.mkdir("/outside");
  auto& fs = host.fs();
  REQUIRE(fs.set_mode("/outside", 0700));
  const auto outside_acl = acl_text(fs, "/outside", AclType::access);
  std::filesystem::remove(root.real(k_zt));
  std::filesystem::create_directory_symlink(root.real("/outside"), root.real(k_zt));
  REQUIRE(fs.set_mode(k_pg, 0755)); // pending drift elsewhere: must stay unrepaired too

  const std::string message = "data: /opt/ztnet-data/zerotier is a symlink; ztagent never follows links in "
                              "the data tree: remove it and "
                              "re-run";
  auto plan = step.plan(host.view());
  REQUIRE_FALSE(plan);
  CHECK(plan.error().code == Errc::refused);
  CHECK(plan.error().message == message);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto applied = step.apply(host, {});
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == Errc::refused);
    CHECK(applied.error().message == message);
  }
  auto outside = fs.lstat("/outside");
  REQUIRE(outside);
  CHECK(outside->mode == 0700);
  CHECK(outside->uid == 0);
  CHECK(outside->gid == 0);
  CHECK(acl_text(fs, "/outside", AclType::access) == outside_acl);
  CHECK(acl_text(fs, "/outside", AclType::default_acl).empty());
  auto pg = fs.lstat(k_pg);
  REQUIRE(pg);
  CHECK(pg->mode == 0755);
  auto link = fs.lstat(k_zt);
  REQUIRE(link);
  CHECK(link->type == zt::host::FileType::symlink); // not deleted either
  CHECK(runner.calls().empty());
}

TEST_CASE("Data: failures give exact messages", "[provisioners][data]") {
  zt::test::TempRoot root;
  ztnet_host(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  Data step(ztnet_spec());
  std::string message;
  Errc code = Errc::internal;

  SECTION("data_root is a symlink") {
    root.mkdir("/srv/real");
    root.mkdir("/opt");
    std::filesystem::create_directory_symlink(root.real("/srv/real"), root.real(k_root));
    message =
        "data: /opt/ztnet-data is a symlink; ztagent never follows links in the data tree: remove it and "
        "re-run";
    code = Errc::refused;
  }
  SECTION("a regular file where a data dir belongs") {
    root.write(k_caddy, "not a directory");
    message =
        "data: /opt/ztnet-data/caddy_data is a regular file, not a directory; ztagent never replaces it: "
        "move it away and re-run";
    code = Errc::refused;
  }
  SECTION("a parent of data_root is a symlink") {
    root.mkdir("/var/opt");
    std::filesystem::create_directory_symlink(root.real("/var/opt"), root.real("/opt"));
    message =
        "data: /opt is a symlink; ztagent does not follow links on the way to the data tree: set data_root "
        "to the real path and re-run";
    code = Errc::refused;
  }
  SECTION("a parent of data_root is not searchable by the user") {
    root.mkdir("/opt");
    std::filesystem::permissions(root.real("/opt"), std::filesystem::perms::owner_all);
    message =
        "data: /opt is not searchable by ztnet (0700 root:root); ztagent does not change parents of the data "
        "root: run 'chmod o+x /opt' (or 'setfacl -m u:ztnet:x /opt') and re-run";
    code = Errc::refused;
  }
  SECTION("a container uid beyond the subuid range") {
    auto spec = ztnet_spec();
    spec.dirs[0].container_uids = {70000};
    step = Data(spec);
    message =
        "data: container uid 70000 has no host mapping in the range ztnet:165536:65536; raise subid_count or "
        "fix the data dir's container uids";
    code = Errc::invalid_config;
  }
  auto plan = step.plan(host.view());
  REQUIRE_FALSE(plan);
  CHECK(plan.error().code == code);
  CHECK(plan.error().message == message);
  auto applied = step.apply(host, {});
  REQUIRE_FALSE(applied);
  CHECK(applied.error().message == message);
  CHECK_FALSE(root.exists(k_zt));
  CHECK(runner.calls().empty());
}

TEST_CASE("Data: each tampered aspect fails exactly its check, and provision repairs it",
          "[provisioners][data]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown");
  }
  zt::test::TempRoot root;
  ztnet_host(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  const auto spec = ztnet_spec();
  Data step(spec);
  if (!converge(step, host)) {
    return;
  }
  REQUIRE(failing_checks(host.view(), spec).empty());
  auto& fs = host.fs();
  std::vector<std::string> failing;
  std::vector<Change> changes;

  SECTION("mode") {
    REQUIRE(fs.set_mode(k_zt, 0755));
    failing = {"data.zerotier.mode"};
    changes = {{k_zt, "mode 0755 -> 0750"}};
  }
  SECTION("mask widened by a named entry (mode then reads 0770)") {
    REQUIRE(
        fs.set_acl(k_root, AclType::access, acl("user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---")));
    failing = {"data.root.mode"};
    changes = {{k_root, "mode 0770 -> 0750"}};
  }
  SECTION("owner") {
    REQUIRE(fs.set_owner(k_caddy, 0, 0));
    failing = {"data.caddy_data.owner"};
    changes = {{k_caddy, "owner root:root -> ztnet:ztnet"}};
  }
  SECTION("one access ACL entry") {
    REQUIRE(fs.set_acl(k_pg, AclType::access,
                       acl("user::rwx,user:999:r-x,user:165605:rwx,group::r-x,mask::r-x,other::---")));
    failing = {"data.postgres-data.acl"};
    changes = {{k_pg, "ACL: user:999:r-x -> user:999:rwx"}};
  }
  SECTION("an extra access ACL entry") {
    REQUIRE(fs.set_acl(k_root, AclType::access,
                       acl("user::rwx,user:5:rwx,user:999:rwx,group::r-x,mask::r-x,other::---")));
    failing = {"data.root.acl"};
    changes = {{k_root, "ACL: remove user:5:rwx"}};
  }
  SECTION("one default ACL entry") {
    REQUIRE(fs.set_acl(k_pg, AclType::default_acl,
                       acl("user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---")));
    failing = {"data.postgres-data.default-acl"};
    changes = {{k_pg, "default ACL: add user:165605:rwx"}};
  }
  SECTION("default ACL removed") {
    REQUIRE(fs.set_acl(k_caddy, AclType::default_acl, Acl{}));
    failing = {"data.caddy_data.default-acl"};
    changes = {{k_caddy, "default ACL: set user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---"}};
  }
  SECTION("a data dir removed") {
    REQUIRE(std::filesystem::remove(root.real(k_zt)));
    failing = {"data.zerotier.acl", "data.zerotier.default-acl", "data.zerotier.mode", "data.zerotier.owner"};
    std::sort(failing.begin(), failing.end());
    changes = {{k_zt, "create directory 0750"},
               {k_zt, "owner root:root -> ztnet:ztnet"},
               {k_zt, "ACL: add user:999:rwx, add mask::r-x"},
               {k_zt, "default ACL: set user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---"}};
  }
  auto failed = failing_checks(host.view(), spec);
  std::sort(failed.begin(), failed.end());
  CHECK(failed == failing);
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == changes);
  REQUIRE(step.apply(host, *plan));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  CHECK(failing_checks(host.view(), spec).empty());
  CHECK(runner.calls().empty());
}

TEST_CASE("make_data_step: id, provisioner and checks from the site config", "[provisioners][data]") {
  zt::profile::Config config;
  config.site.user = "svc";
  config.site.data_root = "/srv/stack";
  config.site.data_dirs = {{"db", 0700, {70}}};
  const auto spec = zt::provisioners::data_spec_from(config);
  CHECK(spec.user == "svc");
  CHECK(spec.data_root == "/srv/stack");
  CHECK(spec.root_mode == 0750);
  REQUIRE(spec.dirs.size() == 1);
  CHECK(spec.dirs[0].mode == 0700);
  CHECK(spec.dirs[0].container_uids == std::vector<std::uint32_t>{70});
  auto step = zt::provisioners::make_data_step(config, {});
  CHECK(step.id == "data");
  REQUIRE(step.provisioner);
  CHECK(step.provisioner->id() == "data");
  std::vector<std::string> ids;
  for (const auto& check : step.checks) {
    ids.emplace_back(check->id());
  }
  CHECK(ids == std::vector<std::string>{"data.root.owner", "data.root.mode", "data.root.acl", "data.db.owner",
                                        "data.db.mode", "data.db.acl", "data.db.default-acl",
                                        "data.parents-traversable", "data.no-symlinks"});
}
