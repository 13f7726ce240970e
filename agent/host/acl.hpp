// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zt::host {

/// POSIX.1e ACL as plain data. libacl is used only in acl.cpp/fs.cpp; everything above sees this.
enum class AclType { access, default_acl };

struct AclEntry {
  enum class Tag { user_obj, user, group_obj, group, mask, other };
  Tag tag = Tag::other;
  std::uint32_t id = 0;     // uid for Tag::user, gid for Tag::group, else 0
  std::uint8_t perms = 0;   // 4 = r, 2 = w, 1 = x
  friend bool operator==(const AclEntry&, const AclEntry&) = default;
};

struct Acl {
  std::vector<AclEntry> entries;  // normalized: sorted by (tag, id), unique

  /// Sorts entries into the canonical order (as getfacl prints them).
  void normalize();
  [[nodiscard]] bool empty() const { return entries.empty(); }
  /// "user::rwx,user:1000:rwx,group::r-x,mask::r-x,other::---" (numeric ids).
  [[nodiscard]] std::string to_text() const;
  /// Parses to_text()'s format; also accepts "u:", "g:", "m:", "o:" and "d:"-less short forms.
  [[nodiscard]] static Result<Acl> from_text(std::string_view text);
  /// The entry with this tag and id, if present.
  [[nodiscard]] const AclEntry* find(AclEntry::Tag tag, std::uint32_t id = 0) const;
  /// True when the ACL is only the three base entries (what the mode bits already say).
  [[nodiscard]] bool is_minimal() const;
  friend bool operator==(const Acl&, const Acl&) = default;
};

/// "rwx", "r-x", ...
[[nodiscard]] std::string perms_to_text(std::uint8_t perms);

namespace detail {
// fd-level libacl adapters shared by Fs and AtomicFile (agent/host only; everything above uses Fs).
// `subject` is the host path used in error messages. Access ACLs need an fd opened for reading or
// writing; default ACLs go through /proc/self/fd/<fd>, so any fd (even O_PATH) of a directory works.
[[nodiscard]] Result<Acl> get_acl_fd(int fd, AclType type, const std::string& subject);
/// Sets exactly `acl` (nothing recomputed; validated first). An empty default ACL removes it.
[[nodiscard]] Result<void> set_acl_fd(int fd, AclType type, const Acl& acl, const std::string& subject);
} // namespace detail

} // namespace zt::host
