// SPDX-License-Identifier: Apache-2.0
#include "provisioners/registry.hpp"

#include "checks/preflight.hpp"
#include "checks/runtime.hpp"
#include "provisioners/data.hpp"
#include "provisioners/linger.hpp"
#include "provisioners/packages.hpp"
#include "provisioners/ports.hpp"
#include "provisioners/secrets.hpp"
#include "provisioners/start.hpp"
#include "provisioners/subids.hpp"
#include "provisioners/units.hpp"
#include "provisioners/user.hpp"
#include "util/strings.hpp"

#include <algorithm>

namespace zt::provisioners {

namespace {

Step make_preflight_step(const profile::Config& config, const StepContext& context) {
  Step step;
  step.id = "preflight";
  step.checks = checks::make_preflight_checks(config, checks::PreflightContext{context.euid_root, context.provisioning});
  return step;
}

/// Checks only, verified after boot (skipped in image mode and without systemd).
Step make_runtime_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "runtime";
  step.checks = checks::make_runtime_checks(config);
  return step;
}

using Factory = Step (*)(const profile::Config&, const StepContext&);

struct Entry {
  std::string_view id;
  Factory make;
};

// The explicit table (ninja's kTools[]): profile step id -> factory, in canonical order.
constexpr Entry k_steps[] = {
    {"preflight", make_preflight_step},
    {"packages", make_packages_step},
    {"user", make_user_step},
    {"subids", make_subids_step},
    {"data", make_data_step},
    {"linger", make_linger_step},
    {"ports", make_ports_step},
    {"secrets", make_secrets_step},
    {"units", make_units_step},
    {"start", make_start_step},
    {"runtime", make_runtime_step},
};

} // namespace

const std::vector<std::string_view>& known_steps() {
  static const std::vector<std::string_view> k_ids = [] {
    std::vector<std::string_view> ids;
    for (const auto& e : k_steps) {
      ids.push_back(e.id);
    }
    return ids;
  }();
  return k_ids;
}

Result<std::vector<Step>> build_steps(const profile::Config& config, const StepContext& context) {
  std::vector<Step> steps;
  for (const auto& id : config.profile.steps) {
    auto it = std::find_if(std::begin(k_steps), std::end(k_steps), [&](const Entry& e) { return e.id == id; });
    if (it == std::end(k_steps)) {
      std::vector<std::string> known(known_steps().begin(), known_steps().end());
      return make_error(Errc::invalid_config, "profile " + config.profile.name + ": unknown step '" + id +
                                                  "' (known steps: " + util::join(known, ", ") + ")");
    }
    steps.push_back(it->make(config, context));
  }
  return steps;
}

} // namespace zt::provisioners
