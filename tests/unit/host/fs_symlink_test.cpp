// SPDX-License-Identifier: Apache-2.0
// Fs::make_symlink and Fs::read_link: created with the owner on the link itself, only symlinks are
// ever replaced, no symlink in the path is followed.
#include "host/fs.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

TEST_CASE("Fs::make_symlink creates, replaces and owns a symlink", "[host][fs][symlink]") {
  zt::test::TempRoot root;
  root.mkdir("/home/u/.config/systemd/user/default.target.wants");
  zt::host::Fs fs(root.path());
  const std::string link = "/home/u/.config/systemd/user/default.target.wants/x.service";

  REQUIRE(fs.make_symlink(link, "../x.service", 1234, 1235));
  auto st = fs.lstat(link);
  REQUIRE(st);
  CHECK(st->type == zt::host::FileType::symlink);
  if (::geteuid() == 0) {
    CHECK(st->uid == 1234);
    CHECK(st->gid == 1235);
  }
  auto target = fs.read_link(link);
  REQUIRE(target);
  CHECK(*target == "../x.service");

  REQUIRE(fs.make_symlink(link, "/usr/lib/systemd/user/x.service", 1234, 1235));
  target = fs.read_link(link);
  REQUIRE(target);
  CHECK(*target == "/usr/lib/systemd/user/x.service");
  // No temporary links left behind.
  auto names = fs.list_dir("/home/u/.config/systemd/user/default.target.wants");
  REQUIRE(names);
  CHECK(*names == std::vector<std::string>{"x.service"});
}

TEST_CASE("Fs::make_symlink refuses to replace anything but a symlink", "[host][fs][symlink]") {
  zt::test::TempRoot root;
  zt::host::Fs fs(root.path());
  root.write("/d/file", "keep");
  root.mkdir("/d/dir");

  auto over_file = fs.make_symlink("/d/file", "/etc/passwd", 0, 0);
  REQUIRE_FALSE(over_file);
  CHECK(over_file.error().code == zt::Errc::refused);
  CHECK(over_file.error().message == "/d/file: is a regular file; refusing to replace it with a symlink");
  CHECK(root.read("/d/file") == "keep");

  auto over_dir = fs.make_symlink("/d/dir", "/etc", 0, 0);
  REQUIRE_FALSE(over_dir);
  CHECK(over_dir.error().message == "/d/dir: is a directory; refusing to replace it with a symlink");

  auto no_parent = fs.make_symlink("/missing/x", "/etc", 0, 0);
  REQUIRE_FALSE(no_parent);
  CHECK(no_parent.error().code == zt::Errc::not_found);
}

TEST_CASE("Fs::make_symlink and read_link never follow a symlink in the path", "[host][fs][symlink]") {
  zt::test::TempRoot root;
  root.mkdir("/elsewhere");
  root.mkdir("/home/u");
  std::filesystem::create_directory_symlink(root.real("/elsewhere"), root.real("/home/u/.config"));
  zt::host::Fs fs(root.path());

  auto made = fs.make_symlink("/home/u/.config/x", "/etc", 0, 0);
  REQUIRE_FALSE(made);
  CHECK(made.error().code == zt::Errc::refused);
  CHECK(made.error().message == "/home/u/.config/x: refusing to follow symlink at /home/u/.config");
  CHECK_FALSE(root.exists("/elsewhere/x"));

  auto read = fs.read_link("/home/u/.config/x");
  REQUIRE_FALSE(read);
  CHECK(read.error().code == zt::Errc::refused);
}

TEST_CASE("Fs::read_link names what is not a symlink", "[host][fs][symlink]") {
  zt::test::TempRoot root;
  root.write("/f", "x");
  zt::host::Fs fs(root.path());
  auto regular = fs.read_link("/f");
  REQUIRE_FALSE(regular);
  CHECK(regular.error().code == zt::Errc::io);
  CHECK(regular.error().message == "/f: not a symlink");
  auto missing = fs.read_link("/nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == zt::Errc::not_found);
}
