// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "host/host.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace zt::provisioners {

/// One thing apply() would change: target "/etc/subuid", summary "add ztnet:165536:65536".
struct Change {
  std::string target;
  std::string summary;
  friend bool operator==(const Change&, const Change&) = default;
};

struct Plan {
  std::vector<Change> changes;
  [[nodiscard]] bool empty() const { return changes.empty(); }
  /// "target: summary; target: summary" for logs and not-converged errors.
  [[nodiscard]] std::string describe() const;
};

/// A step that converges one postcondition. plan() reads and decides; apply() carries out a plan
/// just returned by plan(). The orchestrator calls plan() again after apply(): it must be empty.
class Provisioner {
public:
  virtual ~Provisioner() = default;
  [[nodiscard]] virtual std::string_view id() const = 0;
  /// Reads current state and says what apply() would change. Never mutates.
  [[nodiscard]] virtual Result<Plan> plan(const host::HostView& host) const = 0;
  /// Carries out a non-empty plan just returned by plan().
  [[nodiscard]] virtual Result<void> apply(host::Host& host, const Plan& plan) = 0;
  /// Host paths of the files and directories this step owns, for the state ztagent records after a
  /// provision (agent/state/: content sha256 of regular files, owner, mode, access and default ACL;
  /// never contents) and for `ztagent drift`. Paths that do not exist yet are listed too. Default:
  /// none (steps that manage no file, e.g. packages).
  [[nodiscard]] virtual std::vector<std::string> managed_paths(const host::HostView& host) const {
    (void)host;
    return {};
  }
  /// Reads and validates every host file this step parses (account databases, /etc/subuid,
  /// login.defs, the package database, ...) without deciding anything. The orchestrator calls it for
  /// every selected step before provision's first change, so a corrupt input stops the run while
  /// the host is still untouched. Errc::parse "<file>:<line>: ..." (or io) for a file that cannot
  /// be used. Never mutates. Default: nothing to validate.
  [[nodiscard]] virtual Result<void> validate_inputs(const host::HostView& host) const {
    (void)host;
    return {};
  }
};

} // namespace zt::provisioners
