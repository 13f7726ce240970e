// SPDX-License-Identifier: Apache-2.0
#pragma once

// Before an external tool writes a directory, find out whether it can: shadow's useradd/usermod
// answer a read-only or full /etc with "cannot lock /etc/passwd; try again later" after about 14 s
// of retries, which names neither the cause nor the fix. ensure_writable() says what really stops
// the write (read-only file system, no space, no inodes, quota) in a few system calls.

#include "host/fs.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace zt::host {

/// What statvfs(2) says about the file system holding a directory.
struct SpaceInfo {
  bool read_only = false;
  std::uint64_t free_bytes = 0;               // f_bfree * f_frsize: what root may still use
  std::optional<std::uint64_t> free_inodes;   // nullopt when the file system does not count them
};

/// Why writing `need_bytes` (and a few new files) there would fail, or nullopt when it should
/// work. Pure, for table tests. `dir` names the directory in the message.
[[nodiscard]] std::optional<std::string>
unwritable_reason(const SpaceInfo& info, std::uint64_t need_bytes, std::string_view dir);

/// Checks the directory host_dir of `fs` before a tool writes there: fstatvfs on the directory
/// (opened with O_NOFOLLOW), then a probe write of `need_bytes` into an unnamed O_TMPFILE there
/// (nothing is ever linked into the directory; skipped where the file system lacks O_TMPFILE).
/// Errc::io "<real dir>: read-only file system ..." / "... no space left ..." / "... disk quota
/// exceeded ...", each saying what to do. A missing directory is not an error here.
[[nodiscard]] Result<void>
ensure_writable(Fs& fs, const std::filesystem::path& host_dir, std::uint64_t need_bytes);

/// ensure_writable(fs, "/etc", n) with n enough for shadow to rewrite its account files: twice the
/// size of passwd, group, shadow, gshadow, subuid and subgid (the new file and the "-" backup)
/// plus 64 KiB.
[[nodiscard]] Result<void> ensure_shadow_writable(Fs& fs);

} // namespace zt::host
