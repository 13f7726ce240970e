// SPDX-License-Identifier: Apache-2.0
#pragma once

// Plain, validated specs that the TOML loader (agent/profile/loader.cpp, the only toml++ user)
// produces. Provisioners and checks are built from these; they never see TOML.

#include <cstdint>
#include <string>
#include <vector>

namespace zt::profile {

/// From profiles/<name>.toml: what a distribution needs.
struct ProfileSpec {
  std::string name;          // "debian-12"
  std::string description;   // "Debian 12 (bookworm)"
  std::string source;        // file it came from ("embedded:debian-12.toml" or a path)
  std::string os_id;         // /etc/os-release ID this profile matches ("debian")
  std::vector<std::string> os_version_ids;  // VERSION_ID values it matches ("12")
  std::vector<std::string> steps;           // step ids in order, "preflight" first
  std::string package_manager;              // "apt" | "dnf"
  std::vector<std::string> packages;        // names to install
  std::string podman_min_version;           // floor for the unit style ("4.3")
  bool apparmor_userns = false;             // check Ubuntu's AppArmor userns restriction
};

struct DataDir {
  std::string name;                           // relative to data_root, one path component
  std::uint32_t mode = 0750;
  std::vector<std::uint32_t> container_uids;  // in-container UIDs that write here (postgres = 70)
};

enum class PortStrategy { sysctl, forward, none };

/// From /etc/ztagent/ztagent.toml and --set: what differs per host.
struct SiteConfig {
  // [service]
  std::string user = "ztnet";
  bool system_user = true;
  std::string home;                  // default "/home/<user>"
  std::string shell = "/usr/sbin/nologin";
  std::string data_root = "/opt/ztnet-data";
  // [subids]
  std::uint32_t subid_count = 65536;
  // [data]
  std::vector<DataDir> data_dirs = {{"postgres-data", 0750, {70}}, {"zerotier", 0750, {}}, {"caddy_data", 0750, {}}};
  // [ports]
  PortStrategy port_strategy = PortStrategy::sysctl;
  std::uint32_t unprivileged_port_start = 80;
  std::string sysctl_file = "/etc/sysctl.d/60-ztagent.conf";
  // [preflight]
  std::uint64_t min_free_mib = 1024;
};

struct Config {
  ProfileSpec profile;
  SiteConfig site;
  std::string site_source;  // the site config file, or "" when defaults only
};

} // namespace zt::profile
