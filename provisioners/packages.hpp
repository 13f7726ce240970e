// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 1 (packages): installs the profile's packages that the package database does not list as
// installed, in one non-interactive apt-get (or dnf) transaction. Under --root the package manager
// runs through `chroot <root>`, confined to the image tree.

#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace zt::provisioners {

struct PackagesOptions {
  std::string package_manager;       // "apt" | "dnf"
  std::vector<std::string> packages; // names to have installed
  std::string os_id;                 // the profile's os-release ID ("ubuntu": universe hint)
};

/// An apt-get install failure that says a package cannot be found ("Unable to locate package X",
/// "Package 'X' has no installation candidate") gets how to enable Ubuntu's universe component,
/// where podman, passt and catatonit live; other errors are returned as they are.
[[nodiscard]] Error with_universe_hint(Error error);

/// How long one apt-get/dnf run may take before the runner kills it.
inline constexpr std::chrono::seconds k_package_timeout{900};

class Packages final : public Provisioner {
public:
  explicit Packages(PackagesOptions options);

  [[nodiscard]] std::string_view id() const override { return "packages"; }
  /// One Change per missing package: target "package:<name>", summary "install <name>".
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// apt: `apt-get update` first when /var/lib/apt/lists holds no *_Packages index, then one
  /// `apt-get install` of the planned packages. Errc::command_failed on a non-zero exit (message
  /// ends with apt's last stderr line), Errc::timeout when it ran out of time (often a held lock).
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// apt: parses /var/lib/dpkg/status (a corrupt one stops provision before its first change).
  /// dnf: nothing (the rpm database is only read through rpm).
  [[nodiscard]] Result<void> validate_inputs(const host::HostView& host) const override;

private:
  PackagesOptions m_options;
};

/// The install argv for `missing` (already sorted), without the chroot prefix:
/// apt: apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 <names>;
/// dnf: dnf install -y <names>.
[[nodiscard]] std::vector<std::string> render_install_argv(std::string_view package_manager,
                                                           const std::vector<std::string>& missing);

/// Step "packages": the provisioner and checks::make_packages_checks(config.profile).
[[nodiscard]] Step make_packages_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
