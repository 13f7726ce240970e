// SPDX-License-Identifier: Apache-2.0
#include "run/preapply.hpp"

#include <spdlog/spdlog.h>

namespace zt::run {

namespace {

/// /etc/passwd and /etc/group parse: every provisioning step looks up the service account.
std::optional<std::string> accounts_problem(const host::HostView& host) {
  if (auto users = host.accounts().users(); !users) {
    return users.error().message;
  }
  if (auto groups = host.accounts().group(""); !groups) {
    return groups.error().message;
  }
  return std::nullopt;
}

} // namespace

std::vector<Blocker> find_blockers(const std::vector<provisioners::Step>& steps,
                                   const host::HostView& host,
                                   const std::function<bool(std::string_view)>& selected) {
  std::vector<Blocker> out;
  bool accounts_checked = false;
  for (const auto& step : steps) {
    if (!selected(step.id)) {
      continue;
    }
    if (step.provisioner) {
      auto valid = step.provisioner->validate_inputs(host);
      if (!valid) {
        out.push_back({step.id, valid.error().message});
        continue;
      }
      if (!accounts_checked) {
        accounts_checked = true;
        if (auto problem = accounts_problem(host)) {
          out.push_back({step.id, step.id + ": " + *problem});
        }
      }
      continue;
    }
    // A checks-only step (preflight): the checks that say provisioning is pointless.
    for (const auto& check : step.checks) {
      checks::CheckResult result;
      try {
        result = check->run(host);
      } catch (const std::exception&) {
        continue; // reported as the check's error by the checks pass
      }
      if (check->blocks_provision(host, result)) {
        std::string reason = std::string(check->id()) + " failed: expected " + result.expected + ", actual " +
                             result.actual;
        if (!result.fix.empty()) {
          reason += " (fix: " + result.fix + ")";
        }
        out.push_back({step.id, std::move(reason)});
      }
    }
  }
  for (const auto& b : out) {
    spdlog::debug("before the first change: {}: {}", b.step, b.reason);
  }
  return out;
}

} // namespace zt::run
