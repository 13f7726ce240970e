// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "runtime" (HOST-SPEC "Runtime checks"): checks only, verified after boot. Every check is a
// runtime check (verify --retry-timeout retries it) and skips, not fails, where the stack cannot be
// running: under --root (image mode) or without systemd. "user manager active" is
// linger.user-manager; the units' active state is start.units-active.
//
//   runtime.containers     one `podman ps --all --format json` as the user: every stack container
//                          present, running, and healthy when it has a health check
//   runtime.http           caddy answers HTTP on 127.0.0.1:<public http port> (any status line), and
//                          GET / over HTTPS on the public https port is ztnet's 3xx to /auth/login
//   runtime.zerotier-udp   the "zerotier" UDP port is bound (/proc/net/udp, /proc/net/udp6)
//   runtime.podman-info    `podman info` as the user: rootless, and the pod's network backend is the
//                          one its unit style uses (pasta / slirp4netns)
//   runtime.auto-update    `podman auto-update --dry-run --format json` as the user works and covers
//                          the stack containers
//
// Pure parse_*/judge_* functions carry the logic and are tested with real podman output; probe_*
// run one check's commands and reads without the after-boot gate (this build machine has no
// systemd, so tests call them directly over a TempRoot and a FakeRunner).

#include "checks/check.hpp"
#include "host/net.hpp"
#include "host/tls_probe.hpp"
#include "profile/spec.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// "" on a live host with systemd running, else "not a running system (image mode): checked after boot".
[[nodiscard]] std::string runtime_gate(const host::HostView& host);

/// The stack port with this name, nullptr when none.
[[nodiscard]] const profile::PublishedPort* find_port(const profile::Stack& stack, std::string_view name);

// --- runtime.containers ------------------------------------------------------------------------

struct ContainerStatus {
  std::string name;                      // first of "Names"
  std::string state;                     // "running", "exited", "created", ...
  std::string health;                    // "healthy", "unhealthy", "starting", or "" (none reported)
  std::optional<std::int64_t> exit_code; // "ExitCode"
};

/// The health in a ps "Status" string: "Up 5 minutes (healthy)" -> "healthy"; "" when the string
/// does not end in a parenthesised word ("Exited (1) 2 minutes ago" -> "").
[[nodiscard]] std::string health_from_status(std::string_view status);
/// `podman ps --all --format json` of podman 4.3 and 5.x. Health comes from a "Health" member (a
/// string, or an object with "Status") when present, else from the "Status" string.
[[nodiscard]] Result<std::vector<ContainerStatus>> parse_podman_ps(std::string_view json);
/// Every stack container present, running, and "healthy" when it has a health command (a reported
/// "unhealthy"/"starting" fails even without one). Fail lists each bad container
/// ("ztnet-postgres: exited (1)", "ztnet-ztnet: running, health starting", "ztnet-caddy: missing").
[[nodiscard]] CheckResult judge_containers(const profile::Stack& stack,
                                           const std::string& user,
                                           const std::vector<ContainerStatus>& found);
[[nodiscard]] CheckResult probe_containers(const host::HostView& host, const profile::Config& config);

// --- runtime.http ------------------------------------------------------------------------------

/// runtime.http's judgement of the web UI: `http_answer` is the status line caddy gave on the
/// public http port; `https` what `GET /` on the public https port with the stack's domain got.
/// Passes when that is ztnet's redirect to /auth/login (ztnet image contract: next.config.mjs);
/// a 502/503/504 from caddy fails with a fix naming HOSTNAME=0.0.0.0 and ztnet's journal.
[[nodiscard]] CheckResult judge_web_ui(const profile::Config& config, const std::string& http_answer,
                                       const Result<host::HttpsAnswer>& https);
/// How long runtime.http waits for an answer.
inline constexpr std::chrono::milliseconds k_http_timeout{5000};
/// Probes 127.0.0.1 on the public port of the stack port named "http" (the firewall forward must
/// work too); when that fails with ports.strategy = forward it also probes forward_to, to tell a
/// broken forward from a silent caddy. When it answers, GET / over HTTPS on the public port of the
/// port named "https" (SNI and Host: the stack's domain) must be ztnet's page (judge_web_ui).
[[nodiscard]] CheckResult probe_http(const profile::Config& config,
                                     std::chrono::milliseconds timeout = k_http_timeout);

// --- runtime.zerotier-udp ----------------------------------------------------------------------

struct UdpSocket {
  std::string local_address; // as in the file: "00000000" (IPv4) or 32 hex digits (IPv6)
  std::uint32_t port = 0;
};
/// /proc/net/udp or /proc/net/udp6: one entry per socket line (the header line is skipped).
/// Errc::parse "<path>: line <n>: <what>".
[[nodiscard]] Result<std::vector<UdpSocket>> parse_proc_net_udp(std::string_view text, std::string_view path);
[[nodiscard]] CheckResult judge_udp_bound(std::uint32_t port, const std::vector<UdpSocket>& sockets);
[[nodiscard]] CheckResult probe_zerotier_udp(const host::HostView& host, const profile::Config& config);

// --- runtime.podman-info -----------------------------------------------------------------------

struct PodmanInfo {
  std::optional<bool> rootless;           // host.security.rootless
  std::optional<std::string> network_cmd; // host.rootlessNetworkCmd (podman >= 5; absent in 4.3)
  std::string version;                    // version.Version
};
[[nodiscard]] Result<PodmanInfo> parse_podman_info(std::string_view json);
/// The infra container id from `podman pod inspect <pod> --format json` (an object in 4.x, an array
/// of one in 5.x).
[[nodiscard]] Result<std::string> parse_pod_infra_id(std::string_view json);
/// HostConfig.NetworkMode of `podman container inspect <id> --format json`, up to a ':' ("pasta").
[[nodiscard]] Result<std::string> parse_network_mode(std::string_view json);
/// `pod_network`: the pod's backend from the infra container, or nullopt when the pod could not be
/// inspected (then `pod_note` says why and that half is not judged).
[[nodiscard]] CheckResult judge_podman_info(const PodmanInfo& info,
                                            std::string_view expected_network,
                                            const std::optional<std::string>& pod_network,
                                            const std::string& pod_note,
                                            const std::string& user);
[[nodiscard]] CheckResult probe_podman_info(const host::HostView& host, const profile::Config& config);

// --- runtime.auto-update -----------------------------------------------------------------------

struct AutoUpdateEntry {
  std::string unit;      // "ztnet-ztnet.service"
  std::string container; // name ("ContainerName" in 5.x, from "Container": "<id> (<name>)" in 4.x)
  std::string image;
  std::string policy;  // "registry" | "local"
  std::string updated; // "false" | "pending" | "failed" | "true" | "rolled back"
};
/// `podman auto-update --dry-run --format json`; empty output (nothing to check) is an empty list.
[[nodiscard]] Result<std::vector<AutoUpdateEntry>> parse_auto_update(std::string_view json);
/// Passes when the dry run exits 0 and lists every stack container; a failed image check is named
/// with its image (a "localhost/..." image under AutoUpdate=registry has no registry to check).
[[nodiscard]] CheckResult
judge_auto_update(const profile::Stack& stack, const std::string& user, const host::CommandResult& dry_run);
[[nodiscard]] CheckResult probe_auto_update(const host::HostView& host, const profile::Config& config);

/// runtime.containers, runtime.http, runtime.zerotier-udp, runtime.podman-info, runtime.auto-update.
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_runtime_checks(const profile::Config& config);

} // namespace zt::checks
