// SPDX-License-Identifier: Apache-2.0
#pragma once

// The pass `provision` makes before its first change. Steps plan one after another, and a later
// step's plan can only be made once the earlier steps have applied (subids needs the user), so
// without this pass a corrupt /etc/subuid was found only after the user step had created the
// account. Here, read-only and in profile order:
//   1. every selected step's validate_inputs(): each host file the step parses, read and
//      validated (/etc/passwd, /etc/group, /etc/login.defs, /etc/subuid, /etc/subgid, dpkg's
//      status); the account databases also for every other selected step, which all look up the
//      service user;
//   2. when the preflight step is selected, its checks whose failure makes provisioning pointless
//      (Check::blocks_provision: no free space, no user namespaces, an unusable newuidmap).
// Each problem becomes a Blocker; the orchestrator reports them as failed steps and skips every
// step (nothing changes), unless --keep-going, which logs them and provisions anyway.

#include "provisioners/registry.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::run {

struct Blocker {
  std::string step;   // the step whose input is unusable, or "preflight"
  std::string reason; // "/etc/subuid:3: ..." or "preflight.free-space failed: ..."
};

/// The problems found, in profile order (empty: provisioning may start). `selected(id)` says
/// whether a step takes part in this run.
[[nodiscard]] std::vector<Blocker> find_blockers(const std::vector<provisioners::Step>& steps,
                                                 const host::HostView& host,
                                                 const std::function<bool(std::string_view)>& selected);

} // namespace zt::run
