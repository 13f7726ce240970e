// SPDX-License-Identifier: Apache-2.0
#include "host/fs.hpp"

#include "host/atomic_file.hpp"
#include "host/fs_walk.hpp"
#include "util/assert.hpp"
#include "util/strings.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>

namespace zt::host {

namespace {

namespace fs = std::filesystem;
using detail::DirFd;
using detail::RootRef;
using detail::Walked;
using detail::components;
using detail::host_prefix;
using detail::open_dir_nofollow;
using detail::open_root;
using detail::refuse_symlink;
using detail::resolve_in_root;
using detail::sys_error;
using detail::walk_parent;

Error sys_error(const fs::path& host_path, std::string_view what, int err) {
  const Errc code = (err == ENOENT || err == ENOTDIR) ? Errc::not_found : Errc::io;
  return Error{code, host_path.string() + ": " + std::string(what) + ": " + std::strerror(err)};
}

FileType file_type(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG:
    return FileType::regular;
  case S_IFDIR:
    return FileType::directory;
  case S_IFLNK:
    return FileType::symlink;
  case S_IFCHR:
    return FileType::char_device;
  case S_IFBLK:
    return FileType::block_device;
  case S_IFIFO:
    return FileType::fifo;
  case S_IFSOCK:
    return FileType::socket;
  default:
    return FileType::missing;
  }
}

std::string_view type_name(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG:
    return "regular file";
  case S_IFDIR:
    return "directory";
  case S_IFLNK:
    return "symlink";
  case S_IFCHR:
    return "character device";
  case S_IFBLK:
    return "block device";
  case S_IFIFO:
    return "fifo";
  case S_IFSOCK:
    return "socket";
  default:
    return "special file";
  }
}

FileStat to_file_stat(const struct stat& st) {
  FileStat out;
  out.type = file_type(st.st_mode);
  out.mode = static_cast<std::uint32_t>(st.st_mode & 07777);
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    out.rdev_major = major(st.st_rdev);
    out.rdev_minor = minor(st.st_rdev);
  }
  return out;
}

/// The final object of host_path, never following symlinks. Access::path gives an O_PATH fd to
/// anything but a symlink; Access::read reopens a directory (O_RDONLY|O_DIRECTORY) or regular file
/// (O_RDONLY) so fchmod/fchown/acl_*_fd work, and refuses other types.
enum class Access { path, read };
/// Links::single refuses a regular file with more than one hard link (for calls that change it).
enum class Links { any, single };

struct Target {
  UniqueFd fd;
  struct stat st {};
};

Error too_many_links(const fs::path& host_path, nlink_t links) {
  return Error{Errc::refused, host_path.string() + ": has " + std::to_string(links) +
                                  " hard links; refusing to touch a file that is also another file (remove " +
                                  "this name and run again)"};
}

Result<Target> open_target(const RootRef& root, const fs::path& host_path, Access access,
                           Links links = Links::any) {
  ZT_TRY_ASSIGN(walked, walk_parent(root, host_path));
  const char* name = walked.name.empty() ? "." : walked.name.c_str();
  Target target;
  target.fd = UniqueFd(::openat(walked.dir.get(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target.fd || ::fstat(target.fd.get(), &target.st) != 0) {
    return std::unexpected(sys_error(host_path, errno));
  }
  if (S_ISLNK(target.st.st_mode)) {
    return refuse_symlink(host_path, host_path.lexically_normal().string());
  }
  if (access == Access::path) {
    return target;
  }
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (S_ISDIR(target.st.st_mode)) {
    flags |= O_DIRECTORY;
  } else if (!S_ISREG(target.st.st_mode)) {
    return make_error(Errc::refused, host_path.string() + ": is a " + std::string(type_name(target.st.st_mode)) +
                                         "; only regular files and directories are supported");
  }
  UniqueFd fd(::openat(walked.dir.get(), name, flags));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    if (err == ELOOP) {
      return refuse_symlink(host_path, host_path.lexically_normal().string());
    }
    return std::unexpected(sys_error(host_path, err));
  }
  if (st.st_dev != target.st.st_dev || st.st_ino != target.st.st_ino) {
    return make_error(Errc::io, host_path.string() + ": changed while being opened; try again");
  }
  if (links == Links::single && S_ISREG(st.st_mode) && st.st_nlink > 1) {
    return std::unexpected(too_many_links(host_path, st.st_nlink));
  }
  target.fd = std::move(fd);
  target.st = st;
  return target;
}

Error larger_than(const fs::path& host_path, std::uint64_t max_bytes) {
  return Error{Errc::refused, host_path.string() + ": larger than " + std::to_string(max_bytes) + " bytes"};
}

Error not_regular(const fs::path& host_path, mode_t mode) {
  return Error{Errc::refused, host_path.string() + ": is a " + std::string(type_name(mode)) + ", not a regular file"};
}

/// Reads at most max_bytes from fd; one byte more is Errc::refused "PATH: larger than N bytes".
Result<std::string> read_bounded(int fd, const struct stat& st, const fs::path& host_path, std::uint64_t max_bytes) {
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return std::unexpected(larger_than(host_path, max_bytes));
  }
  // Read straight into the string (sized from fstat, grown if the file grows): no bounce buffer, so
  // the bytes are copied once, from the page cache. Files that report size 0 (/proc, /sys) get a
  // 64 KiB first read: a sysctl file answers only its first read (a 1-byte read of "1024" gives "1",
  // then end of file).
  // resize_and_overwrite: the string grows without zero-filling what read() overwrites anyway.
  constexpr std::uint64_t k_unsized_first_read = 64 * 1024;
  const std::uint64_t first = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) + 1 : k_unsized_first_read;
  std::string out;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(first, max_bytes + 1));
  int read_errno = 0;
  bool at_end = false;
  while (!at_end) {
    const std::size_t kept = out.size();  // op must not touch `out`; [0, kept) is kept
    out.resize_and_overwrite(want, [&](char* buf, std::size_t size) {
      std::size_t have = kept;
      while (have < size) {
        const ssize_t n = ::read(fd, buf + have, size - have);
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          read_errno = errno;
          at_end = true;
          break;
        }
        if (n == 0) {
          at_end = true;
          break;
        }
        have += static_cast<std::size_t>(n);
      }
      return have;
    });
    if (read_errno != 0) {
      return std::unexpected(sys_error(host_path, read_errno));
    }
    if (out.size() > max_bytes) {
      return std::unexpected(larger_than(host_path, max_bytes));
    }
    want = static_cast<std::size_t>(std::min<std::uint64_t>(std::uint64_t{out.size()} * 2, max_bytes + 1));
  }
  if (st.st_size == 0) {
    out.shrink_to_fit();  // do not keep 64 KiB for a 5-byte sysctl value
  }
  return out;
}

/// Opens `name` in `dir` for reading after an O_PATH open and fstat showed a regular file: the
/// second open (O_NOFOLLOW|O_NONBLOCK, so a FIFO swapped in cannot block) must reach the same inode.
Result<UniqueFd> reopen_for_read(int dir, const char* name, const struct stat& seen, const fs::path& host_path,
                                 int follow_flags) {
  UniqueFd fd(::openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | follow_flags));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    if (err == ELOOP) {
      return make_error(Errc::io, host_path.string() + ": changed while being opened; try again");
    }
    return std::unexpected(sys_error(host_path, err));
  }
  if (st.st_dev != seen.st_dev || st.st_ino != seen.st_ino) {
    return make_error(Errc::io, host_path.string() + ": changed while being opened; try again");
  }
  return fd;
}

/// The object at host_path seen through an O_PATH|O_NOFOLLOW fd (never a symlink's target), with
/// the parent it was found in: nullopt when it or a parent is missing, Errc::refused for a symlink
/// among the parents.
struct Looked {
  Walked walked;
  struct stat st {};
  [[nodiscard]] const char* name() const { return walked.name.empty() ? "." : walked.name.c_str(); }
};

Result<std::optional<Looked>> look_nofollow(const RootRef& root, const fs::path& host_path) {
  auto walked = walk_parent(root, host_path);
  if (!walked) {
    if (walked.error().code == Errc::not_found) {
      return std::optional<Looked>();
    }
    return std::unexpected(std::move(walked).error());
  }
  Looked looked{std::move(*walked), {}};
  UniqueFd path_fd(::openat(looked.walked.dir.get(), looked.name(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!path_fd || ::fstat(path_fd.get(), &looked.st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return std::optional<Looked>();
    }
    return std::unexpected(sys_error(host_path, err));
  }
  return std::optional<Looked>(std::move(looked));
}

Result<std::vector<std::string>> read_dir_fd(UniqueFd fd, const fs::path& host_path) {
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) {
    return std::unexpected(sys_error(host_path, errno));
  }
  fd.release();
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) {
    return std::unexpected(sys_error(host_path, err));
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Removes ".NAME.ztagent-*" temp files (or temp symlinks) that an interrupted write of NAME left
/// in `dir` (O_PATH fd from the no-follow walk). unlinkat never follows a symlink; directories and
/// other types are left alone. Failures are logged, not fatal: the write itself decides.
void sweep_leftovers(int dir, const std::string& name, const fs::path& host_path) {
  UniqueFd list(::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!list) {
    return;
  }
  auto names = read_dir_fd(std::move(list), host_path.parent_path());
  if (!names) {
    return;
  }
  const std::string prefix = temp_prefix(name);
  for (const auto& entry : *names) {
    if (!entry.starts_with(prefix) || !is_temp_name(entry)) {
      continue;
    }
    struct stat st {};
    if (::fstatat(dir, entry.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
      continue;
    }
    if (::unlinkat(dir, entry.c_str(), 0) == 0) {
      spdlog::info("fs: removed {}, left over by an interrupted write of {}",
                   (host_path.parent_path() / entry).string(), host_path.string());
    } else {
      spdlog::warn("fs: cannot remove leftover {}: {}", (host_path.parent_path() / entry).string(),
                   std::strerror(errno));
    }
  }
}

} // namespace

Fs::Fs(std::filesystem::path root) {
  ZT_ASSERT(root.is_absolute());
  root = root.lexically_normal();
  if (root != root.root_path() && !root.has_filename()) {
    root = root.parent_path();  // "/tmp/x/" -> "/tmp/x"
  }
  m_root = std::move(root);
  m_live = m_root == m_root.root_path();
}

Result<void> Fs::pin_root() {
  ZT_TRY_ASSIGN(fd, detail::open_root_fd(m_root));
  m_root_fd = std::make_shared<const UniqueFd>(std::move(fd));
  return {};
}

detail::RootRef Fs::root_ref() const {
  return detail::RootRef{m_root, m_root_fd ? m_root_fd->get() : -1};
}

std::filesystem::path Fs::real_path(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  return m_root / host_path.relative_path();
}

// --- read side -------------------------------------------------------------------------------

Result<FileStat> Fs::lstat(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  auto walked = walk_parent(root_ref(), host_path);
  if (!walked) {
    if (walked.error().code == Errc::not_found) {
      return FileStat{};
    }
    return std::unexpected(std::move(walked).error());
  }
  struct stat st {};
  const char* name = walked->name.empty() ? "." : walked->name.c_str();
  if (::fstatat(walked->dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return FileStat{};
    }
    return std::unexpected(sys_error(host_path, err));
  }
  return to_file_stat(st);
}

Result<FileStat> Fs::stat(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  struct stat st {};
  if (m_live) {
    if (::stat(host_path.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR) {
        return FileStat{};
      }
      return std::unexpected(sys_error(host_path, err));
    }
    return to_file_stat(st);
  }
  auto resolved = resolve_in_root(root_ref(), host_path);
  if (!resolved) {
    if (resolved.error().code == Errc::not_found) {
      return FileStat{};
    }
    return std::unexpected(std::move(resolved).error());
  }
  const char* name = resolved->name.empty() ? "." : resolved->name.c_str();
  if (::fstatat(resolved->dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return FileStat{};
    }
    return std::unexpected(sys_error(host_path, err));
  }
  return to_file_stat(st);
}

Result<std::string> Fs::read_file(const std::filesystem::path& host_path, std::uint64_t max_bytes) const {
  ZT_ASSERT(host_path.is_absolute());
  // O_PATH first: a FIFO or device is identified by fstat and never opened for reading.
  DirFd dir;
  std::string name;
  int follow = 0;
  if (m_live) {
    ZT_TRY_ASSIGN(root, open_root(root_ref()));
    dir = std::move(root);
    name = host_path.lexically_normal().relative_path().string();
    if (name.empty()) {
      name = ".";
    }
  } else {
    ZT_TRY_ASSIGN(resolved, resolve_in_root(root_ref(), host_path));
    dir = std::move(resolved.dir);
    name = resolved.name.empty() ? "." : resolved.name;
    follow = O_NOFOLLOW;
  }
  if (!dir) {
    return std::unexpected(sys_error(host_path, errno));
  }
  UniqueFd path_fd(::openat(dir.get(), name.c_str(), O_PATH | O_CLOEXEC | follow));
  struct stat st {};
  if (!path_fd || ::fstat(path_fd.get(), &st) != 0) {
    return std::unexpected(sys_error(host_path, errno));
  }
  if (S_ISDIR(st.st_mode)) {
    return std::unexpected(sys_error(host_path, EISDIR));
  }
  if (!S_ISREG(st.st_mode)) {
    return std::unexpected(not_regular(host_path, st.st_mode));
  }
  ZT_TRY_ASSIGN(fd, reopen_for_read(dir.get(), name.c_str(), st, host_path, follow));
  return read_bounded(fd.get(), st, host_path, max_bytes);
}

Result<UntrustedFile> Fs::read_untrusted(const std::filesystem::path& host_path, const UntrustedRead& rules) const {
  ZT_ASSERT(host_path.is_absolute());
  UntrustedFile out;
  ZT_TRY_ASSIGN(looked, look_nofollow(root_ref(), host_path));
  if (!looked) {
    return out;
  }
  const struct stat& st = looked->st;
  const char* name = looked->name();
  const Walked* walked = &looked->walked;
  out.st = to_file_stat(st);
  out.links = st.st_nlink;
  if (!S_ISREG(st.st_mode)) {
    return out;
  }
  if (st.st_nlink > 1) {
    return std::unexpected(too_many_links(host_path, st.st_nlink));
  }
  if (!rules.owners.empty() && st.st_uid != ::geteuid() &&
      std::find(rules.owners.begin(), rules.owners.end(), st.st_uid) == rules.owners.end()) {
    return make_error(Errc::refused, host_path.string() + ": owned by uid " + std::to_string(st.st_uid) +
                                         ", not by uid " + std::to_string(rules.owners.front()) +
                                         "; refusing to read it (remove it and run again)");
  }
  ZT_TRY_ASSIGN(fd, reopen_for_read(walked->dir.get(), name, st, host_path, O_NOFOLLOW));
  ZT_TRY_ASSIGN(content, read_bounded(fd.get(), st, host_path, rules.max_bytes));
  out.content = std::move(content);
  return out;
}

Result<FileSnapshot> Fs::inspect(const std::filesystem::path& host_path, std::uint64_t max_bytes) const {
  ZT_ASSERT(host_path.is_absolute());
  FileSnapshot out;
  ZT_TRY_ASSIGN(looked, look_nofollow(root_ref(), host_path));
  if (!looked) {
    return out;
  }
  const struct stat& st = looked->st;
  const char* name = looked->name();
  const Walked* walked = &looked->walked;
  out.st = to_file_stat(st);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return out;
  }
  ZT_TRY_ASSIGN(fd, reopen_for_read(walked->dir.get(), name, st, host_path,
                                    O_NOFOLLOW | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0)));
  if (S_ISREG(st.st_mode)) {
    ZT_TRY_ASSIGN(content, read_bounded(fd.get(), st, host_path, max_bytes));
    out.content = std::move(content);
  }
  ZT_TRY_ASSIGN(access, detail::get_acl_fd(fd.get(), AclType::access, host_path.string()));
  out.access_acl = std::move(access);
  if (S_ISDIR(st.st_mode)) {
    ZT_TRY_ASSIGN(def, detail::get_acl_fd(fd.get(), AclType::default_acl, host_path.string()));
    out.default_acl = std::move(def);
  }
  return out;
}

Result<std::vector<std::string>> Fs::list_leftovers(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(target, open_target(root_ref(), host_path, Access::read));
  if (!S_ISDIR(target.st.st_mode)) {
    return make_error(Errc::io, host_path.string() + ": not a directory");
  }
  UniqueFd dir(::fcntl(target.fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!dir) {
    return std::unexpected(sys_error(host_path, errno));
  }
  ZT_TRY_ASSIGN(names, read_dir_fd(std::move(target.fd), host_path));
  std::vector<std::string> out;
  for (auto& n : names) {
    struct stat st {};
    if (is_temp_name(n) && ::fstatat(dir.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) {
      out.push_back(std::move(n));
    }
  }
  return out;
}

Result<std::vector<std::string>> Fs::list_dir(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  UniqueFd fd;
  if (m_live) {
    fd = UniqueFd(::open(host_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  } else {
    ZT_TRY_ASSIGN(resolved, resolve_in_root(root_ref(), host_path));
    const char* name = resolved.name.empty() ? "." : resolved.name.c_str();
    fd = UniqueFd(::openat(resolved.dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd) {
    const int err = errno;
    if (err == ENOTDIR) {
      return make_error(Errc::io, host_path.string() + ": " + std::strerror(err));
    }
    return std::unexpected(sys_error(host_path, err));
  }
  return read_dir_fd(std::move(fd), host_path);
}

Result<std::optional<std::string>> Fs::read_xattr(const std::filesystem::path& host_path,
                                                  const std::string& name) const {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(target, open_target(root_ref(), host_path, Access::path));
  // fgetxattr does not take O_PATH fds; the /proc magic link reaches the same inode.
  const std::string proc = "/proc/self/fd/" + std::to_string(target.fd.get());
  for (int attempt = 0; attempt < 4; ++attempt) {
    const ssize_t size = ::getxattr(proc.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) {
      const int err = errno;
      if (err == ENODATA || err == ENOTSUP) {
        return std::optional<std::string>{};
      }
      return std::unexpected(sys_error(host_path, "cannot read " + name, err));
    }
    std::string value(static_cast<std::size_t>(size), '\0');
    const ssize_t n = ::getxattr(proc.c_str(), name.c_str(), value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<std::size_t>(n));
      return std::optional<std::string>{std::move(value)};
    }
    const int err = errno;
    if (err == ENODATA) {
      return std::optional<std::string>{};
    }
    if (err != ERANGE) {
      return std::unexpected(sys_error(host_path, "cannot read " + name, err));
    }
  }
  return make_error(Errc::io, host_path.string() + ": " + name + " keeps changing size");
}

Result<Acl> Fs::read_acl(const std::filesystem::path& host_path, AclType type) const {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(target, open_target(root_ref(), host_path, Access::read));
  if (type == AclType::default_acl && !S_ISDIR(target.st.st_mode)) {
    return make_error(Errc::io, host_path.string() + ": only directories have a default ACL");
  }
  return detail::get_acl_fd(target.fd.get(), type, host_path.string());
}

Result<std::uint64_t> Fs::available_bytes(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  fs::path current = host_path.lexically_normal();
  for (;;) {
    struct statvfs vfs {};
    const fs::path real = real_path(current);
    if (::statvfs(real.c_str(), &vfs) == 0) {
      return static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize);
    }
    const int err = errno;
    if ((err != ENOENT && err != ENOTDIR) || current == current.root_path()) {
      return std::unexpected(sys_error(host_path, err));
    }
    current = current.has_filename() ? current.parent_path() : current.parent_path().parent_path();
  }
}

Result<std::string> Fs::read_link(const std::filesystem::path& host_path) const {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(walked, walk_parent(root_ref(), host_path));
  if (walked.name.empty()) {
    return make_error(Errc::io, host_path.string() + ": not a symlink");
  }
  std::string buf(256, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(walked.dir.get(), walked.name.c_str(), buf.data(), buf.size());
    if (n < 0) {
      const int err = errno;
      if (err == EINVAL) {
        return make_error(Errc::io, host_path.string() + ": not a symlink");
      }
      return std::unexpected(sys_error(host_path, err));
    }
    if (static_cast<std::size_t>(n) < buf.size()) {
      buf.resize(static_cast<std::size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

// --- write side ------------------------------------------------------------------------------

Result<void> Fs::write_file(const std::filesystem::path& host_path, std::string_view content, const WriteSpec& spec) {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(walked, walk_parent(root_ref(), host_path));
  if (walked.name.empty()) {
    return make_error(Errc::io, host_path.string() + ": " + std::strerror(EISDIR));
  }
  std::uint32_t mode = 0644;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::optional<Acl> kept_acl;
  struct stat st {};
  if (::fstatat(walked.dir.get(), walked.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      if (spec.replace_symlink == ReplaceSymlink::no) {
        return make_error(Errc::refused, host_path.string() + ": refusing to replace a symlink");
      }
    } else if (S_ISDIR(st.st_mode)) {
      return make_error(Errc::io, host_path.string() + ": " + std::strerror(EISDIR));
    } else if (!S_ISREG(st.st_mode)) {
      return make_error(Errc::refused, host_path.string() + ": is a " + std::string(type_name(st.st_mode)) +
                                           "; refusing to replace it with a regular file");
    } else {
      mode = static_cast<std::uint32_t>(st.st_mode & 07777);
      uid = st.st_uid;
      gid = st.st_gid;
      if (!spec.acl) {
        UniqueFd old(::openat(walked.dir.get(), walked.name.c_str(),
                              O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (!old) {
          return std::unexpected(sys_error(host_path, errno));
        }
        auto acl = detail::get_acl_fd(old.get(), AclType::access, host_path.string());
        if (acl) {
          if (!acl->is_minimal()) {
            kept_acl = std::move(*acl);
          }
        } else if (acl.error().code != Errc::unsupported) {
          return std::unexpected(std::move(acl).error());
        }
      }
    }
  } else if (errno != ENOENT) {
    return std::unexpected(sys_error(host_path, errno));
  }
  mode = spec.mode.value_or(mode);
  uid = spec.uid.value_or(uid);
  gid = spec.gid.value_or(gid);

  sweep_leftovers(walked.dir.get(), walked.name, host_path);
  ZT_TRY_ASSIGN(file, AtomicFile::create(walked.dir.get(), walked.name, host_path.string()));
  ZT_TRY(file.write(content));
  ZT_TRY(file.set_owner(uid, gid));  // before chmod: chown clears setuid/setgid
  ZT_TRY(file.set_mode(mode));
  if (spec.acl) {
    ZT_TRY(file.set_acl(*spec.acl));
  } else if (kept_acl) {
    ZT_TRY(file.set_acl(*kept_acl));
    if (spec.mode) {
      ZT_TRY(file.set_mode(mode));  // an explicit mode wins over the kept ACL's base entries and mask
    }
  }
  ZT_TRY(file.commit());
  spdlog::info("fs: wrote {} ({} bytes, mode {}, owner {}:{})", host_path.string(), content.size(),
               util::format_mode(mode), uid, gid);
  return {};
}

Result<void> Fs::make_directory(const std::filesystem::path& host_path, std::uint32_t mode) {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(walked, walk_parent(root_ref(), host_path));
  if (walked.name.empty()) {
    return make_error(Errc::io, host_path.string() + ": " + std::strerror(EEXIST));
  }
  if (::mkdirat(walked.dir.get(), walked.name.c_str(), static_cast<mode_t>(mode & 07777)) != 0) {
    const int err = errno;
    return make_error(err == ENOENT ? Errc::not_found : Errc::io, host_path.string() + ": " + std::strerror(err));
  }
  UniqueFd fd(::openat(walked.dir.get(), walked.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd || ::fchmod(fd.get(), static_cast<mode_t>(mode & 07777)) != 0) {
    return std::unexpected(sys_error(host_path, "created, but cannot set its mode", errno));
  }
  spdlog::info("fs: created directory {} (mode {})", host_path.string(), util::format_mode(mode));
  return {};
}

Result<void> Fs::make_directories(const std::filesystem::path& host_path, std::uint32_t mode) {
  ZT_ASSERT(host_path.is_absolute());
  const std::vector<std::string> comps = components(host_path);
  ZT_TRY_ASSIGN(root, open_root(root_ref()));
  DirFd cur = std::move(root);
  for (std::size_t i = 0; i < comps.size(); ++i) {
    const std::string comp_host = host_prefix(comps, i + 1);
    const char* comp = comps[i].c_str();
    struct stat st {};
    if (::fstatat(cur.get(), comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      if (err != ENOENT) {
        return std::unexpected(sys_error(host_path, err));
      }
      if (::mkdirat(cur.get(), comp, static_cast<mode_t>(mode & 07777)) != 0 && errno != EEXIST) {
        return std::unexpected(sys_error(host_path, "cannot create " + comp_host, errno));
      }
      UniqueFd created(::openat(cur.get(), comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!created || ::fchmod(created.get(), static_cast<mode_t>(mode & 07777)) != 0) {
        const int err2 = errno;
        if (err2 == ELOOP || err2 == ENOTDIR) {
          return refuse_symlink(host_path, comp_host);
        }
        return std::unexpected(sys_error(host_path, "cannot set the mode of " + comp_host, err2));
      }
      spdlog::info("fs: created directory {} (mode {})", comp_host, util::format_mode(mode));
    } else if (S_ISLNK(st.st_mode)) {
      return refuse_symlink(host_path, comp_host);
    } else if (!S_ISDIR(st.st_mode)) {
      return make_error(Errc::io, host_path.string() + ": " + comp_host + " exists and is not a directory");
    }
    ZT_TRY_ASSIGN(next, open_dir_nofollow(cur.get(), comps[i], host_path, comp_host));
    cur = DirFd(std::move(next));
  }
  return {};
}

Result<void> Fs::set_owner(const std::filesystem::path& host_path, std::uint32_t uid, std::uint32_t gid) {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(target, open_target(root_ref(), host_path, Access::read, Links::single));
  if (::fchown(target.fd.get(), uid, gid) != 0) {
    return std::unexpected(
        sys_error(host_path, "cannot set owner " + std::to_string(uid) + ":" + std::to_string(gid), errno));
  }
  spdlog::info("fs: chown {}:{} {}", uid, gid, host_path.string());
  return {};
}

Result<void> Fs::set_mode(const std::filesystem::path& host_path, std::uint32_t mode) {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(target, open_target(root_ref(), host_path, Access::read, Links::single));
  if (::fchmod(target.fd.get(), static_cast<mode_t>(mode & 07777)) != 0) {
    return std::unexpected(sys_error(host_path, "cannot set mode " + util::format_mode(mode), errno));
  }
  spdlog::info("fs: chmod {} {}", util::format_mode(mode), host_path.string());
  return {};
}

Result<void> Fs::set_acl(const std::filesystem::path& host_path, AclType type, const Acl& acl) {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(target, open_target(root_ref(), host_path, Access::read, Links::single));
  if (type == AclType::default_acl && !S_ISDIR(target.st.st_mode)) {
    return make_error(Errc::io, host_path.string() + ": only directories have a default ACL");
  }
  ZT_TRY(detail::set_acl_fd(target.fd.get(), type, acl, host_path.string()));
  spdlog::info("fs: set {} ACL {} on {}", type == AclType::access ? "access" : "default",
               acl.empty() ? std::string("(none)") : acl.to_text(), host_path.string());
  return {};
}

Result<void> Fs::remove_file(const std::filesystem::path& host_path) {
  ZT_ASSERT(host_path.is_absolute());
  auto walked = walk_parent(root_ref(), host_path);
  if (!walked) {
    if (walked.error().code == Errc::not_found) {
      return {};
    }
    return std::unexpected(std::move(walked).error());
  }
  if (walked->name.empty()) {
    return make_error(Errc::io, host_path.string() + ": " + std::strerror(EISDIR));
  }
  struct stat st {};
  if (::fstatat(walked->dir.get(), walked->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      return {};
    }
    return std::unexpected(sys_error(host_path, err));
  }
  if (S_ISDIR(st.st_mode)) {
    return make_error(Errc::io, host_path.string() + ": " + std::strerror(EISDIR));
  }
  if (::unlinkat(walked->dir.get(), walked->name.c_str(), 0) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      return {};
    }
    return std::unexpected(sys_error(host_path, "cannot remove", err));
  }
  spdlog::info("fs: removed {}", host_path.string());
  return {};
}

Result<void> Fs::make_symlink(const std::filesystem::path& host_path, const std::string& target, std::uint32_t uid,
                              std::uint32_t gid) {
  ZT_ASSERT(host_path.is_absolute());
  ZT_TRY_ASSIGN(walked, walk_parent(root_ref(), host_path));
  if (walked.name.empty()) {
    return make_error(Errc::refused, host_path.string() + ": refusing to replace a directory with a symlink");
  }
  struct stat st {};
  if (::fstatat(walked.dir.get(), walked.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISLNK(st.st_mode)) {
      return make_error(Errc::refused, host_path.string() + ": is a " + std::string(type_name(st.st_mode)) +
                                           "; refusing to replace it with a symlink");
    }
  } else if (errno != ENOENT) {
    return std::unexpected(sys_error(host_path, errno));
  }
  sweep_leftovers(walked.dir.get(), walked.name, host_path);
  // Create under a temporary name in the same directory, set the owner on the link itself, then
  // rename over the target: the name never points anywhere else, even for a moment.
  static unsigned counter = 0;
  std::string temp;
  for (int attempt = 0;; ++attempt) {
    temp = temp_prefix(walked.name) + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    if (::symlinkat(target.c_str(), walked.dir.get(), temp.c_str()) == 0) {
      break;
    }
    const int err = errno;
    if (err != EEXIST || attempt > 100) {
      return std::unexpected(sys_error(host_path, "cannot create symlink", err));
    }
  }
  auto fail = [&](std::string_view what, int err) {
    ::unlinkat(walked.dir.get(), temp.c_str(), 0);
    return std::unexpected(sys_error(host_path, what, err));
  };
  if (::fchownat(walked.dir.get(), temp.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail("cannot set owner " + std::to_string(uid) + ":" + std::to_string(gid), errno);
  }
  if (::renameat(walked.dir.get(), temp.c_str(), walked.dir.get(), walked.name.c_str()) != 0) {
    return fail("cannot rename symlink into place", errno);
  }
  // The walked fd is O_PATH; fsync needs a real descriptor on the directory.
  UniqueFd dir(::openat(walked.dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir) {
    ::fsync(dir.get());
  }
  spdlog::info("fs: symlink {} -> {} (owner {}:{})", host_path.string(), target, uid, gid);
  return {};
}

std::string_view to_string(FileType type) {
  switch (type) {
  case FileType::missing: return "missing";
  case FileType::regular: return "regular file";
  case FileType::directory: return "directory";
  case FileType::symlink: return "symlink";
  case FileType::char_device: return "character device";
  case FileType::block_device: return "block device";
  case FileType::fifo: return "fifo";
  case FileType::socket: return "socket";
  }
  return "unknown file type";
}

std::string describe(FileType type) {
  if (type == FileType::missing) {
    return "missing";
  }
  return "a " + std::string(to_string(type));
}

} // namespace zt::host
