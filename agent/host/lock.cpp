// SPDX-License-Identifier: Apache-2.0
#include "host/lock.hpp"

#include "util/strings.hpp"

#include <cerrno>
#include <csignal>
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

/// mkdir -p with mode 0755 for the directories it creates.
Result<void> make_parents(const std::filesystem::path& dir) {
  std::filesystem::path current;
  for (const auto& part : dir) {
    current /= part;
    if (::mkdir(current.c_str(), 0755) != 0 && errno != EEXIST) {
      return std::unexpected(io_error(current, "cannot create directory", errno));
    }
  }
  return {};
}

/// The pid the holder wrote, if readable.
std::optional<std::uint64_t> read_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) {
    return std::nullopt;
  }
  return util::parse_uint(util::trim(std::string_view(buf, static_cast<std::size_t>(n))));
}

Result<void> write_pid(int fd, const std::filesystem::path& path) {
  if (::ftruncate(fd, 0) != 0) {
    return std::unexpected(io_error(path, "cannot truncate lock file", errno));
  }
  std::string text = std::to_string(::getpid()) + "\n";
  if (::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return std::unexpected(io_error(path, "cannot write lock file", errno));
  }
  return {};
}

} // namespace

Result<RunLock> RunLock::acquire(const std::filesystem::path& real_path, std::chrono::milliseconds wait) {
  if (real_path.has_parent_path()) {
    ZT_TRY(make_parents(real_path.parent_path()));
  }
  int fd = ::open(real_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return std::unexpected(io_error(real_path, "cannot open lock file", errno));
  }
  RunLock lock(fd);  // closes fd on every return path below

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
      // The pid in the file is the one the last ztagent that took the lock wrote: it names the
      // holder only while that process still runs (another program may hold the flock).
      auto pid = read_pid(fd);
      const bool alive = pid && *pid > 0 && *pid <= 0x7fffffffU &&
                         (::kill(static_cast<pid_t>(*pid), 0) == 0 || errno == EPERM);
      std::string holder = "another ztagent run";
      if (alive) {
        holder += " (pid " + std::to_string(*pid) + ")";
      } else if (pid) {
        holder = "another process (pid " + std::to_string(*pid) + ", which wrote the file last, has exited)";
      }
      return make_error(Errc::busy, holder + " holds " + real_path.string() + "; wait for it to finish");
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(k_poll, deadline - now));
  }
  ZT_TRY(write_pid(fd, real_path));
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
    ::close(m_fd);  // drops the flock
  }
}

} // namespace zt::host
