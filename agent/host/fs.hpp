// SPDX-License-Identifier: Apache-2.0
#pragma once

// Fs: every file operation ztagent does, relative to a root directory ("/" in production, an image
// tree under --root). The API takes *host paths* ("/etc/subuid") and maps them with real_path().
//
// Symlinks: reads of system files (read_file, stat) follow symlinks but resolve them *inside* the
// root, as a chroot would, so /etc/os-release -> ../usr/lib/os-release works in an image tree and an
// absolute link never escapes it. Every mutating call and lstat/read_acl walk the path component by
// component with O_NOFOLLOW from the root's fd and refuse (Errc::refused) when any component is a
// symlink: the data tree is writable by an unprivileged user and ztagent runs as root.
//
// Read methods are const; HostView hands checks and plan() only a const Fs&.

#include "host/acl.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::host {

enum class FileType { missing, regular, directory, symlink, char_device, block_device, fifo, socket };

struct FileStat {
  FileType type = FileType::missing;
  std::uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
  std::uint32_t rdev_major = 0;  // devices only
  std::uint32_t rdev_minor = 0;
  [[nodiscard]] bool exists() const { return type != FileType::missing; }
};

/// "regular file", "directory", "symlink", ... ("missing" for FileType::missing).
[[nodiscard]] std::string_view to_string(FileType type);
/// With an article for messages: "a regular file", "a symlink", ... ("missing").
[[nodiscard]] std::string describe(FileType type);

enum class ReplaceSymlink { no, yes };

/// Metadata for write_file. Unset fields keep the current file's value (or the defaults for a new
/// file: mode 0644, owner root:root).
struct WriteSpec {
  std::optional<std::uint32_t> mode;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
  std::optional<Acl> acl;  // access ACL, set on the fd before rename
  ReplaceSymlink replace_symlink = ReplaceSymlink::no;
};

class Fs {
public:
  /// `root` must be an absolute path to an existing directory.
  explicit Fs(std::filesystem::path root);

  [[nodiscard]] const std::filesystem::path& root() const { return m_root; }
  /// True when root is "/": live kernel state (/proc, /sys, /run) belongs to this host.
  [[nodiscard]] bool is_live() const { return m_live; }
  /// root / host_path.relative_path(); host_path must be absolute.
  [[nodiscard]] std::filesystem::path real_path(const std::filesystem::path& host_path) const;

  // --- read side ---------------------------------------------------------------------------
  /// Type missing (not an error) when nothing is there. Does not follow a final symlink.
  [[nodiscard]] Result<FileStat> lstat(const std::filesystem::path& host_path) const;
  /// Follows symlinks, resolved inside the root.
  [[nodiscard]] Result<FileStat> stat(const std::filesystem::path& host_path) const;
  /// Whole file; Errc::not_found when missing. Follows symlinks inside the root.
  [[nodiscard]] Result<std::string> read_file(const std::filesystem::path& host_path) const;
  /// Entry names, sorted, without "." and ".."; Errc::not_found when missing.
  [[nodiscard]] Result<std::vector<std::string>> list_dir(const std::filesystem::path& host_path) const;
  /// Extended attribute value (e.g. "security.capability"), nullopt when absent. No follow.
  [[nodiscard]] Result<std::optional<std::string>> read_xattr(const std::filesystem::path& host_path,
                                                              const std::string& name) const;
  /// Access or default ACL, never following symlinks. A file without extended entries yields the
  /// three base entries from its mode; a directory without a default ACL yields an empty Acl.
  [[nodiscard]] Result<Acl> read_acl(const std::filesystem::path& host_path, AclType type) const;
  /// Bytes available to unprivileged users on the filesystem holding host_path (or its nearest
  /// existing ancestor).
  [[nodiscard]] Result<std::uint64_t> available_bytes(const std::filesystem::path& host_path) const;
  /// The target of the symlink at host_path, verbatim (not resolved). Never follows a symlink in
  /// the path. Errc::not_found when missing; Errc::io when it is not a symlink.
  [[nodiscard]] Result<std::string> read_link(const std::filesystem::path& host_path) const;

  // --- write side (never follows symlinks) -------------------------------------------------
  /// Atomically replaces or creates the file (AtomicFile: temp file in the same directory, owner,
  /// mode and ACL set on the fd, fsync, rename, fsync dir). Refuses to replace a symlink unless
  /// spec.replace_symlink. The parent directory must exist.
  [[nodiscard]] Result<void> write_file(const std::filesystem::path& host_path, std::string_view content,
                                        const WriteSpec& spec);
  /// Creates one directory with exactly `mode` (umask ignored), owner root until set_owner. The
  /// parent must exist. Errc::io if something already exists there.
  [[nodiscard]] Result<void> make_directory(const std::filesystem::path& host_path, std::uint32_t mode);
  [[nodiscard]] Result<void> set_owner(const std::filesystem::path& host_path, std::uint32_t uid,
                                       std::uint32_t gid);
  /// chmod on the fd. Note: with an extended ACL the group bits are the ACL mask.
  [[nodiscard]] Result<void> set_mode(const std::filesystem::path& host_path, std::uint32_t mode);
  /// Sets the whole ACL as given (mask included, nothing recomputed). An empty Acl of type
  /// default_acl removes the default ACL.
  [[nodiscard]] Result<void> set_acl(const std::filesystem::path& host_path, AclType type, const Acl& acl);
  /// Removes a file or symlink (not a directory). Missing is not an error.
  [[nodiscard]] Result<void> remove_file(const std::filesystem::path& host_path);
  /// mkdir -p with `mode` for directories it creates (owner root). Existing ones are left alone.
  [[nodiscard]] Result<void> make_directories(const std::filesystem::path& host_path, std::uint32_t mode);
  /// Creates (or atomically replaces) the symlink host_path -> `target` (written verbatim, like
  /// `systemctl enable` links), owned by uid:gid (lchown). Only ever replaces a symlink: anything
  /// else at host_path is Errc::refused. The parent must exist; no symlink in the path is followed.
  [[nodiscard]] Result<void> make_symlink(const std::filesystem::path& host_path, const std::string& target,
                                          std::uint32_t uid, std::uint32_t gid);

private:
  std::filesystem::path m_root;
  bool m_live = false;
};

} // namespace zt::host
