// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "secrets" (HOST-SPEC step 7): generates each secret of the stack once, from getrandom(2)
// (hex-encoded), and stores it where the units read it (checks/secrets.hpp describes both stores).
// Existing secrets are never replaced or regenerated: a value found in any env file is reused for
// every container that shares the secret, and an existing podman secret is left as it is.
//
// Values are never logged, never in argv or env of a command (podman reads them on stdin), and never
// in a Plan or an error message: plans say "create podman secret ztnet-postgres-password".

#include "checks/secrets.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <string>

namespace zt::provisioners {

class Secrets final : public Provisioner {
public:
  Secrets(std::string user, profile::Stack stack);

  [[nodiscard]] std::string_view id() const override { return "secrets"; }
  /// Chooses the store (checks::choose_secret_store) and plans with plan_podman_secrets or
  /// plan_secret_files. When the user does not exist yet, one change saying secrets follow once it
  /// does. Errc::invalid_config for an undeclared secret reference.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Errc::not_found when the user does not exist; otherwise apply_podman_secrets or
  /// apply_secret_files for the chosen store.
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// With the files store: the secrets directory and each container's env file (the state keeps
  /// only digests, never contents). Podman secrets live in podman's own storage: none.
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& host) const override;

private:
  std::string m_user;
  profile::Stack m_stack;
};

/// podman store: one change ("create podman secret <name>") per declared secret that
/// `podman secret ls` (as the user, read-only) does not list. Errc::command_failed when it fails.
[[nodiscard]] Result<Plan>
plan_podman_secrets(const host::HostView& host, const host::Account& account, const profile::Stack& stack);
/// Creates each missing podman secret with `podman secret create <name> -` as the user, a fresh
/// random value on stdin. Never touches an existing secret.
[[nodiscard]] Result<void>
apply_podman_secrets(host::Host& host, const host::Account& account, const profile::Stack& stack);

/// files store: changes to create the secrets directory (and missing parents below the home, 0700,
/// owned by the user), to fix its owner/mode/ACLs, and per env file to create it, set missing
/// variables, or fix owner/mode/ACL. Errc::not_found when the home is missing; Errc::refused when a
/// managed path is a symlink or of the wrong type, or two files disagree on a secret; Errc::parse for
/// a malformed env file (the message names the path and line, never content).
[[nodiscard]] Result<Plan>
plan_secret_files(const host::HostView& host, const host::Account& account, const profile::Stack& stack);
/// Carries out plan_secret_files (re-reading the state): existing values win, missing ones are
/// generated once and written to every file that needs them (atomically, 0600, owned by the user).
/// Lines of an env file that ztagent does not manage are kept.
[[nodiscard]] Result<void>
apply_secret_files(host::Host& host, const host::Account& account, const profile::Stack& stack);

/// Step "secrets": Secrets plus checks::make_secrets_checks(config.site.user, config.stack).
[[nodiscard]] Step make_secrets_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
