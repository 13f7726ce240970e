// SPDX-License-Identifier: Apache-2.0
#include "host/fs.hpp"

#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

using zt::Errc;
using zt::host::Acl;
using zt::host::AclType;
using zt::host::FileType;
using zt::host::Fs;
using zt::host::WriteSpec;
namespace stdfs = std::filesystem;

namespace {

bool is_root() { return ::geteuid() == 0; }

Acl acl(const std::string& text) {
  auto parsed = Acl::from_text(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

struct stat real_stat(const stdfs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

std::uint32_t real_mode(const stdfs::path& p) { return real_stat(p).st_mode & 07777; }

/// Restores the umask on scope exit.
class UmaskGuard {
public:
  explicit UmaskGuard(mode_t mask) : m_old(::umask(mask)) {}
  ~UmaskGuard() { ::umask(m_old); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

private:
  mode_t m_old;
};

template <typename T> void check_error(const zt::Result<T>& r, Errc code, const std::string& message) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == code);
  CHECK(r.error().message == message);
}

} // namespace

TEST_CASE("Fs: maps host paths under the root", "[host][fs]") {
  const Fs live("/");
  CHECK(live.is_live());
  CHECK(live.real_path("/etc/subuid") == stdfs::path("/etc/subuid"));

  const Fs image("/srv/image/");
  CHECK_FALSE(image.is_live());
  CHECK(image.root() == stdfs::path("/srv/image"));
  CHECK(image.real_path("/etc/subuid") == stdfs::path("/srv/image/etc/subuid"));
  CHECK(image.real_path("/") == stdfs::path("/srv/image/"));
}

TEST_CASE("Fs: read_file, stat and lstat inside the root", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/etc/hostname", "box\n");
  const Fs fs(root.path());

  auto content = fs.read_file("/etc/hostname");
  REQUIRE(content.has_value());
  CHECK(*content == "box\n");
  check_error(fs.read_file("/etc/nope"), Errc::not_found, "/etc/nope: No such file or directory");
  check_error(fs.read_file("/nodir/nope"), Errc::not_found, "/nodir/nope: No such file or directory");
  check_error(fs.read_file("/etc/hostname/x"), Errc::not_found, "/etc/hostname/x: Not a directory");
  check_error(fs.read_file("/etc"), Errc::io, "/etc: Is a directory");

  ::chmod(root.real("/etc/hostname").c_str(), 0640);
  auto st = fs.stat("/etc/hostname");
  REQUIRE(st.has_value());
  CHECK(st->type == FileType::regular);
  CHECK(st->mode == 0640);
  CHECK(st->size == 4);
  CHECK(st->uid == ::geteuid());
  CHECK(st->exists());

  auto dir = fs.lstat("/etc");
  REQUIRE(dir.has_value());
  CHECK(dir->type == FileType::directory);
  auto top = fs.lstat("/");
  REQUIRE(top.has_value());
  CHECK(top->type == FileType::directory);

  for (const char* missing : {"/etc/nope", "/nodir/nope", "/etc/hostname/x"}) {
    CAPTURE(missing);
    auto l = fs.lstat(missing);
    REQUIRE(l.has_value());
    CHECK(l->type == FileType::missing);
    CHECK_FALSE(l->exists());
    auto s = fs.stat(missing);
    REQUIRE(s.has_value());
    CHECK(s->type == FileType::missing);
  }

  ::mkfifo(root.real("/etc/fifo").c_str(), 0600);
  auto fifo = fs.lstat("/etc/fifo");
  REQUIRE(fifo.has_value());
  CHECK(fifo->type == FileType::fifo);
  auto null_dev = Fs("/").lstat("/dev/null");
  REQUIRE(null_dev.has_value());
  CHECK(null_dev->type == FileType::char_device);
  CHECK(null_dev->rdev_major == 1);
  CHECK(null_dev->rdev_minor == 3);
}

TEST_CASE("Fs: read_file and stat resolve symlinks inside the root like a chroot", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/usr/lib/os-release", "ID=testos\n");
  root.write("/etc/hostname", "inside\n");
  stdfs::create_symlink("../usr/lib/os-release", root.real("/etc/os-release"));
  stdfs::create_symlink("/usr/lib/os-release", root.real("/etc/absolute"));
  stdfs::create_symlink("../../../../../../../../etc/hostname", root.real("/etc/climb"));
  stdfs::create_symlink("/etc/hostname", root.real("/usr/lib/to-hostname"));
  stdfs::create_symlink("/usr/lib", root.real("/lib"));
  stdfs::create_symlink("lib/../lib/./os-release", root.real("/usr/relative"));
  stdfs::create_symlink("/loop-b", root.real("/loop-a"));
  stdfs::create_symlink("loop-a", root.real("/loop-b"));
  stdfs::create_symlink("/usr/lib/missing", root.real("/dangling"));
  const Fs fs(root.path());

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/etc/os-release", "ID=testos\n"},  // relative link
      {"/etc/absolute", "ID=testos\n"},    // absolute link re-rooted
      {"/etc/climb", "inside\n"},          // ".." stops at the root, never reads the host's /etc/hostname
      {"/lib/os-release", "ID=testos\n"},  // symlinked directory in the middle
      {"/lib/to-hostname", "inside\n"},    // chain of absolute links
      {"/usr/relative", "ID=testos\n"},
      {"/lib/../etc/hostname", "inside\n"},
  };
  for (const auto& [path, expected] : cases) {
    CAPTURE(path);
    auto content = fs.read_file(path);
    REQUIRE(content.has_value());
    CHECK(*content == expected);
  }

  auto st = fs.stat("/etc/os-release");
  REQUIRE(st.has_value());
  CHECK(st->type == FileType::regular);
  CHECK(st->size == 10);
  auto lst = fs.lstat("/etc/os-release");
  REQUIRE(lst.has_value());
  CHECK(lst->type == FileType::symlink);
  auto lib = fs.stat("/lib");
  REQUIRE(lib.has_value());
  CHECK(lib->type == FileType::directory);

  check_error(fs.read_file("/loop-a"), Errc::io, "/loop-a: too many levels of symbolic links");
  check_error(fs.stat("/loop-a"), Errc::io, "/loop-a: too many levels of symbolic links");
  check_error(fs.read_file("/dangling"), Errc::not_found, "/dangling: No such file or directory");
  auto dangling = fs.stat("/dangling");
  REQUIRE(dangling.has_value());
  CHECK(dangling->type == FileType::missing);

  auto listing = fs.list_dir("/lib");
  REQUIRE(listing.has_value());
  CHECK(*listing == std::vector<std::string>{"os-release", "to-hostname"});
}

TEST_CASE("Fs: list_dir is sorted and reports missing directories", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/d/b", "");
  root.write("/d/a", "");
  root.write("/d/.hidden", "");
  root.mkdir("/d/c");
  const Fs fs(root.path());
  auto names = fs.list_dir("/d");
  REQUIRE(names.has_value());
  CHECK(*names == std::vector<std::string>{".hidden", "a", "b", "c"});
  auto empty = fs.list_dir("/d/c");
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  check_error(fs.list_dir("/nope"), Errc::not_found, "/nope: No such file or directory");
  check_error(fs.list_dir("/d/a"), Errc::io, "/d/a: Not a directory");
}

TEST_CASE("Fs: make_directory sets exactly the mode and make_directories creates what is missing", "[host][fs]") {
  zt::test::TempRoot root;
  const Fs fs_const(root.path());
  Fs fs(root.path());
  const UmaskGuard umask_guard(077);

  REQUIRE(fs.make_directory("/data", 02775).has_value());
  CHECK(real_mode(root.real("/data")) == 02775);
  check_error(fs.make_directory("/data", 0755), Errc::io, "/data: File exists");
  check_error(fs.make_directory("/missing/child", 0755), Errc::not_found, "/missing/child: No such file or directory");
  check_error(fs.make_directory("/", 0755), Errc::io, "/: File exists");

  REQUIRE(fs.make_directories("/data/a/b/c", 0750).has_value());
  CHECK(real_mode(root.real("/data")) == 02775);  // existing ones are left alone
  CHECK(real_mode(root.real("/data/a")) == 0750);
  CHECK(real_mode(root.real("/data/a/b")) == 0750);
  CHECK(real_mode(root.real("/data/a/b/c")) == 0750);
  REQUIRE(fs.make_directories("/data/a/b/c", 0700).has_value());  // idempotent
  CHECK(real_mode(root.real("/data/a/b/c")) == 0750);
  REQUIRE(fs.make_directories("/", 0700).has_value());

  root.write("/data/file", "x");
  check_error(fs.make_directories("/data/file/sub", 0755), Errc::io,
              "/data/file/sub: /data/file exists and is not a directory");
  auto st = fs_const.lstat("/data/a/b/c");
  REQUIRE(st.has_value());
  CHECK(st->type == FileType::directory);
}

TEST_CASE("Fs: remove_file removes files and symlinks, not directories", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/etc/a", "a");
  root.write("/etc/target", "t");
  stdfs::create_symlink("/etc/target", root.real("/etc/link"));
  Fs fs(root.path());

  REQUIRE(fs.remove_file("/etc/a").has_value());
  CHECK_FALSE(root.exists("/etc/a"));
  REQUIRE(fs.remove_file("/etc/a").has_value());  // missing is fine
  REQUIRE(fs.remove_file("/nodir/a").has_value());
  REQUIRE(fs.remove_file("/etc/link").has_value());
  CHECK_FALSE(root.exists("/etc/link"));
  CHECK(root.read("/etc/target") == "t");  // the link, not its target
  check_error(fs.remove_file("/etc"), Errc::io, "/etc: Is a directory");
  CHECK(root.exists("/etc"));
}

TEST_CASE("Fs: write_file creates and replaces files atomically", "[host][fs]") {
  zt::test::TempRoot root;
  Fs fs(root.path());
  const UmaskGuard umask_guard(077);

  SECTION("a new file gets 0644 root:root and the content") {
    if (!is_root()) {
      ZT_SKIP("needs root to create root-owned files");
    }
    REQUIRE(fs.write_file("/etc/new.conf", "hello\n", {}).has_value());
    CHECK(root.read("/etc/new.conf") == "hello\n");
    const struct stat st = real_stat(root.real("/etc/new.conf"));
    CHECK((st.st_mode & 07777) == 0644);
    CHECK(st.st_uid == 0);
    CHECK(st.st_gid == 0);
  }
  SECTION("spec fields are applied") {
    WriteSpec spec;
    spec.mode = 0600;
    spec.uid = ::geteuid();
    spec.gid = ::getegid();
    REQUIRE(fs.write_file("/etc/secret", "s3", spec).has_value());
    CHECK(root.read("/etc/secret") == "s3");
    CHECK(real_mode(root.real("/etc/secret")) == 0600);
  }
  SECTION("replacing keeps the current mode and owner when unset") {
    root.write("/etc/subuid", "old\n");
    ::chmod(root.real("/etc/subuid").c_str(), 0604);
    if (is_root()) {
      REQUIRE(::chown(root.real("/etc/subuid").c_str(), 1000, 1001) == 0);
    }
    REQUIRE(fs.write_file("/etc/subuid", "new\n", {}).has_value());
    CHECK(root.read("/etc/subuid") == "new\n");
    const struct stat st = real_stat(root.real("/etc/subuid"));
    CHECK((st.st_mode & 07777) == 0604);
    if (is_root()) {
      CHECK(st.st_uid == 1000);
      CHECK(st.st_gid == 1001);
    }
    WriteSpec spec;
    spec.mode = 0640;
    REQUIRE(fs.write_file("/etc/subuid", "newer\n", spec).has_value());
    CHECK(root.read("/etc/subuid") == "newer\n");
    CHECK(real_mode(root.real("/etc/subuid")) == 0640);
    if (is_root()) {
      CHECK(real_stat(root.real("/etc/subuid")).st_uid == 1000);
    }
  }
  SECTION("empty content and no temp files left behind") {
    WriteSpec spec;
    spec.mode = 0600;
    spec.uid = ::geteuid();
    spec.gid = ::getegid();
    REQUIRE(fs.write_file("/etc/empty", "", spec).has_value());
    CHECK(root.read("/etc/empty").empty());
    auto names = fs.list_dir("/etc");
    REQUIRE(names.has_value());
    CHECK(*names == std::vector<std::string>{"empty", "group", "passwd"});
  }
  SECTION("errors") {
    check_error(fs.write_file("/nodir/file", "x", {}), Errc::not_found, "/nodir/file: No such file or directory");
    check_error(fs.write_file("/etc", "x", {}), Errc::io, "/etc: Is a directory");
    check_error(fs.write_file("/", "x", {}), Errc::io, "/: Is a directory");
    ::mkfifo(root.real("/etc/fifo").c_str(), 0600);
    check_error(fs.write_file("/etc/fifo", "x", {}), Errc::refused,
                "/etc/fifo: is a fifo; refusing to replace it with a regular file");
  }
}

TEST_CASE("Fs: write_file refuses to replace a symlink unless told to", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/etc/real", "real\n");
  stdfs::create_symlink("/etc/real", root.real("/etc/link"));
  Fs fs(root.path());

  check_error(fs.write_file("/etc/link", "evil\n", {}), Errc::refused, "/etc/link: refusing to replace a symlink");
  CHECK(root.read("/etc/real") == "real\n");
  CHECK(stdfs::is_symlink(root.real("/etc/link")));

  WriteSpec spec;
  spec.replace_symlink = zt::host::ReplaceSymlink::yes;
  spec.uid = ::geteuid();
  spec.gid = ::getegid();
  REQUIRE(fs.write_file("/etc/link", "replaced\n", spec).has_value());
  CHECK_FALSE(stdfs::is_symlink(root.real("/etc/link")));
  CHECK(root.read("/etc/link") == "replaced\n");
  CHECK(root.read("/etc/real") == "real\n");  // the old target is untouched
  CHECK(real_mode(root.real("/etc/link")) == 0644);
}

TEST_CASE("Fs: no call follows a symlink planted in a data tree", "[host][fs]") {
  zt::test::TempRoot root;
  zt::test::TempRoot outside;  // stands for /etc, /root, ... of the real host
  outside.write("/secret", "keep\n");
  ::chmod(outside.real("/secret").c_str(), 0600);
  ::chmod(outside.path().c_str(), 0700);
  root.mkdir("/opt/data");
  stdfs::create_symlink(outside.path(), root.real("/opt/data/evil"));
  stdfs::create_symlink(outside.real("/secret"), root.real("/opt/data/evil-file"));
  Fs fs(root.path());
  const Fs& cfs = fs;
  const Acl named = acl("user::rwx,user:1000:rwx,group::r-x,mask::rwx,other::---");
  WriteSpec spec;
  spec.mode = 0666;
  spec.uid = 1000;
  spec.gid = 1000;
  const std::string at_dir = "refusing to follow symlink at /opt/data/evil";

  // The symlink itself as the target.
  check_error(fs.set_mode("/opt/data/evil", 0777), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(fs.set_owner("/opt/data/evil", 1000, 1000), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(fs.set_acl("/opt/data/evil", AclType::access, named), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(fs.set_acl("/opt/data/evil", AclType::default_acl, named), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(fs.set_acl("/opt/data/evil", AclType::default_acl, Acl{}), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(cfs.read_acl("/opt/data/evil", AclType::access), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(cfs.read_xattr("/opt/data/evil", "user.x"), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(fs.make_directories("/opt/data/evil", 0755), Errc::refused, "/opt/data/evil: " + at_dir);
  check_error(fs.set_mode("/opt/data/evil-file", 0666), Errc::refused,
              "/opt/data/evil-file: refusing to follow symlink at /opt/data/evil-file");
  check_error(fs.set_owner("/opt/data/evil-file", 1000, 1000), Errc::refused,
              "/opt/data/evil-file: refusing to follow symlink at /opt/data/evil-file");
  check_error(fs.set_acl("/opt/data/evil-file", AclType::access, named), Errc::refused,
              "/opt/data/evil-file: refusing to follow symlink at /opt/data/evil-file");

  // The symlink as a directory in the middle of the path.
  const std::vector<std::string> paths = {"/opt/data/evil/secret", "/opt/data/evil/new", "/opt/data/evil/a/b"};
  for (const std::string& p : paths) {
    CAPTURE(p);
    const std::string message = p + ": " + at_dir;
    check_error(fs.set_mode(p, 0777), Errc::refused, message);
    check_error(fs.set_owner(p, 1000, 1000), Errc::refused, message);
    check_error(fs.set_acl(p, AclType::access, named), Errc::refused, message);
    check_error(fs.set_acl(p, AclType::default_acl, named), Errc::refused, message);
    check_error(fs.write_file(p, "evil\n", spec), Errc::refused, message);
    check_error(fs.make_directory(p, 0777), Errc::refused, message);
    check_error(fs.make_directories(p, 0777), Errc::refused, message);
    check_error(fs.remove_file(p), Errc::refused, message);
    check_error(cfs.lstat(p), Errc::refused, message);
    check_error(cfs.read_acl(p, AclType::access), Errc::refused, message);
    check_error(cfs.read_xattr(p, "user.x"), Errc::refused, message);
  }
  // replace_symlink only concerns the final component.
  WriteSpec replace = spec;
  replace.replace_symlink = zt::host::ReplaceSymlink::yes;
  check_error(fs.write_file("/opt/data/evil/secret", "evil\n", replace), Errc::refused,
              "/opt/data/evil/secret: " + at_dir);

  // Nothing outside changed.
  CHECK(outside.read("/secret") == "keep\n");
  CHECK(real_mode(outside.real("/secret")) == 0600);
  CHECK(real_mode(outside.path()) == 0700);
  CHECK(real_stat(outside.path()).st_uid == ::geteuid());
  CHECK(real_stat(outside.real("/secret")).st_uid == ::geteuid());
  CHECK(stdfs::exists(outside.real("/secret")));
  CHECK_FALSE(stdfs::exists(outside.real("/new")));
  CHECK_FALSE(stdfs::exists(outside.real("/a")));
  const Fs outside_fs(outside.path());
  auto outside_acl = outside_fs.read_acl("/", AclType::access);
  if (outside_acl.has_value()) {
    CHECK(outside_acl->is_minimal());
    auto outside_default = outside_fs.read_acl("/", AclType::default_acl);
    REQUIRE(outside_default.has_value());
    CHECK(outside_default->empty());
  }
  auto listing = outside_fs.list_dir("/");
  REQUIRE(listing.has_value());
  CHECK(*listing == std::vector<std::string>{"etc", "secret"});
}

TEST_CASE("Fs: set_mode and set_owner act on regular files and directories only", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/etc/file", "x");
  root.mkdir("/srv/dir");
  ::mkfifo(root.real("/srv/fifo").c_str(), 0600);
  Fs fs(root.path());

  REQUIRE(fs.set_mode("/etc/file", 04750).has_value());
  CHECK(real_mode(root.real("/etc/file")) == 04750);
  REQUIRE(fs.set_mode("/srv/dir", 01777).has_value());
  CHECK(real_mode(root.real("/srv/dir")) == 01777);
  REQUIRE(fs.set_mode("/srv/dir", 0700).has_value());
  CHECK(real_mode(root.real("/srv/dir")) == 0700);
  check_error(fs.set_mode("/srv/fifo", 0644), Errc::refused,
              "/srv/fifo: is a fifo; only regular files and directories are supported");
  check_error(fs.set_mode("/srv/missing", 0644), Errc::not_found, "/srv/missing: No such file or directory");
  check_error(fs.set_owner("/srv/fifo", 0, 0), Errc::refused,
              "/srv/fifo: is a fifo; only regular files and directories are supported");

  if (is_root()) {
    REQUIRE(fs.set_owner("/etc/file", 1000, 1001).has_value());
    REQUIRE(fs.set_owner("/srv/dir", 70, 70).has_value());
    CHECK(real_stat(root.real("/etc/file")).st_uid == 1000);
    CHECK(real_stat(root.real("/etc/file")).st_gid == 1001);
    CHECK(real_stat(root.real("/srv/dir")).st_uid == 70);
    const Fs& cfs = fs;
    auto st = cfs.lstat("/srv/dir");
    REQUIRE(st.has_value());
    CHECK(st->uid == 70);
    CHECK(st->gid == 70);
  }
}

TEST_CASE("Fs: access and default ACLs round-trip with the mask kept as given", "[host][fs][acl]") {
  zt::test::TempRoot root;
  root.mkdir("/opt/data");
  ::chmod(root.real("/opt/data").c_str(), 0750);
  root.write("/opt/data/file", "x");
  ::chmod(root.real("/opt/data/file").c_str(), 0640);
  Fs fs(root.path());
  const Fs& cfs = fs;

  auto base = cfs.read_acl("/opt/data", AclType::access);
  if (!base.has_value() && base.error().code == Errc::unsupported) {
    ZT_SKIP("the filesystem under /tmp does not support ACLs");
  }
  REQUIRE(base.has_value());
  CHECK(base->to_text() == "user::rwx,group::r-x,other::---");
  CHECK(base->is_minimal());
  auto no_default = cfs.read_acl("/opt/data", AclType::default_acl);
  REQUIRE(no_default.has_value());
  CHECK(no_default->empty());

  // A named entry with a narrower mask: the mask stays r-x, so the mode still reads 0750.
  const Acl access = acl("user::rwx,user:1000:rwx,group::r-x,mask::r-x,other::---");
  REQUIRE(fs.set_acl("/opt/data", AclType::access, access).has_value());
  auto read_back = cfs.read_acl("/opt/data", AclType::access);
  REQUIRE(read_back.has_value());
  CHECK(read_back->to_text() == "user::rwx,user:1000:rwx,group::r-x,mask::r-x,other::---");
  auto st = cfs.lstat("/opt/data");
  REQUIRE(st.has_value());
  CHECK(st->mode == 0750);

  // Setting the mode afterwards changes the mask and keeps the named entry.
  REQUIRE(fs.set_mode("/opt/data", 0770).has_value());
  read_back = cfs.read_acl("/opt/data", AclType::access);
  REQUIRE(read_back.has_value());
  CHECK(read_back->to_text() == "user::rwx,user:1000:rwx,group::r-x,mask::rwx,other::---");

  const Acl defaults = acl("user::rwx,user:1000:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---");
  REQUIRE(fs.set_acl("/opt/data", AclType::default_acl, defaults).has_value());
  auto default_back = cfs.read_acl("/opt/data", AclType::default_acl);
  REQUIRE(default_back.has_value());
  CHECK(*default_back == defaults);
  // Children inherit the default ACL.
  REQUIRE(fs.make_directory("/opt/data/child", 0750).has_value());
  auto child_default = cfs.read_acl("/opt/data/child", AclType::default_acl);
  REQUIRE(child_default.has_value());
  CHECK(*child_default == defaults);
  auto child_access = cfs.read_acl("/opt/data/child", AclType::access);
  REQUIRE(child_access.has_value());
  CHECK(child_access->to_text() == "user::rwx,user:1000:rwx,user:165605:rwx,group::r-x,mask::r-x,other::---");

  // An empty default ACL removes it.
  REQUIRE(fs.set_acl("/opt/data", AclType::default_acl, Acl{}).has_value());
  default_back = cfs.read_acl("/opt/data", AclType::default_acl);
  REQUIRE(default_back.has_value());
  CHECK(default_back->empty());
  REQUIRE(fs.set_acl("/opt/data", AclType::default_acl, Acl{}).has_value());  // already gone: fine

  // Back to a minimal access ACL.
  REQUIRE(fs.set_acl("/opt/data", AclType::access, acl("user::rwx,group::r-x,other::---")).has_value());
  read_back = cfs.read_acl("/opt/data", AclType::access);
  REQUIRE(read_back.has_value());
  CHECK(read_back->is_minimal());
  st = cfs.lstat("/opt/data");
  REQUIRE(st.has_value());
  CHECK(st->mode == 0750);

  // Regular files: access only.
  REQUIRE(fs.set_acl("/opt/data/file", AclType::access, acl("u::rw-,g:70:rw-,g::r--,m::rw-,o::---")).has_value());
  auto file_acl = cfs.read_acl("/opt/data/file", AclType::access);
  REQUIRE(file_acl.has_value());
  CHECK(file_acl->to_text() == "user::rw-,group::r--,group:70:rw-,mask::rw-,other::---");
  check_error(cfs.read_acl("/opt/data/file", AclType::default_acl), Errc::io,
              "/opt/data/file: only directories have a default ACL");
  check_error(fs.set_acl("/opt/data/file", AclType::default_acl, defaults), Errc::io,
              "/opt/data/file: only directories have a default ACL");

  // Invalid ACLs are refused before anything changes.
  check_error(fs.set_acl("/opt/data", AclType::access, acl("user::rwx,user:1000:rwx,group::r-x,other::---")),
              Errc::io,
              "/opt/data: invalid ACL \"user::rwx,user:1000:rwx,group::r-x,other::---\": it needs one user::, group:: "
              "and other:: entry, and a mask:: entry when it has named user or group entries");
  check_error(fs.set_acl("/opt/data", AclType::access, Acl{}), Errc::io,
              "/opt/data: invalid ACL \"\": it needs one user::, group:: and other:: entry, and a mask:: entry "
              "when it has named user or group entries");
  check_error(cfs.read_acl("/opt/missing", AclType::access), Errc::not_found,
              "/opt/missing: No such file or directory");
}

TEST_CASE("Fs: read_xattr reads without following and returns nullopt when absent", "[host][fs]") {
  zt::test::TempRoot root;
  root.write("/usr/bin/tool", "bin");
  Fs fs(root.path());
  const Fs& cfs = fs;
  const std::string real = root.real("/usr/bin/tool").string();
  if (::setxattr(real.c_str(), "user.ztagent-test", "v\0x", 3, 0) != 0) {
    ZT_SKIP("the filesystem under /tmp does not support user xattrs");
  }
  auto value = cfs.read_xattr("/usr/bin/tool", "user.ztagent-test");
  REQUIRE(value.has_value());
  REQUIRE(value->has_value());
  CHECK(**value == std::string("v\0x", 3));
  auto absent = cfs.read_xattr("/usr/bin/tool", "user.other");
  REQUIRE(absent.has_value());
  CHECK_FALSE(absent->has_value());
  auto dir = cfs.read_xattr("/usr/bin", "user.other");
  REQUIRE(dir.has_value());
  CHECK_FALSE(dir->has_value());
  check_error(cfs.read_xattr("/usr/bin/missing", "user.x"), Errc::not_found,
              "/usr/bin/missing: No such file or directory");
}

TEST_CASE("Fs: available_bytes looks at the nearest existing ancestor", "[host][fs]") {
  zt::test::TempRoot root;
  const Fs fs(root.path());
  auto here = fs.available_bytes("/etc");
  REQUIRE(here.has_value());
  CHECK(*here > 0);
  auto missing = fs.available_bytes("/opt/ztnet-data/postgres-data");
  REQUIRE(missing.has_value());
  CHECK(*missing > 0);
}

TEST_CASE("Fs::read_file reads files that report size 0 (/proc, /sys) whole", "[host][fs]") {
  // A sysctl file answers only the first read: a short first read would give "1" of "1024".
  Fs fs("/");
  auto ostype = fs.read_file("/proc/sys/kernel/ostype");
  REQUIRE(ostype);
  CHECK(*ostype == "Linux\n");
  auto port_start = fs.read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  REQUIRE(port_start);
  std::string expected;
  {
    FILE* f = std::fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
    REQUIRE(f != nullptr);
    char buf[64] = {};
    expected = std::fgets(buf, sizeof buf, f) != nullptr ? buf : "";
    std::fclose(f);
  }
  CHECK(*port_start == expected);
  // Longer than one page, still size 0 in fstat.
  auto maps = fs.read_file("/proc/self/maps");
  REQUIRE(maps);
  CHECK(maps->size() > 1000);
  CHECK(maps->back() == '\n');
}
