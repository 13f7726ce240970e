// SPDX-License-Identifier: Apache-2.0
#include "checks/stack.hpp"

#include "checks/packages.hpp"
#include "util/strings.hpp"

#include <cctype>

namespace zt::checks {

std::string_view to_string(UnitStyle style) {
  switch (style) {
  case UnitStyle::quadlet_pod:
    return "quadlet-pod";
  case UnitStyle::quadlet_container:
    return "quadlet-container";
  case UnitStyle::classic:
    return "classic";
  }
  return "classic";
}

Result<UnitStyle> style_for_podman(std::string_view version) {
  const std::string upstream = upstream_version(version);
  if (upstream.empty()) {
    return make_error(Errc::parse, "podman version '" + std::string(version) + "': not a dotted number");
  }
  if (util::compare_versions(upstream, "5.0") >= 0) {
    return UnitStyle::quadlet_pod;
  }
  // Quadlet exists from 4.4, but a 4.4 generator knows neither Secret= nor Health*= (4.5) and a 4.5
  // one not AutoUpdate= (4.6); an unknown key makes it generate no service at all. So Quadlet from
  // 4.6 (checks/units_versions.hpp has the key table), classic units below.
  if (util::compare_versions(upstream, k_quadlet_container_min) >= 0) {
    return UnitStyle::quadlet_container;
  }
  return UnitStyle::classic;
}

bool podman_has_user_network_wait(std::string_view version) {
  return util::compare_versions(upstream_version(version), "5.3") >= 0;
}

std::string network_wait_service(const profile::Stack& stack, std::string_view podman_version) {
  if (podman_has_user_network_wait(podman_version)) {
    return std::string(k_podman_network_wait);
  }
  return own_network_wait_service(stack);
}

std::string own_network_wait_service(const profile::Stack& stack) {
  return stack.pod + "-wait-network-online.service";
}

Result<std::string> installed_podman_version(const host::HostView& host, const profile::ProfileSpec& profile) {
  ZT_TRY_ASSIGN(installed, query_installed(host, profile.package_manager, {"podman"}));
  auto it = installed.find("podman");
  if (it == installed.end()) {
    return make_error(Errc::not_found, "podman: not installed (run `ztagent provision --only packages`)");
  }
  std::string upstream = upstream_version(it->second);
  if (upstream.empty()) {
    return make_error(Errc::parse, "podman: unrecognised package version '" + it->second + "'");
  }
  return upstream;
}

std::string_view pod_network(UnitStyle style) {
  return style == UnitStyle::classic ? "slirp4netns" : "pasta";
}

std::string container_name(const profile::Stack& stack, const profile::Container& container) {
  return stack.pod + "-" + container.name;
}

std::string pod_service(const profile::Stack& stack) {
  return stack.pod + "-pod.service";
}

std::string container_service(const profile::Stack& stack, const profile::Container& container) {
  return container_name(stack, container) + ".service";
}

std::uint32_t published_host_port(profile::PortStrategy strategy, const profile::PublishedPort& port) {
  if (strategy == profile::PortStrategy::forward && port.forward_to != 0) {
    return port.forward_to;
  }
  return port.port;
}

std::vector<std::string> stack_services(const profile::Stack& stack) {
  std::vector<std::string> out{pod_service(stack)};
  for (const auto& c : stack.containers) {
    out.push_back(container_service(stack, c));
  }
  return out;
}

std::string user_systemd_dir(const host::Account& account) {
  return account.home + "/.config/systemd/user";
}

std::string unit_dir(const host::Account& account, UnitStyle style) {
  return style == UnitStyle::classic ? user_systemd_dir(account) : account.home + "/.config/containers/systemd";
}

std::string_view to_string(SecretStore store) {
  return store == SecretStore::podman ? "podman secrets" : "0600 files";
}

std::string podman_secret_name(const profile::Stack& stack, const profile::SecretSpec& secret) {
  std::string out = stack.pod + "-";
  for (char c : secret.name) {
    out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string secrets_dir(const host::Account& account) {
  return account.home + "/.config/ztagent/secrets";
}

std::string secret_env_file(const host::Account& account, const profile::Stack& stack,
                            const profile::Container& container) {
  return secrets_dir(account) + "/" + container_name(stack, container) + ".env";
}

Result<SecretStore> choose_secret_store(const host::HostView& host, const host::Account& account) {
  ZT_TRY_ASSIGN(st, host.fs().lstat(secrets_dir(account)));
  if (st.exists()) {
    return SecretStore::files;
  }
  return host.live() ? SecretStore::podman : SecretStore::files;
}

} // namespace zt::checks
