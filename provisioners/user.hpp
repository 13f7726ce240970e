// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 2 (user): creates or corrects the service account with shadow's tools (useradd, usermod,
// groupadd), which lock /etc/passwd and friends properly; under --root they get `--prefix <root>` so
// they edit the image tree's files. The home directory is created or corrected through Fs.
//
// Never destructive: an account of the wrong kind (system vs regular) is reported, not recreated, and
// a changed home is set with `usermod --home` without -m (data is never moved).

#include "checks/user.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace zt::provisioners {

class User final : public Provisioner {
public:
  explicit User(checks::UserSpec spec);

  [[nodiscard]] std::string_view id() const override { return "user"; }
  /// Changes with target "user:<name>", "group:<name>" or the home path. Errc::invalid_config when
  /// the account exists but is of the other kind; Errc::unsupported when the home path is not a
  /// directory.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Runs useradd / groupadd / usermod as needed, then creates the home directory (0700) or fixes its
  /// owner and group/other write bits. Errc::command_failed names the tool, its exit code and its
  /// last stderr line.
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// Parses /etc/passwd, /etc/group, /etc/login.defs (strictly: the id limits), /etc/subuid and
  /// /etc/subgid.
  [[nodiscard]] Result<void> validate_inputs(const host::HostView& host) const override;

private:
  checks::UserSpec m_spec;
};

/// `useradd [--prefix P] [--system] --create-home --home-dir H --shell S --user-group NAME`; with
/// `--gid NAME` instead of --user-group when a group of that name already exists (useradd refuses
/// --user-group then). `prefix` is the --root tree, nullopt on the live host.
[[nodiscard]] std::vector<std::string> render_useradd_argv(const checks::UserSpec& spec,
                                                           bool group_exists,
                                                           const std::optional<std::string>& prefix);
/// `usermod [--prefix P] <option> <value> NAME`, e.g. option "--shell".
[[nodiscard]] std::vector<std::string> render_usermod_argv(const std::string& name,
                                                           const std::string& option,
                                                           const std::string& value,
                                                           const std::optional<std::string>& prefix);
/// `groupadd [--prefix P] [--system] NAME`.
[[nodiscard]] std::vector<std::string> render_groupadd_argv(const checks::UserSpec& spec,
                                                            const std::optional<std::string>& prefix);

/// Step "user": the provisioner and checks::make_user_checks(checks::user_spec(config.site)).
[[nodiscard]] Step make_user_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
