// SPDX-License-Identifier: Apache-2.0
// Fs against a hostile owner of the tree (issue 13, items 1-6 and 15): each test plants the attack
// (FIFO, device symlink, hard link, oversized file, leftover temp file) and asserts that nothing
// outside was read or changed and that no call blocked (every blocking risk runs on a thread with
// a deadline, and the test unblocks it itself if the deadline passes).
#include "host/atomic_file.hpp"
#include "host/fs.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using zt::Errc;
using zt::host::FileType;
using zt::host::Fs;
using zt::host::UntrustedRead;

namespace {

constexpr auto k_deadline = std::chrono::seconds(5);

/// Runs `fn` on a thread; if it has not returned within k_deadline, opens `fifo` for writing
/// (which releases a reader blocked in open or read) and fails the test.
template <typename F> auto bounded(F fn, const std::filesystem::path& fifo) {
  auto future = std::async(std::launch::async, fn);
  if (future.wait_for(k_deadline) != std::future_status::ready) {
    FAIL_CHECK("blocked for more than 5 s on " << fifo);
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      ::close(fd);
    }
  }
  return future.get();
}

} // namespace

TEST_CASE("Fs::read_untrusted: a FIFO is reported by type at once, never opened for reading",
          "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.mkdir("/home/u");
  REQUIRE(::mkfifo(root.real("/home/u/env").c_str(), 0600) == 0);
  Fs fs(root.path());
  auto got = bounded([&] { return fs.read_untrusted("/home/u/env", UntrustedRead{}); }, root.real("/home/u/env"));
  REQUIRE(got);
  CHECK(got->st.type == FileType::fifo);
  CHECK(got->content.empty());
}

TEST_CASE("Fs::read_file: a FIFO is refused at once (configs, profiles, os-release)", "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.mkdir("/etc");
  REQUIRE(::mkfifo(root.real("/etc/os-release").c_str(), 0644) == 0);
  Fs fs(root.path());
  auto got = bounded([&] { return fs.read_file("/etc/os-release", zt::host::k_max_config_bytes); },
                     root.real("/etc/os-release"));
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Errc::refused);
  CHECK(got.error().message == "/etc/os-release: is a fifo, not a regular file");

  // Live (root "/"): the path as given on the command line, e.g. -c FIFO.
  Fs live("/");
  auto direct = bounded([&] { return live.read_file(root.real("/etc/os-release"), zt::host::k_max_config_bytes); },
                        root.real("/etc/os-release"));
  REQUIRE_FALSE(direct);
  CHECK(direct.error().message == root.real("/etc/os-release").string() + ": is a fifo, not a regular file");
}

TEST_CASE("Fs: /dev/zero is never read without bound", "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.mkdir("/home/u");
  std::filesystem::create_symlink("/dev/zero", root.real("/home/u/env"));
  std::filesystem::create_symlink("/dev/zero", root.real("/home/u/os-release"));
  Fs fs(root.path());

  auto untrusted = fs.read_untrusted("/home/u/env", UntrustedRead{});
  REQUIRE(untrusted);
  CHECK(untrusted->st.type == FileType::symlink); // the link itself: never followed
  CHECK(untrusted->content.empty());

  // read_file follows links inside the root: /dev/zero of the tree does not exist here.
  auto in_tree = fs.read_file("/home/u/os-release");
  REQUIRE_FALSE(in_tree);
  CHECK(in_tree.error().code == Errc::not_found);

  Fs live("/");
  auto device = live.read_file("/dev/zero", zt::host::k_max_config_bytes); // -c /dev/zero
  REQUIRE_FALSE(device);
  CHECK(device.error().code == Errc::refused);
  CHECK(device.error().message == "/dev/zero: is a character device, not a regular file");
  auto via_link = live.read_file(root.real("/home/u/os-release"), zt::host::k_max_config_bytes);
  REQUIRE_FALSE(via_link);
  CHECK(via_link.error().message == root.real("/home/u/os-release").string() +
                                        ": is a character device, not a regular file");
}

TEST_CASE("Fs: reads are capped: 'FILE: larger than N bytes'", "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.write("/etc/ztagent/ztagent.toml", std::string(1025, 'x'));
  root.write("/home/u/env", std::string(1025, 'x'));
  root.write("/home/u/exact", std::string(1024, 'x'));
  Fs fs(root.path());
  auto big = fs.read_file("/etc/ztagent/ztagent.toml", 1024);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Errc::refused);
  CHECK(big.error().message == "/etc/ztagent/ztagent.toml: larger than 1024 bytes");
  auto untrusted = fs.read_untrusted("/home/u/env", UntrustedRead{.max_bytes = 1024, .owners = {}});
  REQUIRE_FALSE(untrusted);
  CHECK(untrusted.error().message == "/home/u/env: larger than 1024 bytes");
  auto exact = fs.read_untrusted("/home/u/exact", UntrustedRead{.max_bytes = 1024, .owners = {}});
  REQUIRE(exact);
  CHECK(exact->content.size() == 1024);
}

TEST_CASE("Fs::read_untrusted: a hard link to another file is refused, its bytes never returned",
          "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.write("/etc/decoy-shadow", "POSTGRES_PASSWORD=root-only-decoy\n");
  root.mkdir("/home/u");
  std::filesystem::create_hard_link(root.real("/etc/decoy-shadow"), root.real("/home/u/env"));
  Fs fs(root.path());
  auto got = fs.read_untrusted("/home/u/env", UntrustedRead{});
  REQUIRE_FALSE(got);
  CHECK(got.error().code == Errc::refused);
  CHECK(got.error().message.starts_with("/home/u/env: has 2 hard links; refusing"));
  CHECK(got.error().message.find("root-only-decoy") == std::string::npos);
}

TEST_CASE("Fs: chown/chmod/ACL of a hard-linked file are refused (protected_hardlinks=0 attack)",
          "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.write("/etc/decoy-shadow", "secret\n");
  REQUIRE(::chmod(root.real("/etc/decoy-shadow").c_str(), 0640) == 0);
  root.mkdir("/home/u");
  std::filesystem::create_hard_link(root.real("/etc/decoy-shadow"), root.real("/home/u/env"));
  Fs fs(root.path());
  struct stat before {};
  REQUIRE(::stat(root.real("/etc/decoy-shadow").c_str(), &before) == 0);

  auto owner = fs.set_owner("/home/u/env", 999, 999);
  REQUIRE_FALSE(owner);
  CHECK(owner.error().code == Errc::refused);
  auto mode = fs.set_mode("/home/u/env", 0600);
  REQUIRE_FALSE(mode);
  CHECK(mode.error().code == Errc::refused);

  struct stat after {};
  REQUIRE(::stat(root.real("/etc/decoy-shadow").c_str(), &after) == 0);
  CHECK(after.st_uid == before.st_uid);
  CHECK(after.st_gid == before.st_gid);
  CHECK((after.st_mode & 07777) == 0640);
}

TEST_CASE("Fs::read_untrusted: symlinked parents are refused, owners are checked", "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.write("/etc/decoy/env", "X=root-only\n");
  root.mkdir("/home/u");
  std::filesystem::create_symlink(root.real("/etc/decoy"), root.real("/home/u/secrets"));
  Fs fs(root.path());
  auto via_parent = fs.read_untrusted("/home/u/secrets/env", UntrustedRead{});
  REQUIRE_FALSE(via_parent);
  CHECK(via_parent.error().code == Errc::refused);
  CHECK(via_parent.error().message == "/home/u/secrets/env: refusing to follow symlink at /home/u/secrets");

  root.write("/home/u/mine", "A=1\n");
  auto missing = fs.read_untrusted("/home/u/none", UntrustedRead{});
  REQUIRE(missing);
  CHECK(missing->st.type == FileType::missing);
  auto missing_parent = fs.read_untrusted("/home/u/none/env", UntrustedRead{});
  REQUIRE(missing_parent);
  CHECK(missing_parent->st.type == FileType::missing);
  // Owned by us (the uid ztagent runs as) is always accepted; otherwise only the listed owners.
  auto ours = fs.read_untrusted("/home/u/mine", UntrustedRead{.max_bytes = 100, .owners = {12345}});
  REQUIRE(ours);
  CHECK(ours->content == "A=1\n");
  if (::geteuid() == 0) {
    REQUIRE(::chown(root.real("/home/u/mine").c_str(), 4242, 4242) == 0);
    auto foreign = fs.read_untrusted("/home/u/mine", UntrustedRead{.max_bytes = 100, .owners = {12345}});
    REQUIRE_FALSE(foreign);
    CHECK(foreign.error().message ==
          "/home/u/mine: owned by uid 4242, not by uid 12345; refusing to read it (remove it and run again)");
    auto listed = fs.read_untrusted("/home/u/mine", UntrustedRead{.max_bytes = 100, .owners = {4242}});
    REQUIRE(listed);
  }
}

TEST_CASE("Fs::write_file removes the leftovers of interrupted writes of the same name",
          "[host][fs][hostile]") {
  zt::test::TempRoot root;
  root.write("/home/u/app.env", "old\n");
  root.write("/home/u/.app.env.ztagent-AbC123", "A=copy of the secrets\n"); // killed write
  root.write("/home/u/.app.env.ztagent-1234-7", "");                         // killed make_symlink
  root.write("/home/u/.other.env.ztagent-XyZ789", "B=2\n");                  // another file's
  root.write("/home/u/.app.env.ztagent-not!ours", "");                      // not our pattern
  root.mkdir("/home/u/.app.env.ztagent-dir000");                             // a directory: kept
  Fs fs(root.path());

  auto before = fs.list_leftovers("/home/u");
  REQUIRE(before);
  CHECK(*before == std::vector<std::string>{".app.env.ztagent-1234-7", ".app.env.ztagent-AbC123",
                                            ".other.env.ztagent-XyZ789"});

  REQUIRE(fs.write_file("/home/u/app.env", "new\n", zt::host::WriteSpec{}));
  CHECK(root.read("/home/u/app.env") == "new\n");
  CHECK_FALSE(root.exists("/home/u/.app.env.ztagent-AbC123"));
  CHECK_FALSE(root.exists("/home/u/.app.env.ztagent-1234-7"));
  CHECK(root.exists("/home/u/.other.env.ztagent-XyZ789"));
  CHECK(root.exists("/home/u/.app.env.ztagent-not!ours"));
  CHECK(root.exists("/home/u/.app.env.ztagent-dir000"));

  // A leftover that is a symlink is unlinked itself, never its target.
  root.write("/etc/keep", "root file\n");
  std::filesystem::create_symlink(root.real("/etc/keep"), root.real("/home/u/.app.env.ztagent-LnK000"));
  REQUIRE(fs.write_file("/home/u/app.env", "newer\n", zt::host::WriteSpec{}));
  CHECK_FALSE(std::filesystem::is_symlink(root.real("/home/u/.app.env.ztagent-LnK000")));
  CHECK(root.read("/etc/keep") == "root file\n");
}

TEST_CASE("is_temp_name: the names AtomicFile and make_symlink use, nothing else", "[host][atomic_file]") {
  CHECK(zt::host::is_temp_name(".a.ztagent-AbC123"));
  CHECK(zt::host::is_temp_name(".ztnet-pod.service.ztagent-4242-17"));
  CHECK_FALSE(zt::host::is_temp_name("a.ztagent-AbC123"));
  CHECK_FALSE(zt::host::is_temp_name(".a.ztagent-"));
  CHECK_FALSE(zt::host::is_temp_name(".a.ztagent-x/y"));
  CHECK_FALSE(zt::host::is_temp_name(".ztagent-AbC123"));
  CHECK_FALSE(zt::host::is_temp_name(".a.ztagent-" + std::string(41, 'a')));
  CHECK(zt::host::temp_prefix("ztnet.env") == ".ztnet.env.ztagent-");
}
