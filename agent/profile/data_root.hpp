// SPDX-License-Identifier: Apache-2.0
#pragma once

// service.data_root is chowned to the service user and set to mode 0750 by the data step, so it
// must be a directory of the stack's own: "/etc" there locked every other user out of
// /etc/passwd. data_root_problem() refuses, at config time (file:line:col, exit 78):
//   * the whole subtree of the OS and of the kernel's and runtime's file systems: the FHS 3.0
//     top-level directories that hold the system (/bin /boot /etc /lib* /sbin /usr), the pseudo
//     and volatile ones (/dev /proc /sys /run /tmp /var/run /var/lock), boot/EFI
//     partitions, /var/cache and /var/log (cleaned by other tools), /lost+found, /snap and
//     ztagent's own state (/var/lib/ztagent: the service user must never own it);
//   * exactly, the directories other things live in: the remaining FHS top-level directories
//     (/home /root /opt /srv /mnt /media /var, ...), the FHS /var subdirectories (/var/lib,
//     /var/opt, /var/spool, ...), well-known package-owned /var/lib directories, and the service
//     user's home (and every ancestor of it, e.g. /home);
//   * every ancestor of one of those ("/var" contains /var/lib).
// A path below an exact-only directory is fine: /opt/ztnet-data, /srv/ztnet, /var/lib/ztnet. (/var/tmp
// is kept across reboots by FHS, so a directory below it is allowed, e.g. for tests.)

#include <optional>
#include <string>
#include <string_view>

namespace zt::profile {

/// Why `data_root` (a clean absolute path, not "/") cannot be the data root, or nullopt. `home` is
/// the service user's home directory.
[[nodiscard]] std::optional<std::string> data_root_problem(std::string_view data_root, std::string_view home);

} // namespace zt::profile
