// SPDX-License-Identifier: Apache-2.0
#include "checks/data.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <map>
#include <string>
#include <unistd.h>
#include <vector>

using zt::Errc;
using zt::checks::DataSpec;
using zt::checks::Outcome;
using zt::host::Acl;
using zt::host::FileStat;
using zt::host::FileType;

namespace {

Acl acl(std::string_view text) {
  auto parsed = Acl::from_text(text);
  REQUIRE(parsed);
  return *parsed;
}

DataSpec ztnet_spec() {
  DataSpec spec;
  spec.dirs = {{"postgres-data", 0750, {70}}, {"zerotier", 0750, {}}, {"caddy_data", 0750, {}}};
  return spec;
}

FileStat dir_stat(std::uint32_t mode, std::uint32_t uid, std::uint32_t gid) {
  FileStat st;
  st.type = FileType::directory;
  st.mode = mode;
  st.uid = uid;
  st.gid = gid;
  return st;
}

std::map<std::string, zt::checks::CheckResult> run_checks(const zt::host::HostView& view,
                                                          const DataSpec& spec) {
  std::map<std::string, zt::checks::CheckResult> out;
  for (const auto& check : zt::checks::make_data_checks(spec)) {
    out.emplace(std::string(check->id()), check->run(view));
  }
  return out;
}

std::vector<std::string> not_passing(const std::map<std::string, zt::checks::CheckResult>& results) {
  std::vector<std::string> ids;
  for (const auto& [id, r] : results) {
    if (r.outcome != Outcome::pass) {
      ids.push_back(id);
    }
  }
  return ids;
}

} // namespace

TEST_CASE("data_targets and data_parents", "[checks][data]") {
  auto spec = ztnet_spec();
  spec.data_root = "/opt/ztnet-data/";
  const auto targets = zt::checks::data_targets(spec);
  REQUIRE(targets.size() == 4);
  CHECK(targets[0].name == "root");
  CHECK(targets[0].path == "/opt/ztnet-data");
  CHECK(targets[0].mode == 0750);
  CHECK_FALSE(targets[0].default_acl);
  CHECK(targets[1].name == "postgres-data");
  CHECK(targets[1].path == "/opt/ztnet-data/postgres-data");
  CHECK(targets[1].container_uids == std::vector<std::uint32_t>{70});
  CHECK(targets[1].default_acl);
  CHECK(targets[3].path == "/opt/ztnet-data/caddy_data");
  CHECK(zt::checks::data_parents(spec) == std::vector<std::string>{"/", "/opt"});
  spec.data_root = "/srv/a/b/data";
  CHECK(zt::checks::data_parents(spec) == std::vector<std::string>{"/", "/srv", "/srv/a", "/srv/a/b"});
}

TEST_CASE("desired ACLs: the mask equals the mode's group bits", "[checks][data]") {
  CHECK(zt::checks::desired_access_acl(0750, 999).to_text() ==
        "user::rwx,user:999:rwx,group::r-x,mask::r-x,other::---");
  CHECK(zt::checks::desired_access_acl(0705, 1000).to_text() ==
        "user::rwx,user:1000:rwx,group::---,mask::---,other::r-x");
  CHECK(zt::checks::desired_default_acl(999, {165605}).to_text() ==
        "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---");
  CHECK(zt::checks::desired_default_acl(999, {}).to_text() ==
        "user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---");
  // container uid 0 maps to the user itself: no duplicate entry
  CHECK(zt::checks::desired_default_acl(999, {999, 165605, 165605}).to_text() ==
        "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---");
}

TEST_CASE("with_mode_bits does what chmod does to an ACL", "[checks][data]") {
  CHECK(zt::checks::with_mode_bits(acl("user::rwx,user:999:rwx,group::r-x,mask::r-x,other::---"), 0775)
            .to_text() == "user::rwx,user:999:rwx,group::r-x,mask::rwx,other::r-x");
  CHECK(zt::checks::with_mode_bits(acl("user::rwx,group::r-x,other::---"), 0705).to_text() ==
        "user::rwx,group::---,other::r-x");
}

TEST_CASE("map_container_uid: rootless podman's mapping", "[checks][data]") {
  const zt::checks::SubIdEntry range{"ztnet", 165536, 65536, 1};
  CHECK(zt::checks::map_container_uid(70, 999, range) == 165605u);
  CHECK(zt::checks::map_container_uid(1, 999, range) == 165536u);
  CHECK(zt::checks::map_container_uid(0, 999, range) == 999u);
  CHECK(zt::checks::map_container_uid(65536, 999, range) == 231071u);
  auto beyond = zt::checks::map_container_uid(65537, 999, range);
  REQUIRE_FALSE(beyond);
  CHECK(beyond.error().code == Errc::invalid_config);
  CHECK(beyond.error().message ==
        "data: container uid 65537 has no host mapping in the range ztnet:165536:65536; "
        "raise subid_count or fix the data dir's container uids");
}

TEST_CASE("describe_acl_diff says what differs", "[checks][data]") {
  struct Row {
    std::string current, desired, diff;
  };
  const std::vector<Row> rows = {
      {"user::rwx,group::r-x,other::---", "user::rwx,group::r-x,other::---", ""},
      {"", "user::rwx,group::r-x,other::---", "set user::rwx,group::r-x,other::---"},
      {"user::rwx,group::r-x,other::---", "user::rwx,user:999:rwx,group::r-x,mask::r-x,other::---",
       "add user:999:rwx, add mask::r-x"},
      {"user::rwx,user:999:r-x,group::r-x,mask::r-x,other::---",
       "user::rwx,user:999:rwx,group::r-x,mask::r-x,other::---", "user:999:r-x -> user:999:rwx"},
      {"user::rwx,user:999:rwx,user:5:r--,group::r-x,mask::rwx,other::---",
       "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---",
       "add user:165605:rwx, remove user:5:r--"},
  };
  for (const auto& row : rows) {
    INFO(row.current << " -> " << row.desired);
    const Acl current = row.current.empty() ? Acl{} : acl(row.current);
    CHECK(zt::checks::describe_acl_diff(current, acl(row.desired)) == row.diff);
  }
}

TEST_CASE("can_traverse follows the POSIX ACL access check", "[checks][data]") {
  struct Row {
    std::string name;
    FileStat st;
    std::string acl;
    bool ok;
  };
  const std::vector<Row> rows = {
      {"other x", dir_stat(0755, 0, 0), "user::rwx,group::r-x,other::r-x", true},
      {"no x for other", dir_stat(0750, 0, 0), "user::rwx,group::r-x,other::---", false},
      {"owner", dir_stat(0700, 999, 0), "user::rwx,group::---,other::---", true},
      {"owner without x, other with x", dir_stat(0601, 999, 0), "user::rw-,group::---,other::--x", false},
      {"owning group", dir_stat(0710, 0, 999), "user::rwx,group::--x,other::---", true},
      {"owning group without x, other with x", dir_stat(0701, 0, 999), "user::rwx,group::---,other::--x",
       false},
      {"named user", dir_stat(0750, 0, 0), "user::rwx,user:999:--x,group::r-x,mask::r-x,other::---", true},
      {"named user masked", dir_stat(0700, 0, 0), "user::rwx,user:999:--x,group::---,mask::---,other::---",
       false},
      {"named group", dir_stat(0750, 0, 0), "user::rwx,group::r-x,group:999:r-x,mask::r-x,other::---", true},
      {"other user's named entry", dir_stat(0751, 0, 0),
       "user::rwx,user:5:---,group::r-x,mask::r-x,other::--x", true},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(zt::checks::can_traverse(row.st, acl(row.acl), 999, 999) == row.ok);
  }
  CHECK(zt::checks::can_traverse(dir_stat(0700, 5, 5), acl("user::rwx,group::---,other::---"), 0, 0));
}

TEST_CASE("lstat_managed refuses symlinks and non-directories", "[checks][data]") {
  zt::test::TempRoot root;
  root.mkdir("/opt/ztnet-data/zerotier");
  root.mkdir("/elsewhere");
  std::filesystem::create_directory_symlink(root.real("/elsewhere"), root.real("/opt/ztnet-data/link"));
  root.write("/opt/ztnet-data/file", "x");
  const zt::host::Fs fs(root.path());

  auto dir = zt::checks::lstat_managed(fs, "/opt/ztnet-data/zerotier");
  REQUIRE(dir);
  CHECK(dir->type == FileType::directory);
  auto missing = zt::checks::lstat_managed(fs, "/opt/ztnet-data/none");
  REQUIRE(missing);
  CHECK(missing->type == FileType::missing);
  auto link = zt::checks::lstat_managed(fs, "/opt/ztnet-data/link");
  REQUIRE_FALSE(link);
  CHECK(link.error().code == Errc::refused);
  CHECK(link.error().message ==
        "data: /opt/ztnet-data/link is a symlink; ztagent never follows links in the data "
        "tree: remove it and re-run");
  auto file = zt::checks::lstat_managed(fs, "/opt/ztnet-data/file");
  REQUIRE_FALSE(file);
  CHECK(file.error().code == Errc::refused);
  CHECK(file.error().message ==
        "data: /opt/ztnet-data/file is a regular file, not a directory; ztagent never "
        "replaces it: move it away and re-run");
}

TEST_CASE("read_data_owner and owner_text", "[checks][data]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 998);
  root.write("/etc/group", "root:x:0:\nsvc:x:998:\n"); // primary group not named like any account
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  DataSpec other;
  other.user = "other";
  auto none = zt::checks::read_data_owner(host.view(), other);
  REQUIRE(none);
  CHECK_FALSE(none->has_value());

  auto owner = zt::checks::read_data_owner(host.view(), ztnet_spec());
  REQUIRE(owner);
  REQUIRE(owner->has_value());
  CHECK((*owner)->uid == 999);
  CHECK((*owner)->gid == 998);
  CHECK((*owner)->text == "ztnet:998"); // no group named like an account has gid 998
  CHECK_FALSE((*owner)->subuid);

  root.write("/etc/subuid", "alice:100000:65536\n999:165536:65536\nztnet:300000:65536\n");
  auto with_range = zt::checks::read_data_owner(host.view(), ztnet_spec());
  REQUIRE(with_range);
  REQUIRE((*with_range)->subuid);
  CHECK((*with_range)->subuid->start == 165536); // first of the user's ranges, by uid or name

  CHECK(zt::checks::owner_text(host.accounts(), 0, 0) == "root:root");
  CHECK(zt::checks::owner_text(host.accounts(), 4242, 4343) == "4242:4343");
}

TEST_CASE("data checks: good tree passes, missing tree, missing user, parents and symlinks fail",
          "[checks][data]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root to chown test directories");
  }
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 999);
  root.write("/etc/subuid", "ztnet:165536:65536\n");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  const auto spec = ztnet_spec();

  SECTION("nothing there yet: every per-directory check fails, parents fail on the missing /opt") {
    const auto results = run_checks(host.view(), spec);
    CHECK(results.size() == 17);
    CHECK(not_passing(results).size() == 16);
    CHECK(results.at("data.no-symlinks").outcome == Outcome::pass);
    CHECK(results.at("data.root.mode").actual == "missing");
    CHECK(results.at("data.root.mode").fix == "run 'ztagent provision'");
    CHECK(results.at("data.parents-traversable").actual == "/opt is missing");
  }

  // Build the good tree by hand through Fs.
  auto& fs = host.fs();
  REQUIRE(fs.make_directories("/opt", 0755));
  const std::vector<std::pair<std::string, bool>> dirs = {{"/opt/ztnet-data", false},
                                                          {"/opt/ztnet-data/postgres-data", true},
                                                          {"/opt/ztnet-data/zerotier", true},
                                                          {"/opt/ztnet-data/caddy_data", true}};
  for (const auto& [path, with_default] : dirs) {
    REQUIRE(fs.make_directory(path, 0750));
    REQUIRE(fs.set_owner(path, 999, 999));
    const std::vector<std::uint32_t> mapped_access =
        path.ends_with("postgres-data") ? std::vector<std::uint32_t>{165605} : std::vector<std::uint32_t>{};
    auto set = fs.set_acl(path, zt::host::AclType::access, zt::checks::desired_access_acl(0750, 999, mapped_access));
    if (!set && set.error().code == Errc::unsupported) {
      ZT_SKIP("no ACL support here: " << set.error().message);
    }
    REQUIRE(set);
    if (with_default) {
      const std::vector<std::uint32_t> mapped =
          path.ends_with("postgres-data") ? std::vector<std::uint32_t>{165605} : std::vector<std::uint32_t>{};
      REQUIRE(fs.set_acl(path, zt::host::AclType::default_acl, zt::checks::desired_default_acl(999, mapped)));
    }
  }

  SECTION("good tree") {
    const auto results = run_checks(host.view(), spec);
    CHECK(not_passing(results).empty());
    CHECK(results.at("data.root.owner").expected == "ztnet:ztnet");
    CHECK(results.at("data.root.owner").actual == "ztnet:ztnet");
    CHECK(results.at("data.zerotier.mode").actual == "0750");
    CHECK(results.at("data.postgres-data.acl").actual ==
          "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::r-x,other::---");
    CHECK(results.at("data.postgres-data.default-acl").actual ==
          "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---");
    CHECK(results.at("data.parents-traversable").actual == "all searchable");
    for (const auto& check : zt::checks::make_data_checks(spec)) {
      CHECK(check->step() == "data");
      CHECK_FALSE(check->description().empty());
      CHECK_FALSE(check->runtime());
    }
  }
  SECTION("user removed") {
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    const auto results = run_checks(host.view(), spec);
    CHECK(results.at("data.root.owner").outcome == Outcome::fail);
    CHECK(results.at("data.root.owner").actual == "user ztnet does not exist");
    CHECK(results.at("data.parents-traversable").outcome == Outcome::fail);
    CHECK(results.at("data.root.mode").outcome == Outcome::pass);
  }
  SECTION("subuid range gone: only the mapped ACLs cannot be decided") {
    root.write("/etc/subuid", "");
    const auto results = run_checks(host.view(), spec);
    CHECK(not_passing(results) ==
          std::vector<std::string>{"data.postgres-data.acl", "data.postgres-data.default-acl"});
    CHECK(results.at("data.postgres-data.acl").outcome == Outcome::skip);
    CHECK(results.at("data.postgres-data.default-acl").outcome == Outcome::skip);
    CHECK(results.at("data.postgres-data.default-acl").actual ==
          "ztnet has no range in /etc/subuid (reported by subids.subuid-range)");
  }
  SECTION("/opt not searchable") {
    REQUIRE(fs.set_mode("/opt", 0700));
    const auto results = run_checks(host.view(), spec);
    CHECK(not_passing(results) == std::vector<std::string>{"data.parents-traversable"});
    CHECK(results.at("data.parents-traversable").actual ==
          "/opt is not searchable by ztnet (0700 root:root)");
    CHECK(results.at("data.parents-traversable").fix ==
          "chmod o+x /opt (or setfacl -m u:ztnet:x /opt); ztagent does not change parents of the data root");
    REQUIRE(fs.set_acl("/opt", zt::host::AclType::access,
                       acl("user::rwx,user:999:--x,group::---,mask::--x,other::---")));
    CHECK(run_checks(host.view(), spec).at("data.parents-traversable").outcome == Outcome::pass);
  }
  SECTION("a data dir replaced by a symlink") {
    root.mkdir("/elsewhere");
    std::filesystem::remove(root.real("/opt/ztnet-data/zerotier"));
    std::filesystem::create_directory_symlink(root.real("/elsewhere"), root.real("/opt/ztnet-data/zerotier"));
    const auto results = run_checks(host.view(), spec);
    CHECK(not_passing(results) == std::vector<std::string>{"data.no-symlinks", "data.zerotier.acl",
                                                           "data.zerotier.default-acl", "data.zerotier.mode",
                                                           "data.zerotier.owner"});
    CHECK(results.at("data.no-symlinks").actual == "symlink: /opt/ztnet-data/zerotier");
    CHECK(results.at("data.no-symlinks").fix ==
          "remove /opt/ztnet-data/zerotier (ztagent never follows links in the data tree), then run 'ztagent "
          "provision'");
    CHECK(results.at("data.zerotier.mode").actual == "symlink");
  }
  SECTION("data_root replaced by a symlink") {
    std::filesystem::rename(root.real("/opt/ztnet-data"), root.real("/opt/real-data"));
    std::filesystem::create_directory_symlink(root.real("/opt/real-data"), root.real("/opt/ztnet-data"));
    const auto results = run_checks(host.view(), spec);
    CHECK(results.at("data.no-symlinks").actual == "symlink: /opt/ztnet-data");
    CHECK(results.at("data.root.owner").actual == "symlink");
    CHECK(results.at("data.zerotier.owner").outcome == Outcome::fail);
    CHECK(results.at("data.zerotier.owner").actual.starts_with("below a symlink ("));
  }
  CHECK(runner.calls().empty());
}
