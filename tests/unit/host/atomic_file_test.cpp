// SPDX-License-Identifier: Apache-2.0
#include "host/atomic_file.hpp"

#include "host/fs.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

using zt::Errc;
using zt::host::Acl;
using zt::host::AclType;
using zt::host::AtomicFile;
using zt::host::Fs;
using zt::host::UniqueFd;
using zt::host::WriteSpec;
namespace stdfs = std::filesystem;

namespace {

bool is_root() { return ::geteuid() == 0; }

UniqueFd open_dir(const stdfs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd.valid());
  return fd;
}

std::vector<std::string> entries(const stdfs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : stdfs::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct stat real_stat(const stdfs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

} // namespace

TEST_CASE("AtomicFile: commit publishes content, mode and owner", "[host][atomic_file]") {
  zt::test::TempRoot root;
  root.mkdir("/srv");
  const UniqueFd dir = open_dir(root.real("/srv"));
  const std::uint32_t uid = is_root() ? 1000 : ::geteuid();
  const std::uint32_t gid = is_root() ? 1001 : ::getegid();
  {
    auto file = AtomicFile::create(dir.get(), "app.conf", "/srv/app.conf");
    REQUIRE(file.has_value());
    CHECK(file->temp_name().starts_with(".app.conf.ztagent-"));
    CHECK(file->temp_name().size() == std::string(".app.conf.ztagent-").size() + 6);
    CHECK(file->host_path() == "/srv/app.conf");
    // The temp file lives next to the target until commit.
    CHECK(entries(root.real("/srv")) == std::vector<std::string>{file->temp_name()});
    CHECK((real_stat(root.real("/srv") / file->temp_name()).st_mode & 07777) == 0600);
    REQUIRE(file->write("line 1\n").has_value());
    REQUIRE(file->write("line 2\n").has_value());
    REQUIRE(file->set_owner(uid, gid).has_value());
    REQUIRE(file->set_mode(0640).has_value());
    CHECK_FALSE(root.exists("/srv/app.conf"));
    REQUIRE(file->commit().has_value());
  }
  CHECK(root.read("/srv/app.conf") == "line 1\nline 2\n");
  const struct stat st = real_stat(root.real("/srv/app.conf"));
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(st.st_uid == uid);
  CHECK(st.st_gid == gid);
  CHECK(entries(root.real("/srv")) == std::vector<std::string>{"app.conf"});
}

TEST_CASE("AtomicFile: destruction without commit removes the temp file", "[host][atomic_file]") {
  zt::test::TempRoot root;
  root.write("/srv/app.conf", "old\n");
  const UniqueFd dir = open_dir(root.real("/srv"));
  {
    auto file = AtomicFile::create(dir.get(), "app.conf", "/srv/app.conf");
    REQUIRE(file.has_value());
    REQUIRE(file->write("new\n").has_value());
    CHECK(entries(root.real("/srv")).size() == 2);
    // Moving keeps one owner of the temp file.
    AtomicFile moved = std::move(*file);
    CHECK(entries(root.real("/srv")).size() == 2);
  }
  CHECK(entries(root.real("/srv")) == std::vector<std::string>{"app.conf"});
  CHECK(root.read("/srv/app.conf") == "old\n");
}

TEST_CASE("AtomicFile: replaces an existing file in one rename", "[host][atomic_file]") {
  zt::test::TempRoot root;
  root.write("/srv/app.conf", "old\n");
  const UniqueFd dir = open_dir(root.real("/srv"));
  UniqueFd reader(::open(root.real("/srv/app.conf").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(reader.valid());
  auto file = AtomicFile::create(dir.get(), "app.conf", "/srv/app.conf");
  REQUIRE(file.has_value());
  REQUIRE(file->write("new\n").has_value());
  REQUIRE(file->commit().has_value());
  CHECK(root.read("/srv/app.conf") == "new\n");
  // A reader that opened the old file still sees the old content: no partial writes.
  char buf[16] = {};
  CHECK(::read(reader.get(), buf, sizeof buf) == 4);
  CHECK(std::string(buf) == "old\n");
}

TEST_CASE("AtomicFile: errors name the host path", "[host][atomic_file]") {
  zt::test::TempRoot root;
  root.mkdir("/srv");
  const UniqueFd dir = open_dir(root.real("/srv"));
  auto file = AtomicFile::create(dir.get(), "app.conf", "/srv/app.conf");
  REQUIRE(file.has_value());
  auto bad = file->set_acl(Acl{});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == Errc::io);
  CHECK(bad.error().message == "/srv/app.conf: invalid ACL \"\": it needs one user::, group:: and other:: entry, "
                               "and a mask:: entry when it has named user or group entries");

  const std::string long_name(250, 'n');
  auto long_file = AtomicFile::create(dir.get(), long_name, "/srv/" + long_name);
  REQUIRE(long_file.has_value());
  CHECK(long_file->temp_name().size() <= 255);
}

TEST_CASE("AtomicFile via Fs::write_file: refuses a symlink and keeps mode, owner and ACL when unset",
          "[host][atomic_file]") {
  zt::test::TempRoot root;
  root.write("/etc/real", "real\n");
  stdfs::create_symlink("real", root.real("/etc/link"));
  Fs fs(root.path());

  auto refused = fs.write_file("/etc/link", "x", {});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == Errc::refused);
  CHECK(refused.error().message == "/etc/link: refusing to replace a symlink");
  CHECK(root.read("/etc/real") == "real\n");
  CHECK(entries(root.real("/etc")) == std::vector<std::string>{"group", "link", "passwd", "real"});

  root.write("/srv/data.conf", "v1\n");
  ::chmod(root.real("/srv/data.conf").c_str(), 0660);
  if (is_root()) {
    REQUIRE(::chown(root.real("/srv/data.conf").c_str(), 1000, 70) == 0);
  }
  const auto extended = Acl::from_text("user::rw-,user:165605:rw-,group::r--,mask::rw-,other::---");
  REQUIRE(extended.has_value());
  auto set = fs.set_acl("/srv/data.conf", AclType::access, *extended);
  const bool acls = set.has_value();
  if (!acls) {
    REQUIRE(set.error().code == Errc::unsupported);
  }

  REQUIRE(fs.write_file("/srv/data.conf", "v2\n", {}).has_value());
  CHECK(root.read("/srv/data.conf") == "v2\n");
  struct stat st = real_stat(root.real("/srv/data.conf"));
  CHECK((st.st_mode & 07777) == 0660);
  if (is_root()) {
    CHECK(st.st_uid == 1000);
    CHECK(st.st_gid == 70);
  }
  if (acls) {
    auto kept = std::as_const(fs).read_acl("/srv/data.conf", AclType::access);
    REQUIRE(kept.has_value());
    CHECK(*kept == *extended);

    // An explicit mode wins over the kept ACL's base entries; the named entry stays.
    WriteSpec mode_only;
    mode_only.mode = 0640;
    REQUIRE(fs.write_file("/srv/data.conf", "v3\n", mode_only).has_value());
    st = real_stat(root.real("/srv/data.conf"));
    CHECK((st.st_mode & 07777) == 0640);
    kept = std::as_const(fs).read_acl("/srv/data.conf", AclType::access);
    REQUIRE(kept.has_value());
    CHECK(kept->to_text() == "user::rw-,user:165605:rw-,group::r--,mask::r--,other::---");

    // An explicit ACL replaces the kept one, mask as given.
    const auto replacement = Acl::from_text("user::rw-,user:1000:rw-,group::r--,mask::r--,other::---");
    REQUIRE(replacement.has_value());
    WriteSpec with_acl;
    with_acl.mode = 0600;
    with_acl.acl = *replacement;
    REQUIRE(fs.write_file("/srv/data.conf", "v4\n", with_acl).has_value());
    kept = std::as_const(fs).read_acl("/srv/data.conf", AclType::access);
    REQUIRE(kept.has_value());
    CHECK(*kept == *replacement);
    CHECK((real_stat(root.real("/srv/data.conf")).st_mode & 07777) == 0640);  // group bits = mask
  }
  CHECK(entries(root.real("/srv")) == std::vector<std::string>{"data.conf"});
}
