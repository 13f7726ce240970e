// SPDX-License-Identifier: Apache-2.0
#include "host/atomic_file.hpp"

#include "util/assert.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace zt::host {

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  m_fd = fd;
}

namespace {

constexpr int k_create_attempts = 100;
// Keeps ".<name>.ztagent-XXXXXX" within NAME_MAX (255) for long target names.
constexpr std::size_t k_max_name_in_temp = 200;

std::string random_suffix() {
  static constexpr std::string_view k_alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, k_alphabet.size() - 1);
  std::string out(6, 'X');
  for (char& c : out) {
    c = k_alphabet[pick(rng)];
  }
  return out;
}

} // namespace

std::string temp_prefix(std::string_view name) {
  return "." + std::string(name.substr(0, k_max_name_in_temp)) + ".ztagent-";
}

bool is_temp_name(std::string_view entry) {
  constexpr std::string_view k_marker = ".ztagent-";
  if (entry.size() < 2 || entry.front() != '.') {
    return false;
  }
  const std::size_t pos = entry.rfind(k_marker);
  if (pos == std::string_view::npos || pos < 2) {
    return false;
  }
  const std::string_view suffix = entry.substr(pos + k_marker.size());
  if (suffix.empty() || suffix.size() > 40) {
    return false;
  }
  for (const char c : suffix) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

AtomicFile::AtomicFile(UniqueFd dir, UniqueFd file, std::string name, std::string temp_name, std::string host_path)
    : m_dir(std::move(dir)), m_fd(std::move(file)), m_name(std::move(name)), m_temp_name(std::move(temp_name)),
      m_host_path(std::move(host_path)) {}

Result<AtomicFile> AtomicFile::create(int dir_fd, std::string_view name, std::string host_path) {
  UniqueFd dir(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!dir) {
    const int err = errno;
    return make_error(Errc::io, host_path + ": cannot duplicate the directory fd: " + std::strerror(err));
  }
  const std::string prefix = temp_prefix(name);
  for (int attempt = 0; attempt < k_create_attempts; ++attempt) {
    std::string temp_name = prefix + random_suffix();
    const int fd = ::openat(dir.get(), temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      return AtomicFile(std::move(dir), UniqueFd(fd), std::string(name), std::move(temp_name), std::move(host_path));
    }
    const int err = errno;
    if (err != EEXIST) {
      return make_error(err == ENOENT ? Errc::not_found : Errc::io,
                        host_path + ": cannot create a temporary file: " + std::strerror(err));
    }
  }
  return make_error(Errc::io, host_path + ": cannot create a temporary file: too many name collisions");
}

AtomicFile::~AtomicFile() {
  if (!m_committed && m_dir.valid() && !m_temp_name.empty()) {
    m_fd.reset();
    ::unlinkat(m_dir.get(), m_temp_name.c_str(), 0);
  }
}

Error AtomicFile::sys_error(std::string_view what, int err) const {
  return Error{Errc::io, m_host_path + ": " + std::string(what) + ": " + std::strerror(err)};
}

Result<void> AtomicFile::write(std::string_view data) {
  ZT_ASSERT(m_fd.valid() && !m_committed);
  while (!data.empty()) {
    const ssize_t n = ::write(m_fd.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(sys_error("cannot write", errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> AtomicFile::set_owner(std::uint32_t uid, std::uint32_t gid) {
  ZT_ASSERT(m_fd.valid() && !m_committed);
  struct stat st {};
  if (::fstat(m_fd.get(), &st) != 0) {
    return std::unexpected(sys_error("cannot stat the temporary file", errno));
  }
  if (st.st_uid == uid && st.st_gid == gid) {
    return {};
  }
  if (::fchown(m_fd.get(), uid, gid) != 0) {
    return std::unexpected(sys_error("cannot set owner " + std::to_string(uid) + ":" + std::to_string(gid), errno));
  }
  return {};
}

Result<void> AtomicFile::set_mode(std::uint32_t mode) {
  ZT_ASSERT(m_fd.valid() && !m_committed);
  if (::fchmod(m_fd.get(), static_cast<mode_t>(mode & 07777)) != 0) {
    return std::unexpected(sys_error("cannot set mode", errno));
  }
  return {};
}

Result<void> AtomicFile::set_acl(const Acl& acl) {
  ZT_ASSERT(m_fd.valid() && !m_committed);
  return detail::set_acl_fd(m_fd.get(), AclType::access, acl, m_host_path);
}

Result<void> AtomicFile::commit() {
  ZT_ASSERT(m_fd.valid() && !m_committed);
  if (::fsync(m_fd.get()) != 0) {
    return std::unexpected(sys_error("cannot fsync", errno));
  }
  if (::close(m_fd.release()) != 0) {
    return std::unexpected(sys_error("cannot close", errno));
  }
  if (::renameat(m_dir.get(), m_temp_name.c_str(), m_dir.get(), m_name.c_str()) != 0) {
    return std::unexpected(sys_error("cannot rename " + m_temp_name + " into place", errno));
  }
  m_committed = true;
  UniqueFd dir(::openat(m_dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir || ::fsync(dir.get()) != 0) {
    return std::unexpected(sys_error("written, but cannot fsync its directory", errno));
  }
  spdlog::debug("fs: replaced {}", m_host_path);
  return {};
}

} // namespace zt::host
