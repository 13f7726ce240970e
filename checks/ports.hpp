// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "ports", strategy sysctl: the rootless stack binds 80/443 because
// net.ipv4.ip_unprivileged_port_start <= 80, both live (/proc) and persisted (sysctl.d).
// Strategy forward: the pod publishes unprivileged ports (8080/8443) and the firewall redirects the
// public ones to them, for incoming and for locally generated traffic (see "strategy forward" below).
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
#include "host/command_runner.hpp"
#include "host/fs.hpp"
#include "host/host.hpp"
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

// --- strategy forward ----------------------------------------------------------------------------
//
// nftables (Debian/Ubuntu): ztagent owns exactly one table, `table inet ztagent`, and never touches
// any other. It holds two nat chains: prerouting (incoming traffic) and output restricted to
// `fib daddr type local` (the host's own connections to any of its addresses, so
// `curl http://localhost/` works; connections to other hosts are left alone). The table is persisted
// in k_nft_conf in a re-runnable form (`table inet ztagent {}` + `delete table inet ztagent` + the
// table: `nft -f` replaces it atomically, whether or not it exists) and loaded at boot by ztagent's
// own unit k_forward_unit (After=nftables.service, whose `flush ruleset` would otherwise drop it),
// enabled with the same symlink `systemctl enable` makes.
//
// firewalld (Fedora/RHEL): the default zone's permanent forward-ports (`port=80:proto=tcp:toport=8080`)
// handle incoming traffic. A zone forward-port never sees locally generated traffic, and a policy
// with ingress-zone HOST needs egress-zone ANY plus to-addr, which would also redirect the host's own
// connections to remote port 80 (package mirrors). So local traffic uses a permanent direct rule per
// family, `nat OUTPUT 0 -o lo -p tcp --dport 80 -j REDIRECT --to-ports 8080`: traffic to any local
// address is routed via lo, which is exactly what nftables' `fib daddr type local` matches. The
// direct interface is deprecated but still present in firewalld 2.x; it needs ip(6)tables (-nft).

inline constexpr std::string_view k_nft_family_table = "inet ztagent";
inline constexpr std::string_view k_nft_conf = "/etc/ztagent/nftables.conf";
inline constexpr std::string_view k_nft_binary = "/usr/sbin/nft";
inline constexpr std::string_view k_forward_unit = "ztagent-forward.service";
inline constexpr std::string_view k_forward_unit_path = "/etc/systemd/system/ztagent-forward.service";
inline constexpr std::string_view k_forward_wants_link =
    "/etc/systemd/system/multi-user.target.wants/ztagent-forward.service";

/// One redirect: public `port` -> `to` (unprivileged, what the pod publishes).
struct PortForward {
  std::uint32_t port = 0;
  std::uint32_t to = 0;
  std::string protocol = "tcp"; // "tcp" | "udp"
  friend bool operator==(const PortForward&, const PortForward&) = default;
};

/// The stack's ports with forward_to != 0, in order.
[[nodiscard]] std::vector<PortForward> port_forwards(const profile::Stack& stack);

/// The table as `nft list table inet ztagent` prints it (nft 1.0.x layout).
[[nodiscard]] std::string render_nft_table(const std::vector<PortForward>& forwards);
/// The exact bytes of k_nft_conf: a comment, `table inet ztagent {}`, `delete table inet ztagent`,
/// then render_nft_table().
[[nodiscard]] std::string render_nft_conf(const std::vector<PortForward>& forwards);
/// The exact bytes of k_forward_unit_path.
[[nodiscard]] std::string render_forward_unit();

/// A listing reduced for comparison: lines trimmed, blank lines dropped, runs of blanks collapsed,
/// `priority dstnat` spelled -100 (nft prints the name only on some hooks and versions).
[[nodiscard]] std::vector<std::string> normalize_nft_listing(std::string_view text);

/// ports.forward-live (nftables) from `nft list table inet ztagent`'s result: pass when the listing
/// equals render_nft_table(forwards) after normalize_nft_listing; fail when the table is missing or
/// differs (actual names the first differing line); error when nft failed otherwise.
[[nodiscard]] CheckResult evaluate_nft_live(const host::CommandResult& listing,
                                            const std::vector<PortForward>& forwards);

/// What ztagent adds to firewalld, each as the list commands print it.
struct FirewalldItem {
  enum class Kind { forward_port, direct_rule };
  Kind kind = Kind::forward_port;
  std::string text; // "port=80:proto=tcp:toport=8080" or "ipv4 nat OUTPUT 0 -o lo -p tcp --dport 80 ..."
  friend bool operator==(const FirewalldItem&, const FirewalldItem&) = default;
};

/// Per forward: one forward-port, then one direct rule for ipv4 and one for ipv6.
[[nodiscard]] std::vector<FirewalldItem> firewalld_items(const std::vector<PortForward>& forwards);
/// `firewall-cmd [--permanent] ...` argv that adds `item` (permanent only).
[[nodiscard]] std::vector<std::string> firewalld_add_argv(const FirewalldItem& item);

/// firewalld's forward ports and direct rules, as listed by firewall-cmd.
struct FirewalldListing {
  std::string forward_ports; // `--list-forward-ports` output
  std::string direct_rules;  // `--direct --get-all-rules` output
};

/// The items missing from `listing` (pure). A listed forward port with an empty `:toaddr=` matches;
/// direct rules are compared with blanks collapsed.
[[nodiscard]] std::vector<FirewalldItem> missing_firewalld_items(const std::vector<FirewalldItem>& wanted,
                                                                 const FirewalldListing& listing);

enum class FirewalldConfig { permanent, runtime };

/// Runs `firewall-cmd --state` and the two list commands (read-only) for the permanent or runtime
/// configuration. Errc::unsupported when firewalld is not running; Errc::command_failed when a list
/// command fails; the runner's error when firewall-cmd cannot start.
[[nodiscard]] Result<FirewalldListing> read_firewalld(const host::HostView& host, FirewalldConfig which);

/// The forward checks' verdict for firewalld (pure): pass when nothing is missing.
[[nodiscard]] CheckResult evaluate_firewalld(const std::vector<FirewalldItem>& wanted,
                                             const FirewalldListing& listing,
                                             FirewalldConfig which);

/// ports.forward-persisted (nftables), pure over what is on disk: `conf`/`unit` are nullopt when
/// missing (or not regular files: `conf_stat`/`unit_stat` say what they are), `link` is the wants
/// symlink's target (nullopt when missing), `nft_present` whether k_nft_binary exists.
struct NftPersistedState {
  host::FileStat conf_stat;
  std::optional<std::string> conf;
  host::FileStat unit_stat;
  std::optional<std::string> unit;
  host::FileType link_type = host::FileType::missing;
  std::optional<std::string> link;
  bool nft_present = false;
};
[[nodiscard]] CheckResult evaluate_nft_persisted(const NftPersistedState& state,
                                                 const std::vector<PortForward>& forwards);
/// The I/O half of the above.
[[nodiscard]] Result<NftPersistedState> read_nft_persisted(const host::Fs& fs);

/// The message for a missing nft binary (plan error and check alike).
inline constexpr std::string_view k_nft_missing =
    "/usr/sbin/nft not found: install nftables or set ports.strategy = \"sysctl\"";

/// All ports checks, each skipped when the strategy is not its own:
/// "ports.sysctl-persisted", "ports.sysctl-effective", "ports.sysctl-live" (strategy sysctl),
/// "ports.forward-persisted", "ports.forward-live" (strategy forward; nftables or firewalld per
/// config.profile.firewall; forward-live is skipped under --root). Strategy none skips all.
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_ports_checks(const profile::Config& config);

} // namespace zt::checks
