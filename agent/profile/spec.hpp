// SPDX-License-Identifier: Apache-2.0
#pragma once

// Plain, validated specs that the TOML loader (agent/profile/, the only toml++ user)
// produces. Provisioners and checks are built from these; they never see TOML.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace zt::profile {

// ---- The ZTNet stack ([stack] in profiles/_base.toml; site config overrides images, domain, ports) ----

/// A port the pod publishes. With ports.strategy = forward and forward_to != 0 the pod publishes
/// forward_to and the firewall redirects `port` to it; otherwise the pod publishes `port` itself.
struct PublishedPort {
  std::string name;                // "http", "https", "zerotier"
  std::uint32_t port = 0;          // public port on the host (80)
  std::uint32_t container = 0;     // port inside the pod (80)
  std::string protocol = "tcp";    // "tcp" | "udp"
  std::uint32_t forward_to = 0;    // unprivileged host port for strategy forward (8080), 0 = none
};

/// A container volume: a data dir (a [[data.dirs]] name, so owner/ACLs are already right) or a
/// stack file's directory, mounted at `target`.
struct Mount {
  std::string source;        // relative to data_root, e.g. "postgres-data" or "caddy/Caddyfile"
  std::string target;        // absolute path inside the container
  bool read_only = false;
};

/// A secret handed to a container as an environment variable.
struct SecretRef {
  std::string secret;        // Stack::secrets name, e.g. "POSTGRES_PASSWORD"
  std::string env;           // variable inside the container, usually the same name
};

struct HealthCheck {
  std::string command;              // run inside the container by podman (shell form, e.g. "pg_isready -U postgres")
  std::string interval = "30s";
  std::string timeout = "10s";
  std::uint32_t retries = 3;
  std::string start_period = "60s";
};

struct Container {
  std::string name;                                        // "postgres"; container/unit name is "<pod>-<name>"
  std::string image;                                       // fully qualified ("docker.io/library/postgres:15-alpine")
  std::vector<std::pair<std::string, std::string>> env;    // {domain} and {pod} resolved in Config::stack
  std::vector<SecretRef> secrets;
  std::vector<Mount> volumes;
  std::vector<std::string> devices;                        // "/dev/net/tun"
  std::vector<std::string> add_capabilities;               // "NET_ADMIN"
  std::vector<std::string> exec;                           // command arguments after the image (empty = image default)
  HealthCheck health;
  std::vector<std::string> after;                          // other container names that must start first
  bool init = false;                                       // run an init as PID 1 (--init / RunInit=true)
  std::uint32_t stop_timeout = 10;                         // seconds; keeps reboots from stalling
};

/// A file ztagent writes under data_root for the containers (e.g. caddy/Caddyfile); content may use
/// the same placeholders as env values. Owned by the service user.
struct StackFile {
  std::string path;          // relative to data_root
  std::string content;
  std::uint32_t mode = 0644;
};

struct SecretSpec {
  std::string name;              // "POSTGRES_PASSWORD"; podman secret "<pod>-<name lowercased, _ -> ->"
  std::uint32_t bytes = 32;      // random bytes from the kernel CSPRNG, hex-encoded (URL/shell safe)
};

struct Stack {
  std::string pod = "ztnet";
  std::string domain = "localhost";                // caddy site address and NEXTAUTH_URL host
  std::vector<PublishedPort> ports;
  std::vector<Container> containers;               // in start order
  std::vector<SecretSpec> secrets;
  std::vector<StackFile> files;
};

/// Where a site config value was written, for errors found only when it meets the profile.
struct SourcePos {
  std::string file;  // the site config path or "--set"
  int line = 0;
  int col = 0;
};

/// [stack.images] <container> = "<image>": replaces that container's image.
struct ImageOverride {
  std::string container;
  std::string image;         // fully qualified
  SourcePos where;
};

/// [stack.ports] <port> = N (public port) or [stack.forward_ports] <port> = N (forward_to, 0 = none).
struct PortOverride {
  std::string port;          // PublishedPort::name
  std::uint32_t value = 0;
  SourcePos where;
};

struct StackOverrides {
  std::string domain;                        // [stack] domain; "" = the profile's
  std::vector<ImageOverride> images;         // at most one per container (later layers win)
  std::vector<PortOverride> ports;           // at most one per port name
  std::vector<PortOverride> forward_ports;   // at most one per port name
};

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
  std::string firewall = "nftables";        // [ports] firewall: "nftables" | "firewalld" (strategy forward)
  bool selinux_labels = false;              // [units] selinux_labels: add ":Z" to every volume mount
  /// [stack] as the profile wrote it: placeholders not substituted, no site overrides. Use
  /// Config::stack (resolve_stack() in loader.hpp), never this, to render or check anything.
  Stack stack = {};
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
  // [stack]: overrides of the profile's stack, applied by resolve_stack()
  StackOverrides stack = {};
  SourcePos data_dirs_where = {};    // where data.dirs was set; file "" = the defaults above
};

struct Config {
  ProfileSpec profile;
  SiteConfig site;
  std::string site_source;  // the site config file, or "" when defaults only
  Stack stack = {};          // the profile's [stack] with the site config's overrides applied
};

} // namespace zt::profile
