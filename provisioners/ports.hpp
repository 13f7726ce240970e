// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "ports" (HOST-SPEC step 6). Strategy sysctl: writes site.sysctl_file with
// net.ipv4.ip_unprivileged_port_start = N (0644 root:root) and, on the live host only, lowers the
// running value with `sysctl -w` when it is above N. Under --root only the file is managed.
// It refuses (Errc::invalid_config) to write a file that a later sysctl file overrides at boot:
// fighting another configuration silently would "converge" now and break after the next reboot.
// Strategy none: nothing to do. Strategy forward: Errc::unsupported (not implemented yet).

#include "checks/ports.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zt::provisioners {

struct PortsSpec {
  profile::PortStrategy strategy = profile::PortStrategy::sysctl;
  std::uint32_t port_start = 80;
  std::string sysctl_file = "/etc/sysctl.d/60-ztagent.conf";
};

[[nodiscard]] PortsSpec ports_spec(const profile::SiteConfig& site);

class Ports final : public Provisioner {
public:
  explicit Ports(PortsSpec spec) : m_spec(std::move(spec)) {}
  [[nodiscard]] std::string_view id() const override { return "ports"; }
  /// Errc::unsupported for strategy forward; Errc::invalid_config when a later sysctl file overrides
  /// ours (or ours is not read at boot); Errc::refused when sysctl_file is a symlink or not a file.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Writes the file (creating its directory 0755) and/or runs
  /// `sysctl -w net.ipv4.ip_unprivileged_port_start=N` (mutating, Scope::host).
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// The sysctl.d file with strategy sysctl; none otherwise.
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& /*host*/) const override {
    if (m_spec.strategy == profile::PortStrategy::sysctl) {
      return {m_spec.sysctl_file};
    }
    return {};
  }

private:
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

/// Step "ports": the Ports provisioner and checks::make_ports_checks(config.site).
[[nodiscard]] Step make_ports_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
