// SPDX-License-Identifier: Apache-2.0
#pragma once

// Which podman accepts which unit: the Quadlet keys ztagent writes with the first podman whose
// generator knows them, and the user unit that waits for the host network before the pod starts.
//
// The key table was read from pkg/systemd/quadlet/quadlet.go (supportedContainerKeys,
// supportedPodKeys) of containers/podman at the tags v4.4.0, v4.5.0, v4.6.0, v4.7.0, v4.8.0, v4.9.0
// and v5.0.0. A generator up to 5.x rejects a file with an unknown key in [Container] or [Pod]
// ("unsupported key 'X' in group 'Container'") and generates no service for it; [Unit], [Service]
// and [Install] are systemd's and passed through as they are.

#include "profile/spec.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

struct QuadletKey {
  std::string_view group; // "Container" | "Pod"
  std::string_view key;
  std::string_view since; // first podman release whose Quadlet accepts it
};

/// Every Quadlet key the renderer may write.
[[nodiscard]] std::span<const QuadletKey> quadlet_keys();

/// The [Container]/[Pod] keys of a rendered Quadlet file that podman `podman_version`'s generator
/// does not accept, as "Container.AutoUpdate= (podman >= 4.6)"; a key missing from quadlet_keys()
/// is reported as "Container.X= (not in ztagent's key table)". Empty when every key is accepted.
[[nodiscard]] std::vector<std::string> unsupported_quadlet_keys(std::string_view content,
                                                                std::string_view podman_version);

/// The ztagent-written user unit that waits for the system manager's network-online.target, for
/// podman < 5.3 (modelled on podman 5.3's podman-user-wait-network-online.service: a oneshot polling
/// `systemctl is-active network-online.target`, at most 90 s; the units order After= and Wants= it,
/// so a host whose target never comes up still starts the stack after the timeout).
[[nodiscard]] std::string network_wait_unit(const profile::Stack& stack);

} // namespace zt::checks
