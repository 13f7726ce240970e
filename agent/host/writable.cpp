// SPDX-License-Identifier: Apache-2.0
#include "host/writable.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace zt::host {

namespace {

constexpr std::uint64_t k_min_inodes = 8; // shadow's lock file, the temp file, the backup, ...
constexpr std::uint64_t k_margin = 64 * 1024;

/// Closes an fd on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

std::string fix_for(int err) {
  switch (err) {
  case EROFS: return "read-only file system; remount it read-write (mount -o remount,rw) and run again";
  case ENOSPC: return "no space left on device; free some space on that file system and run again";
  case EDQUOT: return "disk quota exceeded; raise root's quota there or free some space and run again";
  default: return std::strerror(err);
  }
}

} // namespace

std::optional<std::string>
unwritable_reason(const SpaceInfo& info, std::uint64_t need_bytes, std::string_view dir) {
  const std::string where(dir);
  if (info.read_only) {
    return where + ": " + fix_for(EROFS);
  }
  if (info.free_bytes < need_bytes) {
    return where + ": no space left on the file system (" + std::to_string(info.free_bytes) +
           " bytes free, about " + std::to_string(need_bytes) +
           " needed); free some space on that file system and run again";
  }
  if (info.free_inodes && *info.free_inodes < k_min_inodes) {
    return where + ": no free inodes left on the file system (" + std::to_string(*info.free_inodes) +
           " free); delete some files on that file system and run again";
  }
  return std::nullopt;
}

Result<void> ensure_writable(Fs& fs, const std::filesystem::path& host_dir, std::uint64_t need_bytes) {
  const std::filesystem::path real = fs.real_path(host_dir);
  Fd dir(::open(real.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return {}; // nothing to probe; the tool that needs it says so itself
    }
    return make_error(Errc::io, real.string() + ": cannot open directory: " + std::strerror(err));
  }
  struct statvfs vfs {};
  if (::fstatvfs(dir.fd, &vfs) != 0) {
    return make_error(Errc::io, real.string() + ": statvfs: " + std::strerror(errno));
  }
  SpaceInfo info;
  info.read_only = (vfs.f_flag & ST_RDONLY) != 0;
  info.free_bytes = static_cast<std::uint64_t>(vfs.f_bfree) * static_cast<std::uint64_t>(vfs.f_frsize);
  if (vfs.f_files != 0) {
    info.free_inodes = static_cast<std::uint64_t>(vfs.f_ffree);
  }
  if (auto reason = unwritable_reason(info, need_bytes, real.string())) {
    return make_error(Errc::io, *reason);
  }
  // statvfs can look fine while a write still fails (quota, a bind mount made read-only, reserved
  // space): write the bytes for real into a file that never gets a name.
  Fd probe(::openat(dir.fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (probe.fd < 0) {
    const int err = errno;
    if (err == EOPNOTSUPP || err == EISDIR || err == EINVAL) {
      return {}; // no O_TMPFILE here: statvfs is all we can ask without leaving a file behind
    }
    return make_error(Errc::io, real.string() + ": " + fix_for(err));
  }
  std::array<char, 4096> zeros{};
  std::uint64_t left = need_bytes;
  while (left > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
    const ssize_t w = ::write(probe.fd, zeros.data(), n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return make_error(Errc::io, real.string() + ": " + fix_for(errno));
    }
    left -= static_cast<std::uint64_t>(w);
  }
  if (::fsync(probe.fd) != 0) {
    return make_error(Errc::io, real.string() + ": " + fix_for(errno));
  }
  return {};
}

Result<void> ensure_shadow_writable(Fs& fs) {
  std::uint64_t need = k_margin;
  for (const char* file : {"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid"}) {
    auto st = fs.lstat(file);
    if (st && st->type == FileType::regular) {
      need += 2 * st->size;
    }
  }
  return ensure_writable(fs, "/etc", need);
}

} // namespace zt::host
