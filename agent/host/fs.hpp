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
// Files the service user controls (its home, the secrets and unit directories, the data tree) are
// read with read_untrusted(): one open without following any symlink (the no-follow walk, then
// O_PATH|O_NOFOLLOW on the last component), fstat of that fd, a regular file with one link and an
// allowed owner, a size cap, and the bytes read through that same fd. A FIFO, device or symlink is
// reported by type and never opened for reading, so it cannot block, stream or redirect the read.
// Every read is bounded: read_file() refuses anything but a regular file and caps the size.
//
// Mutating calls on an existing regular file (set_owner, set_mode, set_acl) refuse one with more
// than one hard link: with fs.protected_hardlinks=0 a user can link a root-owned file into its
// directory, and chown through that name would hand the file over.
//
// Read methods are const; HostView hands checks and plan() only a const Fs&.

#include "host/acl.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::host {

class UniqueFd;
namespace detail {
struct RootRef;
}

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

/// Default cap of read_file: anything larger is refused ("PATH: larger than N bytes").
inline constexpr std::uint64_t k_max_read_bytes = std::uint64_t{64} << 20;
/// Cap for the configs, profiles, os-release and the small host files ztagent parses.
inline constexpr std::uint64_t k_max_config_bytes = std::uint64_t{1} << 20;

/// What read_untrusted() requires of a file besides being a regular file with one link.
struct UntrustedRead {
  std::uint64_t max_bytes = k_max_config_bytes;
  /// Allowed owner uids (e.g. the service user and root); empty allows any owner.
  std::vector<std::uint32_t> owners;
};

/// A file opened by read_untrusted(): `st` is the fstat of the opened object (a symlink, FIFO or
/// device is reported as such and not read); `content` is set only for a regular file.
struct UntrustedFile {
  FileStat st;
  std::uint64_t links = 0;
  std::string content;
};

/// What Fs::inspect() found at a path: the object itself (never a symlink's target), the content of
/// a regular file, the access ACL of a regular file or directory and a directory's default ACL.
struct FileSnapshot {
  FileStat st;  // type missing when nothing is there
  std::string content;
  std::optional<Acl> access_acl;
  std::optional<Acl> default_acl;
};

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
  /// Opens the root directory once and walks every later path from that fd instead of opening
  /// the root again per call (the CLI does this for a run; copies of this Fs share the fd). Without
  /// it (tests that replace the tree under one Fs) each call opens the root by path.
  [[nodiscard]] Result<void> pin_root();

  // --- read side ---------------------------------------------------------------------------
  /// Type missing (not an error) when nothing is there. Does not follow a final symlink.
  [[nodiscard]] Result<FileStat> lstat(const std::filesystem::path& host_path) const;
  /// Follows symlinks, resolved inside the root.
  [[nodiscard]] Result<FileStat> stat(const std::filesystem::path& host_path) const;
  /// Whole file; Errc::not_found when missing. Follows symlinks inside the root. Only a regular
  /// file is read (opened O_PATH first, so a FIFO or device is never opened for reading):
  /// Errc::refused "PATH: is a fifo, not a regular file" and "PATH: larger than N bytes".
  [[nodiscard]] Result<std::string> read_file(const std::filesystem::path& host_path,
                                              std::uint64_t max_bytes = k_max_read_bytes) const;
  /// A file the service user controls, opened once and never through a symlink (see the header
  /// comment). Missing (also a missing parent) is st.type missing, not an error; a symlink, FIFO,
  /// device or directory is returned by type without content. Errc::refused for a symlink among
  /// the parents, a regular file with more than one link, an owner outside `rules.owners`, or more
  /// than rules.max_bytes bytes.
  [[nodiscard]] Result<UntrustedFile> read_untrusted(const std::filesystem::path& host_path,
                                                     const UntrustedRead& rules) const;
  /// lstat + read_file + read_acl in one open that never follows a symlink: the drift record's
  /// fingerprint of a managed path. A symlink, FIFO, device or socket is reported by type only (never
  /// opened for reading); a missing file (or parent) is type missing. Errc::refused for a symlink
  /// among the parents, "larger than N bytes" over max_bytes.
  [[nodiscard]] Result<FileSnapshot> inspect(const std::filesystem::path& host_path,
                                             std::uint64_t max_bytes = k_max_read_bytes) const;
  /// Names of leftover temporary files of interrupted atomic writes in the directory host_path
  /// (".NAME.ztagent-XXXXXX" and the symlink temps of make_symlink), sorted. Never follows a
  /// symlink; Errc::not_found when the directory is missing.
  [[nodiscard]] Result<std::vector<std::string>> list_leftovers(const std::filesystem::path& host_path) const;
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
  /// spec.replace_symlink. The parent directory must exist. First removes the leftover temp files
  /// of earlier interrupted writes of the same NAME (".NAME.ztagent-*").
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
  [[nodiscard]] detail::RootRef root_ref() const;

  std::filesystem::path m_root;
  bool m_live = false;
  std::shared_ptr<const UniqueFd> m_root_fd;  // set by pin_root()
};

} // namespace zt::host
