// SPDX-License-Identifier: Apache-2.0
#pragma once

// Names and decisions about the ZTNet stack that several steps share (secrets, units, start,
// runtime). One place, so a unit name or a secret's location can never differ between the step
// that writes it and the check that verifies it.

#include "host/accounts.hpp"
#include "host/host.hpp"
#include "profile/spec.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// How the stack's units are written, decided from the *installed* podman version (HOST-SPEC
/// "Version facts"): quadlet_pod >= 5.0 (.pod + .container), quadlet_container 4.6-4.9 (.container
/// units joined to a pod that a ztagent-written ztnet-pod.service creates), classic < 4.6 (user units
/// in ~/.config/systemd/user written by ztagent; `podman generate systemd` is deprecated). Quadlet
/// 4.4/4.5 lacks keys the stack needs (Secret=/Health*= 4.5, AutoUpdate= 4.6), so those render classic.
enum class UnitStyle { quadlet_pod, quadlet_container, classic };

/// The oldest podman whose Quadlet knows every key the quadlet_container style writes.
inline constexpr std::string_view k_quadlet_container_min = "4.6";
/// podman's own user unit that waits for the system's network-online.target (podman >= 5.3,
/// contrib/systemd/user/podman-user-wait-network-online.service); Quadlet orders every unit it
/// generates after it unless [Quadlet] DefaultDependencies=false.
inline constexpr std::string_view k_podman_network_wait = "podman-user-wait-network-online.service";

[[nodiscard]] std::string_view to_string(UnitStyle style);
/// "5.4.2" -> quadlet_pod, "4.9.3" -> quadlet_container, "4.5.1" and "4.3.1" -> classic. Errc::parse
/// when `version` does not start with a dotted number.
[[nodiscard]] Result<UnitStyle> style_for_podman(std::string_view version);
/// True from podman 5.3, which ships k_podman_network_wait.
[[nodiscard]] bool podman_has_user_network_wait(std::string_view version);
/// The user unit the stack's units wait on for the host network: podman's own from 5.3, else the
/// ztagent-written "<pod>-wait-network-online.service" (user units cannot order on the system
/// manager's network-online.target; rootless pasta fails when started before the network is up,
/// podman#22197).
[[nodiscard]] std::string network_wait_service(const profile::Stack& stack, std::string_view podman_version);
/// "<pod>-wait-network-online.service": ztagent's network wait (checks/units_versions.hpp).
[[nodiscard]] std::string own_network_wait_service(const profile::Stack& stack);
/// The upstream version of the installed podman package from the package database ("4.3.1"), read
/// the way the packages checks read it (works under --root). Errc::not_found when not installed.
[[nodiscard]] Result<std::string> installed_podman_version(const host::HostView& host,
                                                           const profile::ProfileSpec& profile);
/// The rootless network the pod uses: "pasta" from podman 4.4, else "slirp4netns".
[[nodiscard]] std::string_view pod_network(UnitStyle style);

/// "<pod>-<name>" (container name and the stem of its unit).
[[nodiscard]] std::string container_name(const profile::Stack& stack, const profile::Container& container);
/// "<pod>-pod.service": the unit that owns the pod, in every style.
[[nodiscard]] std::string pod_service(const profile::Stack& stack);
/// "<pod>-<name>.service".
[[nodiscard]] std::string container_service(const profile::Stack& stack, const profile::Container& container);
/// The host port the pod publishes for `port`: forward_to under ports.strategy = forward (when set),
/// else the public port itself. The units publish it; the runtime checks probe it.
[[nodiscard]] std::uint32_t published_host_port(profile::PortStrategy strategy, const profile::PublishedPort& port);
/// Pod unit first, then the containers in stack order.
[[nodiscard]] std::vector<std::string> stack_services(const profile::Stack& stack);

/// "<home>/.config/containers/systemd" for Quadlet, "<home>/.config/systemd/user" for classic.
[[nodiscard]] std::string unit_dir(const host::Account& account, UnitStyle style);
/// "<home>/.config/systemd/user" (enablement symlinks, classic units, the 4.4-4.9 pod unit).
[[nodiscard]] std::string user_systemd_dir(const host::Account& account);

/// Where the secrets live. podman: podman secrets of the user. files: one env file per container
/// under secrets_dir(), mode 0600, owned by the user (image mode, where podman cannot run).
enum class SecretStore { podman, files };
[[nodiscard]] std::string_view to_string(SecretStore store);
/// "<pod>-" + name lowercased with '_' -> '-': POSTGRES_PASSWORD -> "ztnet-postgres-password".
[[nodiscard]] std::string podman_secret_name(const profile::Stack& stack, const profile::SecretSpec& secret);
/// "<home>/.config/ztagent/secrets" (directory mode 0700, owned by the user).
[[nodiscard]] std::string secrets_dir(const host::Account& account);
/// secrets_dir + "/<pod>-<name>.env": the container's secret variables, "ENV=value" lines.
[[nodiscard]] std::string secret_env_file(const host::Account& account, const profile::Stack& stack,
                                          const profile::Container& container);
/// files when secrets_dir() already exists (an image provisioned offline keeps its files after
/// boot: secrets are generated once and reused), else podman on a live host, else files.
[[nodiscard]] Result<SecretStore> choose_secret_store(const host::HostView& host, const host::Account& account);

} // namespace zt::checks
