// SPDX-License-Identifier: Apache-2.0
#pragma once

// The explicit table of steps (ninja's kTools[]): step id -> factory. No static self-registration.

#include "checks/check.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zt::provisioners {

/// A step of a profile: an optional provisioner (preflight has none) and the checks of its
/// postcondition.
struct Step {
  std::string id;
  std::unique_ptr<Provisioner> provisioner;
  std::vector<std::unique_ptr<checks::Check>> checks;
};

/// Facts about this invocation that some checks need (only cli calls geteuid()).
struct StepContext {
  bool euid_root = false;
  bool provisioning = false;  // provision/plan (root needed) vs verify
};

/// Known step ids in canonical order.
[[nodiscard]] const std::vector<std::string_view>& known_steps();
/// Builds config.profile.steps in order. Errc::invalid_config names an unknown step id.
[[nodiscard]] Result<std::vector<Step>> build_steps(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
