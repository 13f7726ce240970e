// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 5 (linger): makes the service user's systemd manager start at boot. With logind running
// (live host, systemd PID 1) through `loginctl enable-linger <user>`, which also starts the manager
// now; otherwise (image build, container, --root) by creating /var/lib/systemd/linger/<user>, the
// flag file logind reads at boot.

#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <string>

namespace zt::provisioners {

class Linger final : public Provisioner {
public:
  explicit Linger(std::string user);

  [[nodiscard]] std::string_view id() const override { return "linger"; }
  /// One change (target the linger file) when the file is missing. Errc::unsupported when something
  /// other than a regular file is there.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Errc::not_found when the user does not exist (the user step comes first);
  /// Errc::command_failed when loginctl exits non-zero.
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// /var/lib/systemd/linger/<user>.
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& host) const override;

private:
  std::string m_user;
};

/// Step "linger": the provisioner and checks::make_linger_checks(config.site.user).
[[nodiscard]] Step make_linger_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
