// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "subids": one range of subordinate uids and gids for the service user (HOST-SPEC step 3).
// The decision (keep, add, or refuse) is checks::decide_subids; this adds the range with the shadow
// tools' own locking (usermod --add-subuids/--add-subgids), never by rewriting the files.

#include "checks/subids.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

namespace zt::provisioners {

class SubIds final : public Provisioner {
public:
  explicit SubIds(checks::SubIdsSpec spec) : m_spec(std::move(spec)) {}
  [[nodiscard]] std::string_view id() const override { return "subids"; }
  /// One Change per file that gets a range ("/etc/subuid", "add ztnet:165536:65536"), plus
  /// "create empty file 0644" when a file usermod needs is missing. Errc::invalid_config when the
  /// user's existing ranges are unusable (the message names the usermod command that fixes it).
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Re-reads the state, creates missing files, runs one `usermod [--prefix ROOT] --add-subuids S-E
  /// --add-subgids S-E user` (mutating), and when live with podman installed runs `podman system
  /// migrate` as the user (a failure there is only a warning). Errc::not_found when the user does not
  /// exist, Errc::command_failed when usermod exits non-zero.
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// Parses /etc/subuid, /etc/subgid, /etc/login.defs and the accounts (read_subid_state).
  [[nodiscard]] Result<void> validate_inputs(const host::HostView& host) const override;
  /// /etc/subuid and /etc/subgid.
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& /*host*/) const override {
    return {"/etc/subuid", "/etc/subgid"};
  }

private:
  checks::SubIdsSpec m_spec;
};

/// The usermod command adding the decided ranges (pure; tested). `root` is the --root directory,
/// passed as --prefix when not live.
[[nodiscard]] host::Command subids_usermod_command(const checks::SubIdDecision& decision,
                                                   std::uint64_t count,
                                                   const std::string& user,
                                                   bool live,
                                                   const std::string& root);

/// The "subids" step: SubIds plus checks::make_subids_checks.
[[nodiscard]] Step make_subids_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
