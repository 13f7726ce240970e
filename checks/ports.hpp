// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "ports", strategy sysctl: the rootless stack binds 80/443 because
// net.ipv4.ip_unprivileged_port_start <= 80, both live (/proc) and persisted (sysctl.d).
//
// The persisted value is computed the way systemd-sysctl does at boot: *.conf files from the
// sysctl.d directories (a file name in an earlier directory shadows the same name in later ones),
// applied in file-name order, later assignments winning; then /etc/sysctl.conf, which Debian's procps
// applies last (Debian links /etc/sysctl.d/99-sysctl.conf to it; that link is not counted twice).
// Keys with '/' or '.' separators are the same key; a leading '-' only silences errors; lines
// starting with '#' or ';' are comments. Glob keys (systemd >= 251) are not interpreted.
//
// Pure functions (render_*, parse_*, order_*, effective_*, evaluate_*) carry the logic and are
// table-tested; read_* functions are the thin I/O layer over host::Fs.

#include "checks/check.hpp"
#include "profile/spec.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

inline constexpr std::string_view k_port_start_key = "net.ipv4.ip_unprivileged_port_start";
inline constexpr std::string_view k_port_start_proc = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
inline constexpr std::string_view k_sysctl_conf = "/etc/sysctl.conf";
/// The kernel's value when nothing sets it.
inline constexpr std::uint32_t k_kernel_default_port_start = 1024;

/// The message for ports.strategy = "forward" (plan error and check error alike).
inline constexpr std::string_view k_forward_unsupported =
    "ports: strategy 'forward' (nftables/firewalld) is not implemented yet; use ports.strategy = \"sysctl\" "
    "or \"none\"";

/// The exact bytes of ztagent's sysctl.d file.
[[nodiscard]] std::string render_ports_sysctl(std::uint32_t port_start);

/// systemd-sysctl's normalization to the dotted form: when the first separator is '/', '/' and '.'
/// swap ("net/ipv4/a.b" -> "net.ipv4.a/b"); otherwise the key is kept.
[[nodiscard]] std::string normalize_sysctl_key(std::string_view key);

struct SysctlAssignment {
  std::string key; // normalized
  std::string value;
  std::size_t line = 0; // 1-based
};

/// Assignments of one sysctl.d/sysctl.conf file, in order. Lines without '=' are ignored (systemd
/// warns and skips them).
[[nodiscard]] std::vector<SysctlAssignment> parse_sysctl_conf(std::string_view text);

/// The sysctl.d directories, highest priority first.
[[nodiscard]] const std::vector<std::string>& sysctl_dirs();

struct SysctlDirListing {
  std::string dir;                // "/etc/sysctl.d"
  std::vector<std::string> names; // entry names in it
};

/// Host paths systemd-sysctl reads, in application order: "*.conf" names, deduplicated by name
/// (first listing wins), sorted by name. `listings` are in priority order.
[[nodiscard]] std::vector<std::string> order_sysctl_files(const std::vector<SysctlDirListing>& listings);

struct SysctlFile {
  std::string path;
  std::string content;
};

struct EffectiveSetting {
  std::string file;
  std::size_t line = 0;
  std::string value;
};

/// The last assignment of `key` (normalized) across `files` in order; nullopt when none sets it.
[[nodiscard]] std::optional<EffectiveSetting> effective_sysctl(const std::vector<SysctlFile>& files,
                                                               std::string_view key);

/// Reads the files systemd-sysctl would apply at boot, in order, then /etc/sysctl.conf. A *.d entry
/// that is a symlink with the same content as /etc/sysctl.conf (Debian's 99-sysctl.conf) is dropped;
/// a dangling symlink or one to /dev/null (a mask) counts as empty. `overlay`, when given, stands in
/// for the file at its path as if it had been written (plan() asks "what would boot do after apply").
[[nodiscard]] Result<std::vector<SysctlFile>>
read_sysctl_files(const host::Fs& fs, const std::optional<SysctlFile>& overlay = {});

// --- evaluators (pure) -------------------------------------------------------------------------

/// ports.sysctl-persisted: the file at `path` has exactly render_ports_sysctl(port_start), mode
/// 0644, owner root:root. `content` is nullopt when the file is missing.
[[nodiscard]] CheckResult evaluate_sysctl_persisted(std::string_view path,
                                                    const host::FileStat& stat,
                                                    const std::optional<std::string>& content,
                                                    std::uint32_t port_start);
/// ports.sysctl-effective: the value boot applies is <= port_start.
/// ports.sysctl-effective answers one question: does another sysctl file override ztagent's?
/// It fails only when a file other than `own_file` wins with a value above port_start. When the
/// winner is ztagent's own file (or nothing sets the key), its content is ports.sysctl-persisted's
/// business: a value above port_start there is reported as skip, so one tampered file fails
/// exactly one check.
[[nodiscard]] CheckResult evaluate_sysctl_effective(const std::optional<EffectiveSetting>& effective,
                                                    std::uint32_t port_start,
                                                    std::string_view own_file);
/// ports.sysctl-live: the /proc value is <= port_start.
[[nodiscard]] CheckResult evaluate_sysctl_live(std::string_view proc_value, std::uint32_t port_start);

/// "ports.sysctl-persisted", "ports.sysctl-effective", "ports.sysctl-live" for the site's strategy
/// (skip for none, error for forward).
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_ports_checks(const profile::SiteConfig& site);

} // namespace zt::checks
