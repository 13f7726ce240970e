// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the units check and provisioner tests: a UnitsSpec for a shipped profile, and a
// TempRoot prepared with the service user, its home and an installed podman of a given version.

#include "checks/units.hpp"
#include "profile/loader.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace zt::test {

/// The UnitsSpec of a shipped profile (its [stack] from profiles/_base.toml) with default site
/// settings, built the way the step factory builds it (units_spec_from(Config)).
inline checks::UnitsSpec units_spec_for(const std::string& profile_name) {
  INFO(profile_name);
  auto profile = profile::load_profile(profile_name, "");
  REQUIRE(profile);
  auto site = profile::load_site_config("", "", {});
  REQUIRE(site);
  auto stack = profile::resolve_stack(*profile, *site);
  REQUIRE(stack);
  profile::Config config;
  config.profile = *profile;
  config.site = *site;
  config.stack = *stack;
  return checks::units_spec_from(config);
}

inline host::Account ztnet_account() {
  return {"ztnet", 999, 999, "/home/ztnet", "/usr/sbin/nologin"};
}

/// dpkg status with podman at `version` (Debian package version).
inline std::string dpkg_status_with_podman(const std::string& version) {
  return "Package: podman\nStatus: install ok installed\nVersion: " + version + "\n";
}

/// User ztnet (999), its home, data_root and podman `version` installed per dpkg.
inline void prepare_units_root(TempRoot& root, const std::string& podman_version) {
  root.add_user("ztnet", 999, 999, "/home/ztnet");
  root.mkdir("/home/ztnet");
  root.mkdir("/opt/ztnet-data");
  root.write("/var/lib/dpkg/status", dpkg_status_with_podman(podman_version));
  root.write("/usr/lib/systemd/user/podman-auto-update.timer", "[Timer]\nOnCalendar=daily\n");
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace zt::test
