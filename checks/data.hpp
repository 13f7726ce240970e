// SPDX-License-Identifier: Apache-2.0
#pragma once

// The data tree of the stack (HOST-SPEC step 4): data_root and data_root/<name> for each data dir.
//
// Desired state of each managed directory:
//   - a real directory (never a symlink: the tree is writable by the unprivileged user and ztagent
//     runs as root), owned by user:<user's primary group>, mode from the spec (data_root 0750);
//   - access ACL {user::<owner bits>, user:<uid>:rwx, group::<group bits>, mask::<group bits>,
//     other::<other bits>}. The mask equals the mode's group bits, so `stat` still reads 0750 and a
//     mode fix and an ACL fix never undo each other (a named entry normally recomputes the mask);
//   - on each data dir (not on data_root) a default ACL {user::rwx, user:<uid>:rwx,
//     user:<mapped>:rwx per container uid, group::r-x, mask::rwx, other::---}, where a container uid
//     n maps to subuid_start + n - 1 on the host (rootless podman; n = 0 is the user itself).
// data_root gets no default ACL: ztagent creates every managed directory itself and sets both ACLs
// explicitly, so inheritance from data_root would add nothing; an existing default ACL on data_root
// is left alone (not managed).
//
// Mode and access ACL overlap (user::, mask:: and other:: *are* the mode bits). To keep "exactly one
// check fails per tampered aspect", the ACL comparisons take those three from the mode
// (with_mode_bits): the mode check owns them, the ACL check owns the named entries and group::.

#include "checks/check.hpp"
#include "checks/subids.hpp"
#include "host/host.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

struct DataDirSpec {
  std::string name; // one path component below data_root
  std::uint32_t mode = 0750;
  std::vector<std::uint32_t> container_uids; // in-container uids that write here (postgres = 70)
};

struct DataSpec {
  std::string user = "ztnet";
  std::string data_root = "/opt/ztnet-data";
  std::uint32_t root_mode = 0750;
  std::vector<DataDirSpec> dirs;
  std::uint64_t subid_count = 65536; // container uids above this have no host mapping
};

/// One managed directory. data_root has name "root" and no default ACL.
struct DataTarget {
  std::string name; // "root" or the data dir's name (used in check ids)
  std::string path; // host path
  std::uint32_t mode = 0750;
  std::vector<std::uint32_t> container_uids;
  bool default_acl = true;
};

/// data_root first, then each data dir in spec order.
[[nodiscard]] std::vector<DataTarget> data_targets(const DataSpec& spec);

/// Parents of data_root, outermost first: "/opt/ztnet-data" -> {"/", "/opt"}.
[[nodiscard]] std::vector<std::string> data_parents(const DataSpec& spec);

/// The access ACL a managed directory should have (normalized): the user, and the mapped container
/// uids that write below it (host uids, see map_container_uid) — they must be able to enter the
/// mount point, e.g. postgres (uid 70) its data volume [podman#6433]. Named entries are rwx; the
/// mask stays at the mode's group bits, so they get what the mode's group gets.
[[nodiscard]] host::Acl desired_access_acl(std::uint32_t mode, std::uint32_t uid,
                                           const std::vector<std::uint32_t>& mapped_uids = {});
/// The default ACL of a data dir (normalized): `mapped_uids` are host uids (see map_container_uid).
[[nodiscard]] host::Acl desired_default_acl(std::uint32_t uid, const std::vector<std::uint32_t>& mapped_uids);
/// The ACL as chmod(mode) would leave it: user:: and other:: from the mode, and the group bits into
/// mask:: when there is one, else into group:: (normalized).
[[nodiscard]] host::Acl with_mode_bits(host::Acl acl, std::uint32_t mode);

/// Host uid of an in-container uid under rootless podman: 0 -> `user_uid`, n -> range.start + n - 1.
/// Errc::invalid_config when n lies beyond the range.
[[nodiscard]] Result<std::uint32_t>
map_container_uid(std::uint32_t container_uid, std::uint32_t user_uid, const SubIdEntry& range);

/// "add user:999:rwx, remove group:5:r-x, group::rwx -> group::r-x"; "set <text>" when current is
/// empty; "" when equal.
[[nodiscard]] std::string describe_acl_diff(const host::Acl& current, const host::Acl& desired);

/// Whether uid (primary gid `gid`) may search a directory with this stat and access ACL (POSIX.1e
/// access check: owner, named user & mask, owning/named group & mask, other). Supplementary groups
/// are not considered.
[[nodiscard]] bool
can_traverse(const host::FileStat& st, const host::Acl& access, std::uint32_t uid, std::uint32_t gid);


/// The owner the data tree should have, resolved from the accounts.
struct DataOwner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string text;                 // "ztnet:ztnet"
  std::optional<SubIdEntry> subuid; // first range of the user in /etc/subuid, if any
};

/// nullopt when the user does not exist (yet). Errors: reading accounts or /etc/subuid failed.
[[nodiscard]] Result<std::optional<DataOwner>> read_data_owner(const host::HostView& host,
                                                               const DataSpec& spec);

/// "name:group" for any uid/gid, numeric where no account or group has that id.
[[nodiscard]] std::string owner_text(const host::Accounts& accounts, std::uint32_t uid, std::uint32_t gid);

/// The default ACL a target should have. Errc::not_found when container uids need the user's subuid
/// range and it has none; Errc::invalid_config when a container uid is outside the range.
[[nodiscard]] Result<host::Acl> desired_default_for(const DataTarget& target, const DataOwner& owner);
/// The access ACL a target should have, with its mapped container uids; errors as desired_default_for.
[[nodiscard]] Result<host::Acl> desired_access_for(const DataTarget& target, const DataOwner& owner);

/// lstat of a managed path: the stat when it is missing or a directory; Errc::refused with the
/// message the step reports when it is a symlink or anything else.
[[nodiscard]] Result<host::FileStat> lstat_managed(const host::Fs& fs, const std::string& path);

/// The checks: per target "data.<name>.owner", "data.<name>.mode", "data.<name>.acl",
/// "data.<name>.default-acl" (not for root), then "data.parents-traversable", "data.no-symlinks".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_data_checks(const DataSpec& spec);

} // namespace zt::checks
