// SPDX-License-Identifier: Apache-2.0
#include "host/writable.hpp"

#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using zt::host::SpaceInfo;
using zt::host::unwritable_reason;

TEST_CASE("unwritable_reason: read-only, no space, no inodes, fine", "[host][writable]") {
  CHECK(unwritable_reason(SpaceInfo{true, 1 << 30, 1000}, 4096, "/t/etc") ==
        "/t/etc: read-only file system; remount it read-write (mount -o remount,rw) and run again");
  CHECK(unwritable_reason(SpaceInfo{false, 4095, 1000}, 4096, "/t/etc") ==
        "/t/etc: no space left on the file system (4095 bytes free, about 4096 needed); free some space on "
        "that file system and run again");
  CHECK(unwritable_reason(SpaceInfo{false, 1 << 30, 7}, 4096, "/t/etc") ==
        "/t/etc: no free inodes left on the file system (7 free); delete some files on that file system and "
        "run again");
  CHECK_FALSE(unwritable_reason(SpaceInfo{false, 4096, 8}, 4096, "/t/etc"));
  CHECK_FALSE(unwritable_reason(SpaceInfo{false, 1 << 30, std::nullopt}, 4096, "/t/etc")); // btrfs: no count
}

TEST_CASE("ensure_writable: a writable directory passes and keeps no probe file", "[host][writable]") {
  zt::test::TempRoot root;
  root.mkdir("/etc");
  root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  zt::host::Fs fs(root.path());
  auto names = [&] {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(root.real("/etc"))) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto before = names();
  REQUIRE(zt::host::ensure_shadow_writable(fs));
  CHECK(names() == before); // the probe never had a name
  // A missing directory is left to the tool that needs it.
  CHECK(zt::host::ensure_writable(fs, "/nonexistent", 1));
}
