// SPDX-License-Identifier: Apache-2.0
#include "checks/units_versions.hpp"

#include "checks/packages.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>

namespace zt::checks {

namespace {

constexpr std::array k_keys{
    QuadletKey{"Container", "ContainerName", "4.4"},
    QuadletKey{"Container", "Image", "4.4"},
    QuadletKey{"Container", "Environment", "4.4"},
    QuadletKey{"Container", "EnvironmentFile", "4.4"},
    QuadletKey{"Container", "Volume", "4.4"},
    QuadletKey{"Container", "AddDevice", "4.4"},
    QuadletKey{"Container", "AddCapability", "4.4"},
    QuadletKey{"Container", "RunInit", "4.4"},
    QuadletKey{"Container", "PodmanArgs", "4.4"},
    QuadletKey{"Container", "Exec", "4.4"},
    QuadletKey{"Container", "Secret", "4.5"},
    QuadletKey{"Container", "HealthCmd", "4.5"},
    QuadletKey{"Container", "HealthInterval", "4.5"},
    QuadletKey{"Container", "HealthTimeout", "4.5"},
    QuadletKey{"Container", "HealthRetries", "4.5"},
    QuadletKey{"Container", "HealthStartPeriod", "4.5"},
    QuadletKey{"Container", "AutoUpdate", "4.6"},
    QuadletKey{"Container", "Pod", "5.0"},
    QuadletKey{"Container", "StopTimeout", "5.0"},
    QuadletKey{"Pod", "PodName", "5.0"},
    QuadletKey{"Pod", "Network", "5.0"},
    QuadletKey{"Pod", "PublishPort", "5.0"},
};

constexpr std::string_view k_header = "# Managed by ztagent (step \"units\"): local edits are overwritten.\n";

} // namespace

std::span<const QuadletKey> quadlet_keys() {
  return k_keys;
}

std::vector<std::string> unsupported_quadlet_keys(std::string_view content, std::string_view podman_version) {
  const std::string version = upstream_version(podman_version);
  std::vector<std::string> out;
  std::string group;
  for (auto raw : util::lines(content)) {
    const std::string_view line = util::trim(raw);
    if (line.empty() || line.starts_with('#') || line.starts_with(';')) {
      continue;
    }
    if (line.starts_with('[') && line.ends_with(']')) {
      group = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    if (group != "Container" && group != "Pod") {
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    const std::string_view key = util::trim(line.substr(0, eq));
    const auto it = std::find_if(k_keys.begin(), k_keys.end(),
                                 [&](const QuadletKey& k) { return k.group == group && k.key == key; });
    std::string problem;
    if (it == k_keys.end()) {
      problem = group + "." + std::string(key) + "= (not in ztagent's key table)";
    } else if (version.empty() || util::compare_versions(version, it->since) < 0) {
      problem = group + "." + std::string(key) + "= (podman >= " + std::string(it->since) + ")";
    }
    if (!problem.empty() && std::find(out.begin(), out.end(), problem) == out.end()) {
      out.push_back(std::move(problem));
    }
  }
  return out;
}

std::string network_wait_unit(const profile::Stack& stack) {
  std::string out(k_header);
  out += "\n[Unit]\n";
  out += "Description=ZTNet stack " + stack.pod + ": wait for the system's network-online.target\n";
  out += "Documentation=https://github.com/containers/podman/issues/22197\n";
  out += "\n[Service]\n";
  out += "Type=oneshot\n";
  out += "RemainAfterExit=yes\n";
  out += "TimeoutStartSec=90s\n";
  out += "ExecStart=/bin/sh -c 'until systemctl is-active --quiet network-online.target; do sleep 0.5; done'\n";
  return out;
}

} // namespace zt::checks
