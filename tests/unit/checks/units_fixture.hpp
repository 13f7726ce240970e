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

/// The ZTNet stack as HOST-SPEC describes it (pod ztnet; postgres, zerotier, ztnet, caddy; ports
/// 80/443/9993udp with forward_to 8080/8443), placeholders resolved for domain example.com.
inline profile::Stack hostspec_stack() {
  using profile::Container;
  profile::Stack stack;
  stack.pod = "ztnet";
  stack.domain = "example.com";
  stack.ports = {{"http", 80, 80, "tcp", 8080}, {"https", 443, 443, "tcp", 8443}, {"zerotier", 9993, 9993, "udp", 0}};
  stack.secrets = {{"POSTGRES_PASSWORD", 32}, {"NEXTAUTH_SECRET", 32}};

  Container postgres;
  postgres.name = "postgres";
  postgres.image = "docker.io/library/postgres:15.2-alpine";
  postgres.env = {{"POSTGRES_USER", "postgres"}, {"POSTGRES_DB", "ztnet"}};
  postgres.secrets = {{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD"}};
  postgres.volumes = {{"postgres-data", "/var/lib/postgresql/data", false}};
  postgres.health = {"pg_isready -U postgres -d ztnet", "30s", "10s", 5, "30s"};
  postgres.stop_timeout = 30;

  Container zerotier;
  zerotier.name = "zerotier";
  zerotier.image = "docker.io/zyclonite/zerotier:1.14.2";
  zerotier.env = {{"ZT_OVERRIDE_LOCAL_CONF", "true"}, {"ZT_ALLOW_MANAGEMENT_FROM", "127.0.0.1"}};
  zerotier.volumes = {{"zerotier", "/var/lib/zerotier-one", false}};
  zerotier.devices = {"/dev/net/tun"};
  zerotier.add_capabilities = {"NET_ADMIN"};
  zerotier.health = {"zerotier-cli info", "30s", "10s", 3, "30s"};

  Container ztnet;
  ztnet.name = "ztnet";
  ztnet.image = "docker.io/sinamics/ztnet:v0.7.5";
  ztnet.env = {{"POSTGRES_HOST", "127.0.0.1"},
               {"POSTGRES_PORT", "5432"},
               {"POSTGRES_USER", "postgres"},
               {"POSTGRES_DB", "ztnet"},
               {"NEXTAUTH_URL", "https://example.com"},
               {"NEXTAUTH_URL_INTERNAL", "http://127.0.0.1:3000"},
               {"ZT_ADDR", "http://127.0.0.1:9993"}};
  ztnet.secrets = {{"POSTGRES_PASSWORD", "POSTGRES_PASSWORD"}, {"NEXTAUTH_SECRET", "NEXTAUTH_SECRET"}};
  ztnet.volumes = {{"zerotier", "/var/lib/zerotier-one", false}};
  ztnet.health = {"wget -q -O /dev/null http://127.0.0.1:3000/api/auth/providers || exit 1", "30s", "10s", 3, "120s"};
  ztnet.after = {"postgres", "zerotier"};
  ztnet.init = true;

  Container caddy;
  caddy.name = "caddy";
  caddy.image = "docker.io/library/caddy:2.8-alpine";
  caddy.volumes = {{"caddy_data", "/data", false}, {"caddy/Caddyfile", "/etc/caddy/Caddyfile", true}};
  caddy.health = {"wget -q -O /dev/null http://127.0.0.1:2019/config/ || exit 1", "30s", "10s", 3, "30s"};
  caddy.after = {"ztnet"};

  stack.containers = {postgres, zerotier, ztnet, caddy};
  stack.files = {{"caddy/Caddyfile", "example.com {\n\treverse_proxy 127.0.0.1:3000\n}\n", 0644}};
  return stack;
}

/// The UnitsSpec of a shipped profile with default site settings and the HOST-SPEC stack.
inline checks::UnitsSpec units_spec_for(const std::string& profile_name) {
  auto profile = profile::load_profile(profile_name, "");
  INFO(profile_name);
  REQUIRE(profile);
  checks::UnitsSpec spec;
  spec.user = "ztnet";
  spec.data_root = "/opt/ztnet-data";
  spec.selinux_labels = profile->selinux_labels;
  spec.profile = *profile;
  spec.stack = hostspec_stack();
  return spec;
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
