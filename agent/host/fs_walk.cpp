// SPDX-License-Identifier: Apache-2.0
#include "host/fs_walk.hpp"

#include "util/strings.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace zt::host::detail {

namespace {

namespace fs = std::filesystem;

constexpr int k_max_symlink_hops = 40;

std::atomic<bool> g_openat2_off{false};
std::atomic<std::size_t> g_openat2_walks{0};

/// openat2(dir, rel, flags, resolve), or -1 with errno set. ENOSYS (kernel < 5.6) and EPERM (a
/// seccomp filter) switch the fast path off for the rest of the process.
int open_how(int dir, const std::string& rel, std::uint64_t flags, std::uint64_t resolve) {
  if (g_openat2_off.load(std::memory_order_relaxed)) {
    errno = ENOSYS;
    return -1;
  }
  struct open_how how {};
  how.flags = flags;
  how.resolve = resolve;
  const long fd = ::syscall(SYS_openat2, dir, rel.c_str(), &how, sizeof how);
  if (fd < 0) {
    if (errno == ENOSYS || errno == EPERM) {
      g_openat2_off.store(true, std::memory_order_relaxed);
    }
    return -1;
  }
  g_openat2_walks.fetch_add(1, std::memory_order_relaxed);
  return static_cast<int>(fd);
}

/// comps[0..count) joined by "/" (relative to the root).
std::string relative_prefix(const std::vector<std::string>& comps, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) {
      out += '/';
    }
    out += comps[i];
  }
  return out;
}

/// The parent of comps' last component through one openat2 call, or nothing (then the caller walks).
std::optional<DirFd> fast_parent(int root, const std::vector<std::string>& comps, std::uint64_t resolve) {
  if (comps.size() < 2) {
    return std::nullopt;  // the parent is the root itself: nothing to walk
  }
  const int fd = open_how(root, relative_prefix(comps, comps.size() - 1),
                          O_PATH | O_DIRECTORY | O_CLOEXEC, resolve);
  if (fd < 0) {
    return std::nullopt;
  }
  return DirFd(UniqueFd(fd));
}

} // namespace

Error sys_error(const fs::path& host_path, int err) {
  const Errc code = (err == ENOENT || err == ENOTDIR) ? Errc::not_found : Errc::io;
  return Error{code, host_path.string() + ": " + std::strerror(err)};
}

std::unexpected<Error> refuse_symlink(const fs::path& host_path, const std::string& link_host_path) {
  return make_error(Errc::refused, host_path.string() + ": refusing to follow symlink at " + link_host_path);
}

std::vector<std::string> components(const fs::path& host_path) {
  std::vector<std::string> out;
  for (const fs::path& part : host_path.lexically_normal().relative_path()) {
    std::string s = part.string();
    if (s.empty() || s == "." || s == "..") {
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string host_prefix(const std::vector<std::string>& comps, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += '/';
    out += comps[i];
  }
  return out.empty() ? "/" : out;
}

Result<UniqueFd> open_root_fd(const fs::path& root) {
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    return make_error(Errc::io, root.string() + ": cannot open the root directory: " + std::strerror(err));
  }
  return fd;
}

Result<DirFd> open_root(const RootRef& root) {
  if (root.pinned_fd >= 0) {
    return DirFd::borrow(root.pinned_fd);
  }
  ZT_TRY_ASSIGN(fd, open_root_fd(root.path));
  return DirFd(std::move(fd));
}

Result<UniqueFd> open_dir_nofollow(int parent, const std::string& comp, const fs::path& host_path,
                                   const std::string& comp_host_path) {
  UniqueFd fd(::openat(parent, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd) {
    return fd;
  }
  const int err = errno;
  if (err == ELOOP || err == ENOTDIR) {
    struct stat st {};
    if (::fstatat(parent, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      return refuse_symlink(host_path, comp_host_path);
    }
  }
  return std::unexpected(sys_error(host_path, err));
}

Result<Walked> walk_parent(const RootRef& root, const fs::path& host_path) {
  const std::vector<std::string> comps = components(host_path);
  ZT_TRY_ASSIGN(cur, open_root(root));
  // RESOLVE_NO_SYMLINKS refuses a symlink in any component, as the loop below does; RESOLVE_BENEATH
  // keeps the walk under the root (the components hold no "..").
  if (auto dir = fast_parent(cur.get(), comps, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)) {
    return Walked{std::move(*dir), comps.back()};
  }
  for (std::size_t i = 0; i + 1 < comps.size(); ++i) {
    ZT_TRY_ASSIGN(next, open_dir_nofollow(cur.get(), comps[i], host_path, host_prefix(comps, i + 1)));
    cur = DirFd(std::move(next));
  }
  return Walked{std::move(cur), comps.empty() ? std::string() : comps.back()};
}

Result<Walked> resolve_in_root(const RootRef& root, const fs::path& host_path) {
  std::vector<DirFd> dirs;
  {
    ZT_TRY_ASSIGN(root_fd, open_root(root));
    dirs.push_back(std::move(root_fd));
  }
  std::vector<std::string> comps = components(host_path);
  // RESOLVE_IN_ROOT follows symlinks among the parents as a chroot at the root would, like the loop
  // below. The last component is checked here: a symlink there goes to the loop, which follows it.
  if (auto dir = fast_parent(dirs.front().get(), comps, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)) {
    struct stat st {};
    const int rc = ::fstatat(dir->get(), comps.back().c_str(), &st, AT_SYMLINK_NOFOLLOW);
    if ((rc == 0 && !S_ISLNK(st.st_mode)) || (rc != 0 && errno == ENOENT)) {
      return Walked{std::move(*dir), std::move(comps.back())};
    }
  }
  std::deque<std::string> todo;
  for (std::string& comp : comps) {
    todo.push_back(std::move(comp));
  }
  int hops = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp.empty() || comp == ".") {
      continue;
    }
    if (comp == "..") {
      if (dirs.size() > 1) {
        dirs.pop_back();
      }
      continue;
    }
    const int dir = dirs.back().get();
    struct stat st {};
    if (::fstatat(dir, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      if (err == ENOENT && todo.empty()) {
        return Walked{std::move(dirs.back()), std::move(comp)};
      }
      return std::unexpected(sys_error(host_path, err));
    }
    if (S_ISLNK(st.st_mode)) {
      if (++hops > k_max_symlink_hops) {
        return make_error(Errc::io, host_path.string() + ": too many levels of symbolic links");
      }
      std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
      const ssize_t n = ::readlinkat(dir, comp.c_str(), target.data(), target.size());
      if (n < 0) {
        return std::unexpected(sys_error(host_path, errno));
      }
      if (static_cast<std::size_t>(n) >= target.size()) {
        return make_error(Errc::io, host_path.string() + ": symlink changed while being read; try again");
      }
      target.resize(static_cast<std::size_t>(n));
      if (!target.empty() && target.front() == '/') {
        dirs.resize(1);
      }
      const std::vector<std::string_view> parts = util::split(target, '/');
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        todo.emplace_front(*it);
      }
      continue;
    }
    if (todo.empty()) {
      return Walked{std::move(dirs.back()), std::move(comp)};
    }
    if (!S_ISDIR(st.st_mode)) {
      return std::unexpected(sys_error(host_path, ENOTDIR));
    }
    UniqueFd next(::openat(dir, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      return std::unexpected(sys_error(host_path, errno));
    }
    dirs.emplace_back(std::move(next));
  }
  return Walked{std::move(dirs.back()), std::string()};
}

void disable_openat2_for_tests(bool disabled) {
  g_openat2_off.store(disabled, std::memory_order_relaxed);
}

std::size_t openat2_walks() {
  return g_openat2_walks.load(std::memory_order_relaxed);
}

} // namespace zt::host::detail
