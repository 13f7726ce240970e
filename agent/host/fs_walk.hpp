// SPDX-License-Identifier: Apache-2.0
#pragma once

// The path walkers behind Fs (internal to agent/host): how a host path becomes a directory fd and a
// last name, never leaving the root.
//
// walk_parent(): the parent directory of a path, no symlink followed anywhere (the data tree and
// the service user's home are writable by an unprivileged user; ztagent runs as root).
// resolve_in_root(): the parent of the object a path names when symlinks are followed like a chroot
// at the root would (absolute targets re-rooted, ".." stopping at the root); the last name is never
// a symlink.
//
// Fast path: one openat2(2) for the whole parent (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or
// RESOLVE_IN_ROOT), where the kernel does the walk the component loop would do. Any failure of the
// fast path (ELOOP for a symlink, ENOENT, a kernel older than 5.6, a seccomp filter that denies the
// call) falls back to the component-by-component walk, which gives the exact message ("refusing to
// follow symlink at /home/u/.config"). So the fast path only ever answers when the slow one would
// have answered the same; it saves the open/close of every intermediate directory.
//
// RootRef: the root's path and, when Fs::pin_root() opened it once for the run, its fd (borrowed:
// not closed by the walkers). Without a pinned fd every walk opens the root again.

#include "host/atomic_file.hpp"
#include "util/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace zt::host::detail {

/// A directory fd the walkers hand out: owned (closed on destruction) or the pinned root (borrowed).
class DirFd {
public:
  DirFd() = default;
  explicit DirFd(UniqueFd owned) : m_owned(std::move(owned)), m_fd(m_owned.get()) {}
  [[nodiscard]] static DirFd borrow(int fd) {
    DirFd d;
    d.m_fd = fd;
    return d;
  }
  [[nodiscard]] int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }

private:
  UniqueFd m_owned;
  int m_fd = -1;
};

struct RootRef {
  const std::filesystem::path& path;
  int pinned_fd = -1;  // -1: open `path` for every walk
};

/// The parent directory of host_path and the last component's name; name is empty for "/" itself
/// (then dir is the root).
struct Walked {
  DirFd dir;
  std::string name;
};

/// "<host_path>: <strerror>"; Errc::not_found for ENOENT/ENOTDIR, Errc::io otherwise.
[[nodiscard]] Error sys_error(const std::filesystem::path& host_path, int err);
/// Errc::refused "<host_path>: refusing to follow symlink at <link_host_path>".
[[nodiscard]] std::unexpected<Error> refuse_symlink(const std::filesystem::path& host_path,
                                                    const std::string& link_host_path);
/// Path components of an absolute host path, after lexical normalization ("/a/./b/../c" -> a, c).
[[nodiscard]] std::vector<std::string> components(const std::filesystem::path& host_path);
/// "/" + comps[0..count) joined ("/" for none).
[[nodiscard]] std::string host_prefix(const std::vector<std::string>& comps, std::size_t count);

[[nodiscard]] Result<DirFd> open_root(const RootRef& root);
/// Opens the root once (O_PATH|O_DIRECTORY) for Fs::pin_root().
[[nodiscard]] Result<UniqueFd> open_root_fd(const std::filesystem::path& root);
/// Opens directory `comp` in `parent` without following a symlink (O_PATH: no read permission
/// needed, usable as the dirfd of *at calls); a symlink there is refused as comp_host_path.
[[nodiscard]] Result<UniqueFd> open_dir_nofollow(int parent, const std::string& comp,
                                                 const std::filesystem::path& host_path,
                                                 const std::string& comp_host_path);
[[nodiscard]] Result<Walked> walk_parent(const RootRef& root, const std::filesystem::path& host_path);
[[nodiscard]] Result<Walked> resolve_in_root(const RootRef& root, const std::filesystem::path& host_path);

/// Tests: switch the openat2 fast path off (true) to exercise the component walk, or on again.
void disable_openat2_for_tests(bool disabled);
/// How many walks the fast path answered since the process started (tests and bench).
[[nodiscard]] std::size_t openat2_walks();

} // namespace zt::host::detail
