// SPDX-License-Identifier: Apache-2.0
// The path walkers behind Fs (host/fs_walk.hpp): the openat2 fast path and the component walk give
// the same answers and the same messages, with and without a pinned root fd; the fast path is the
// one taken when the kernel has openat2.
#include "host/fs.hpp"
#include "host/fs_walk.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

namespace detail = zt::host::detail;

/// Switches the fast path off for one scope.
class SlowWalk {
public:
  explicit SlowWalk(bool slow) { detail::disable_openat2_for_tests(slow); }
  ~SlowWalk() { detail::disable_openat2_for_tests(false); }
  SlowWalk(const SlowWalk&) = delete;
  SlowWalk& operator=(const SlowWalk&) = delete;
};

/// A tree with an in-root absolute symlink, a relative one that climbs above the root, and a
/// symlinked directory in the service user's home.
void plant(zt::test::TempRoot& root) {
  root.write("/usr/lib/os-release", "ID=debian\n");
  root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  root.write("/home/u/.config/real/file", "mine\n");
  std::filesystem::create_symlink("/usr/lib/os-release", root.real("/etc/os-release"));
  std::filesystem::create_symlink("../../../../../../../etc/passwd", root.real("/usr/lib/climb"));
  std::filesystem::create_symlink("/usr/lib", root.real("/etc/libdir"));
  std::filesystem::create_symlink("real", root.real("/home/u/.config/link"));
}

} // namespace

TEST_CASE("Fs walks: fast path and component walk agree", "[host][fs][walk]") {
  for (const bool slow : {false, true}) {
    for (const bool pinned : {false, true}) {
      DYNAMIC_SECTION((slow ? "component walk" : "openat2") << (pinned ? ", pinned root" : ", root by path")) {
        zt::test::TempRoot root;
        plant(root);
        zt::host::Fs fs(root.path());
        if (pinned) {
          REQUIRE(fs.pin_root());
        }
        SlowWalk mode(slow);

        // Followed inside the root, as a chroot would.
        CHECK(fs.read_file("/etc/os-release").value() == "ID=debian\n");
        CHECK(fs.read_file("/etc/libdir/os-release").value() == "ID=debian\n");
        CHECK(fs.read_file("/usr/lib/climb").value() == "root:x:0:0::/root:/bin/sh\n");
        CHECK(fs.stat("/etc/libdir/os-release").value().type == zt::host::FileType::regular);
        CHECK(fs.stat("/etc/libdir/missing").value().type == zt::host::FileType::missing);
        CHECK(fs.read_file("/etc/libdir/missing").error().code == zt::Errc::not_found);
        CHECK(fs.list_dir("/etc/libdir").value() == std::vector<std::string>{"climb", "os-release"});

        // Never followed on the no-follow side: the exact message names the symlink.
        auto through_link = fs.lstat("/home/u/.config/link/file");
        REQUIRE_FALSE(through_link);
        CHECK(through_link.error().code == zt::Errc::refused);
        CHECK(through_link.error().message ==
              "/home/u/.config/link/file: refusing to follow symlink at /home/u/.config/link");
        zt::host::UntrustedRead rules;
        auto untrusted = fs.read_untrusted("/home/u/.config/link/file", rules);
        REQUIRE_FALSE(untrusted);
        CHECK(untrusted.error().message ==
              "/home/u/.config/link/file: refusing to follow symlink at /home/u/.config/link");
        auto write = fs.write_file("/home/u/.config/link/new", "x", {});
        REQUIRE_FALSE(write);
        CHECK(write.error().message == "/home/u/.config/link/new: refusing to follow symlink at /home/u/.config/link");
        CHECK_FALSE(root.exists("/home/u/.config/real/new"));

        // The real directory itself is walked, and missing parents are "missing".
        CHECK(fs.read_untrusted("/home/u/.config/real/file", rules).value().content == "mine\n");
        CHECK(fs.lstat("/home/u/.config/real/file").value().type == zt::host::FileType::regular);
        CHECK(fs.lstat("/home/u/nothing/here").value().type == zt::host::FileType::missing);
        REQUIRE(fs.write_file("/home/u/.config/real/new", "x", {}));
        CHECK(root.read("/home/u/.config/real/new") == "x");
      }
    }
  }
}

TEST_CASE("Fs walks: the openat2 fast path answers when the kernel has it", "[host][fs][walk]") {
  zt::test::TempRoot root;
  plant(root);
  zt::host::Fs fs(root.path());
  const std::size_t before = detail::openat2_walks();
  REQUIRE(fs.lstat("/home/u/.config/real/file").value().type == zt::host::FileType::regular);
  REQUIRE(fs.read_file("/etc/libdir/os-release").value() == "ID=debian\n");
  const std::size_t fast = detail::openat2_walks() - before;
  // Kernels before 5.6 (and seccomp filters that deny openat2) take the component walk: then the
  // counter stays put, and the other test case has shown that answers are the same.
  if (fast == 0) {
    WARN("openat2 not available here: only the component walk was tested");
  } else {
    CHECK(fast == 2);
  }
  {
    SlowWalk off(true);
    const std::size_t at = detail::openat2_walks();
    REQUIRE(fs.lstat("/home/u/.config/real/file"));
    CHECK(detail::openat2_walks() == at);
  }
}

TEST_CASE("Fs::pin_root: a missing root is an error that names it", "[host][fs][walk]") {
  zt::host::Fs fs("/nonexistent-ztagent-root");
  auto pinned = fs.pin_root();
  REQUIRE_FALSE(pinned);
  CHECK(pinned.error().message.starts_with("/nonexistent-ztagent-root: cannot open the root directory: "));
}
