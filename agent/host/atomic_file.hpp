// SPDX-License-Identifier: Apache-2.0
#pragma once

// AtomicFile (STYLE.md §5): a temp file ".<name>.ztagent-XXXXXX" created in the target's directory;
// content, owner, mode and ACL are set on its fd, and only commit() publishes it (fsync, renameat,
// fsync of the directory). Destroying an uncommitted AtomicFile unlinks the temp file.
//
// Fs::write_file is the usual entry point: it walks to the parent directory without following
// symlinks and decides which metadata to keep. AtomicFile itself only works relative to a directory
// fd, so it never resolves a path.

#include "host/acl.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace zt::host {

/// Owns one file descriptor; closes it on destruction.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  [[nodiscard]] int get() const { return m_fd; }
  [[nodiscard]] bool valid() const { return m_fd >= 0; }
  explicit operator bool() const { return valid(); }
  int release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  void reset(int fd = -1);

private:
  int m_fd = -1;
};

/// ".<name>.ztagent-" (name cut to 200 bytes so the temp name fits NAME_MAX): every temp file for
/// target `name` starts with it.
[[nodiscard]] std::string temp_prefix(std::string_view name);
/// True for a name AtomicFile or Fs::make_symlink gives its temp files: "." + name + ".ztagent-" +
/// 1 to 40 characters of [A-Za-z0-9-].
[[nodiscard]] bool is_temp_name(std::string_view entry);

class AtomicFile {
public:
  /// Creates the temp file (mode 0600, O_CLOEXEC|O_EXCL) in the directory open as `dir_fd`, which
  /// AtomicFile duplicates (the caller keeps its fd). `name` is the target's file name in that
  /// directory; `host_path` names the target in error messages.
  [[nodiscard]] static Result<AtomicFile> create(int dir_fd, std::string_view name, std::string host_path);

  AtomicFile(AtomicFile&& other) noexcept = default;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Unlinks the temp file unless commit() succeeded.
  ~AtomicFile();

  /// Appends to the temp file.
  [[nodiscard]] Result<void> write(std::string_view data);
  /// fchown (skipped when the temp file already has this owner).
  [[nodiscard]] Result<void> set_owner(std::uint32_t uid, std::uint32_t gid);
  /// fchmod to exactly `mode` (07777 bits).
  [[nodiscard]] Result<void> set_mode(std::uint32_t mode);
  /// acl_set_fd with exactly these entries (mask included, nothing recomputed).
  [[nodiscard]] Result<void> set_acl(const Acl& acl);
  /// fsync, renameat over the target, fsync the directory. Call at most once.
  [[nodiscard]] Result<void> commit();

  /// ".<name>.ztagent-XXXXXX", for tests and diagnostics.
  [[nodiscard]] const std::string& temp_name() const { return m_temp_name; }
  [[nodiscard]] const std::string& host_path() const { return m_host_path; }

private:
  AtomicFile(UniqueFd dir, UniqueFd file, std::string name, std::string temp_name, std::string host_path);
  [[nodiscard]] Error sys_error(std::string_view what, int err) const;

  UniqueFd m_dir;
  UniqueFd m_fd;
  std::string m_name;
  std::string m_temp_name;
  std::string m_host_path;
  bool m_committed = false;
};

} // namespace zt::host
