// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "ports" (HOST-SPEC step 6). Strategy sysctl: writes site.sysctl_file with
// net.ipv4.ip_unprivileged_port_start = N (0644 root:root) and, on the live host only, lowers the
// running value with `sysctl -w` when it is above N. Under --root only the file is managed.
// It refuses (Errc::invalid_config) to write a file that a later sysctl file overrides at boot:
// fighting another configuration silently would "converge" now and break after the next reboot.
// Strategy none: nothing to do.
//
// Strategy forward (see checks/ports.hpp for the rules themselves): the pod publishes forward_to and
// the firewall redirects each public port to it.
// - nftables: writes k_nft_conf and ztagent-forward.service (0644 root:root), enables the unit with
//   the symlink `systemctl enable` makes (works under --root), and on the live host loads the table
//   with `nft -f` when `nft list table inet ztagent` differs. Errc::unsupported when /usr/sbin/nft is
//   missing in the tree (the packages step must install nftables).
// - firewalld: live host only (firewall-cmd talks to the running daemon; Errc::unsupported under
//   --root or when firewalld is not running). Adds the missing permanent forward-ports and lo direct
//   rules, then `firewall-cmd --reload` when the runtime lacks any of them. It never removes
//   forward-ports it did not add (firewalld does not record who added what), so a changed forward_to
//   leaves the old entry behind.
// - Both: ip_unprivileged_port_start is left alone, but ztagent's own sysctl file from an earlier
//   strategy = sysctl run (recognised by its "# Managed by ztagent" first line) is removed: it would
//   keep a host-wide relaxation the forward strategy does not need. The running value is not touched
//   (ztagent does not know the value before it); the kernel default returns at the next boot.

#include "checks/ports.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::provisioners {

struct PortsSpec {
  profile::PortStrategy strategy = profile::PortStrategy::sysctl;
  std::uint32_t port_start = 80;
  std::string sysctl_file = "/etc/sysctl.d/60-ztagent.conf";
  std::string firewall = "nftables";         // profile firewall for strategy forward: "nftables" | "firewalld"
  std::vector<checks::PortForward> forwards = {};  // checks::port_forwards(config.stack)
};

[[nodiscard]] PortsSpec ports_spec(const profile::Config& config);

class Ports final : public Provisioner {
public:
  explicit Ports(PortsSpec spec) : m_spec(std::move(spec)) {}
  [[nodiscard]] std::string_view id() const override { return "ports"; }
  /// sysctl: Errc::invalid_config when a later sysctl file overrides ours (or ours is not read at
  /// boot); Errc::refused when sysctl_file is a symlink or not a file.
  /// forward: Errc::unsupported without nft (nftables) or without a live, running firewalld;
  /// Errc::refused when a file or the wants link ztagent manages is something else (e.g. a symlink);
  /// Errc::command_failed when `nft list` or firewall-cmd fails; Errc::invalid_config for an unknown
  /// firewall.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// sysctl: writes the file (creating its directory 0755) and/or runs
  /// `sysctl -w net.ipv4.ip_unprivileged_port_start=N` (mutating, Scope::host).
  /// forward: writes/links what plan() listed, removes ztagent's old sysctl file, runs
  /// `nft -f /etc/ztagent/nftables.conf` or the firewall-cmd commands (mutating, Scope::host).
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// The sysctl.d file with strategy sysctl; with forward + nftables the table file, the unit and
  /// its wants link; none otherwise (firewalld keeps its own files).
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& /*host*/) const override {
    if (m_spec.strategy == profile::PortStrategy::sysctl) {
      return {m_spec.sysctl_file};
    }
    if (m_spec.strategy == profile::PortStrategy::forward && m_spec.firewall == "nftables") {
      return {std::string(checks::k_nft_conf), std::string(checks::k_forward_unit_path),
              std::string(checks::k_forward_wants_link)};
    }
    return {};
  }

private:
  [[nodiscard]] Result<Plan> plan_sysctl(const host::HostView& host) const;
  [[nodiscard]] Result<Plan> plan_nftables(const host::HostView& host) const;
  [[nodiscard]] Result<Plan> plan_firewalld(const host::HostView& host) const;
  [[nodiscard]] Result<void> add_sysctl_cleanup(const host::HostView& host, Plan& plan) const;
  PortsSpec m_spec;
};

/// The live part's decision (pure): a Change targeting /proc/sys/net/ipv4/ip_unprivileged_port_start
/// when `proc_value` is above port_start, nullopt when it is not. Errc::parse when not a number.
[[nodiscard]] Result<std::optional<Change>> plan_live_port_start(std::string_view proc_value,
                                                                 std::uint32_t port_start);

/// The override rule (pure): ok when the effective boot value is <= port_start; otherwise
/// Errc::invalid_config naming the file that wins over `our_file` (or saying ours is not read).
[[nodiscard]] Result<void>
check_sysctl_not_overridden(const std::optional<checks::EffectiveSetting>& effective,
                            std::string_view our_file,
                            std::uint32_t port_start);

/// Targets of the forward changes that are not files.
inline constexpr std::string_view k_nft_live_target = "nftables: table inet ztagent";
inline constexpr std::string_view k_firewalld_permanent_target = "firewalld: permanent";
inline constexpr std::string_view k_firewalld_runtime_target = "firewalld: runtime";

/// The live nftables decision (pure), from `nft list table inet ztagent`'s result: a Change
/// (k_nft_live_target) when the table is missing or differs from checks::render_nft_table(forwards),
/// nullopt when equal. Errc::command_failed when nft failed for another reason.
[[nodiscard]] Result<std::optional<Change>> plan_nft_live(const host::CommandResult& listing,
                                                          const std::vector<checks::PortForward>& forwards);

/// Step "ports": the Ports provisioner and checks::make_ports_checks(config).
[[nodiscard]] Step make_ports_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
