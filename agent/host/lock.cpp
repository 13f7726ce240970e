// SPDX-License-Identifier: Apache-2.0
#include "host/lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace zt::host {

namespace {

constexpr auto k_poll = std::chrono::milliseconds(50);

Error io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return Error{Errc::io, path.string() + ": " + std::string(what) + ": " + std::strerror(err)};
}

/// A whole-file write lock record: the same range for F_SETLK and F_GETLK.
struct flock whole_file(short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  return fl;
}

/// "another ztagent run (pid N)" from the kernel's record of who holds the POSIX lock. F_GETLK
/// translates the pid into our PID namespace; 0 means the holder is outside it.
std::string holder_of(int fd) {
  struct flock fl = whole_file(F_WRLCK);
  if (::fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) {
    return "another ztagent run";
  }
  if (fl.l_pid <= 0) {
    return "another ztagent run (in another PID namespace)";
  }
  return "another ztagent run (pid " + std::to_string(fl.l_pid) + ")";
}

} // namespace

Result<RunLock> RunLock::acquire(const std::filesystem::path& real_path,
                                 std::chrono::milliseconds wait,
                                 CreateParent create_parent) {
  if (create_parent == CreateParent::yes && real_path.has_parent_path()) {
    if (::mkdir(real_path.parent_path().c_str(), 0755) != 0 && errno != EEXIST) {
      return std::unexpected(io_error(real_path.parent_path(), "cannot create directory", errno));
    }
  }
  // O_NOFOLLOW | O_NONBLOCK: a planted symlink or FIFO is refused, never followed or waited on.
  int fd = ::open(real_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return make_error(Errc::refused, real_path.string() + ": is a symlink; remove it (a lock file is never "
                                                            "followed)");
    }
    return std::unexpected(io_error(real_path, "cannot open lock file", err));
  }
  RunLock lock(fd); // closes fd on every return path below
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return std::unexpected(io_error(real_path, "cannot stat lock file", errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::refused, real_path.string() + ": not a regular file; remove it");
  }

  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno != EWOULDBLOCK) {
      return std::unexpected(io_error(real_path, "cannot lock", errno));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return make_error(Errc::busy, holder_of(fd) + " holds " + real_path.string() + "; wait for it to finish");
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(k_poll, deadline - now));
  }
  // We hold the flock, so no other ztagent holds the record lock (it takes it after the flock and
  // drops both together): this succeeds at once. Only a holder outside ztagent could block it.
  struct flock fl = whole_file(F_WRLCK);
  if (::fcntl(fd, F_SETLK, &fl) != 0) {
    return std::unexpected(io_error(real_path, "cannot take the record lock", errno));
  }
  return lock;
}

RunLock::RunLock(RunLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.m_fd;
    other.m_fd = -1;
  }
  return *this;
}

RunLock::~RunLock() {
  if (m_fd >= 0) {
    ::close(m_fd); // drops the flock and the record lock
  }
}

} // namespace zt::host
