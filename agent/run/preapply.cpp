// SPDX-License-Identifier: Apache-2.0
#include "run/preapply.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace zt::run {

namespace {

/// /etc/passwd and /etc/group parse: every provisioning step looks up the service account.
std::optional<std::string> accounts_problem(const host::HostView& host) {
  if (auto users = host.accounts().shared_users(); !users) {
    return users.error().message;
  }
  if (auto groups = host.accounts().group(""); !groups) {
    return groups.error().message;
  }
  return std::nullopt;
}

/// Steps that never look up the service account (the rest all do).
const std::set<std::string, std::less<>> k_no_account_steps = {"packages", "ports"};

} // namespace

std::vector<Blocker> find_blockers(const std::vector<provisioners::Step>& steps,
                                   const host::HostView& host,
                                   const std::function<bool(std::string_view)>& selected) {
  std::vector<Blocker> out;
  // Host inputs: the first unusable one, named by the first step that reads it (fix it and run
  // again; later files are then checked the same way).
  bool accounts_checked = false;
  for (const auto& step : steps) {
    if (!selected(step.id) || !step.provisioner) {
      continue;
    }
    auto valid = step.provisioner->validate_inputs(host);
    if (!valid) {
      out.push_back({step.id, valid.error().message});
      break;
    }
    if (!accounts_checked && !k_no_account_steps.contains(step.id)) {
      accounts_checked = true;
      if (auto problem = accounts_problem(host)) {
        out.push_back({step.id, step.id + ": " + *problem});
        break;
      }
    }
  }
  // Checks-only steps (preflight): every check that says provisioning is pointless. They come
  // first in the result, as preflight comes first in a profile.
  std::vector<Blocker> gates;
  for (const auto& step : steps) {
    if (!selected(step.id) || step.provisioner) {
      continue;
    }
    for (const auto& check : step.checks) {
      if (!check->may_block_provision()) {
        continue;
      }
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
        gates.push_back(Blocker{step.id, std::move(reason)});
      }
    }
  }
  out.insert(out.begin(), gates.begin(), gates.end());
  for (const auto& b : out) {
    spdlog::debug("before the first change: {}: {}", b.step, b.reason);
  }
  return out;
}

} // namespace zt::run
