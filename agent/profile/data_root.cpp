// SPDX-License-Identifier: Apache-2.0
#include "profile/data_root.hpp"

#include <array>
#include <initializer_list>
#include <span>

namespace zt::profile {

namespace {

// Whole subtrees (FHS 3.0 ch. 3, 5, 6 and the Linux annex; systemd's file-hierarchy(7)).
constexpr std::array<std::string_view, 24> k_system_trees = {
    "/bin",  "/boot",     "/dev",      "/efi",      "/etc",          "/lib",       "/lib32",
    "/lib64", "/libx32",  "/lost+found", "/proc",   "/run",          "/sbin",      "/snap",
    "/sys",  "/tmp",      "/usr",      "/var/cache", "/var/lib/ztagent", "/var/lock", "/var/log",
    "/var/run", "/cdrom",   "/sysroot",
};

// Exactly these (and their ancestors): where other software and users keep their own files.
constexpr std::array<std::string_view, 37> k_system_dirs = {
    "/home", "/root", "/opt", "/srv", "/mnt", "/media", "/var", "/nix",
    // FHS 3.0 ch. 5: /var's subdirectories.
    "/var/lib", "/var/local", "/var/opt", "/var/spool", "/var/mail", "/var/backups", "/var/crash",
    "/var/games", "/var/account", "/var/yp", "/var/tmp",
    // Package-owned state under /var/lib that a chown/chmod 0750 would break.
    "/var/lib/dpkg", "/var/lib/apt", "/var/lib/systemd", "/var/lib/containers", "/var/lib/dbus",
    "/var/lib/polkit-1", "/var/lib/sudo", "/var/lib/ucf", "/var/lib/rpm", "/var/lib/dnf",
    "/var/lib/private", "/var/lib/machines", "/var/lib/portables", "/var/lib/postgresql",
    "/var/lib/docker", "/var/lib/snapd", "/var/lib/AccountsService", "/var/lib/misc",
};

/// True when `inner` is `outer` or below it, component-wise ("/etc" contains "/etc/x", not "/etcx").
bool within(std::string_view inner, std::string_view outer) {
  return inner == outer || (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
}

std::string quoted(std::string_view p) {
  return "'" + std::string(p) + "'";
}

constexpr std::string_view k_why = " (the data step would chown it to the service user and set mode 0750); "
                                   "use a directory of the stack's own, e.g. /opt/ztnet-data or /srv/ztnet";

} // namespace

std::optional<std::string> data_root_problem(std::string_view data_root, std::string_view home) {
  for (const auto dir : k_system_trees) {
    if (data_root == dir) {
      return quoted(data_root) + " is a system directory" + std::string(k_why);
    }
  }
  for (const auto dir : k_system_dirs) {
    if (data_root == dir) {
      return quoted(data_root) + " is a system directory" + std::string(k_why);
    }
  }
  for (const auto tree : k_system_trees) {
    if (within(data_root, tree)) {
      return quoted(data_root) + " is inside the system directory " + std::string(tree) + std::string(k_why);
    }
  }
  for (const auto& list : {std::span<const std::string_view>(k_system_trees), std::span<const std::string_view>(k_system_dirs)}) {
    for (const auto dir : list) {
      if (within(dir, data_root)) {
        return quoted(data_root) + " contains the system directory " + std::string(dir) + std::string(k_why);
      }
    }
  }
  if (!home.empty() && within(home, data_root)) {
    return quoted(data_root) + (data_root == home ? " is" : " contains") + " the service user's home " +
           std::string(home) + std::string(k_why);
  }
  return std::nullopt;
}

} // namespace zt::profile
