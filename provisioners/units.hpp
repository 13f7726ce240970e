// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step "units" (HOST-SPEC step 8): writes the stack's unit files for the installed podman's style,
// the stack's data files (caddy/Caddyfile), and the enablement symlinks; removes unit files and
// links of the stack's own names that an earlier run wrote for another style; then, on a live host,
// has podman's Quadlet generator (--dryrun) or `systemd-analyze --user verify` check the result.
// Rendering and the checks live in checks/units.hpp.
//
// Safety: every path is walked without following symlinks (host::Fs); an existing non-regular file
// where a unit goes, or a non-symlink where a link goes, is refused, never replaced. Files are
// written atomically with owner and mode set on the fd. Only names from checks::style_unit_paths()
// and style_link_paths() are ever removed.

#include "checks/units.hpp"
#include "profile/spec.hpp"
#include "provisioners/provisioner.hpp"
#include "provisioners/registry.hpp"

#include <optional>
#include <string>
#include <vector>

namespace zt::provisioners {

class Units final : public Provisioner {
public:
  explicit Units(checks::UnitsSpec spec) : m_spec(std::move(spec)) {}
  [[nodiscard]] std::string_view id() const override { return "units"; }
  /// Changes, in order: "create directory 0755" (parents below home / data_root), per file
  /// "write (new)" or "rewrite (content differs, owner root:root -> ztnet:ztnet, mode 0600 -> 0644)",
  /// per link "link -> TARGET" / "relink -> TARGET (was OLD)", per stale name "remove (stale: not a
  /// quadlet-pod unit)". When the user or podman is missing, or home/data_root does not exist yet, one
  /// change per file saying it follows once they do. Errc::refused when something other than a
  /// regular file / symlink is in the way or a path component is a symlink; Errc::invalid_config
  /// when the stack cannot be rendered.
  [[nodiscard]] Result<Plan> plan(const host::HostView& host) const override;
  /// Re-surveys, then creates parents (owned by the user, 0755), writes files, links, removes stale
  /// names, and validates on a live host. Errc::not_found when the user, podman, home or data_root
  /// is missing; Errc::command_failed with the validator's message when it rejects the units.
  [[nodiscard]] Result<void> apply(host::Host& host, const Plan& plan) override;
  /// The rendered unit files, stack files and enablement links for the installed podman (for the
  /// provision state and `ztagent drift`); empty while the user or podman is missing.
  [[nodiscard]] std::vector<std::string> managed_paths(const host::HostView& host) const override;

private:
  struct Survey;
  [[nodiscard]] Result<Survey> survey(const host::HostView& host) const;

  checks::UnitsSpec m_spec;
};

// ---- validation (pure parts exposed for tests) ------------------------------------------------

/// The Quadlet generators podman installs, in the order ztagent looks for them.
[[nodiscard]] const std::vector<std::string>& quadlet_generators();
/// `runuser -u USER -- GENERATOR --user --dryrun` with QUADLET_UNIT_DIRS=unit_dir.
[[nodiscard]] host::Command quadlet_dryrun_command(const host::Account& account,
                                                   const std::string& generator,
                                                   const std::string& unit_dir);
/// `chroot ROOT GENERATOR --user --dryrun` with QUADLET_UNIT_DIRS=unit_dir (a path inside the tree):
/// the tree's own generator under --root (Scope::target_root, read-only).
[[nodiscard]] host::Command quadlet_dryrun_in_tree_command(const std::string& root,
                                                           const std::string& generator,
                                                           const std::string& unit_dir);
/// The services the generator must print ("---ztnet-caddy.service---") for this style.
[[nodiscard]] std::vector<std::string> quadlet_generated_services(const profile::Stack& stack,
                                                                  checks::UnitStyle style);
/// Verdict on the generator's run: exit 0, every service generated and no stderr line but Quadlet's
/// own debug lines, else Errc::command_failed "units: the Quadlet generator rejected the units (exit
/// N): <last stderr line>", "units: the Quadlet generator did not generate <svc>: <last stderr
/// line>" or "units: the Quadlet generator warned: <line>".
[[nodiscard]] Result<void> judge_quadlet_dryrun(const std::vector<std::string>& services,
                                                const Result<host::CommandResult>& run);
/// `runuser -u USER -- systemd-analyze --user verify FILES...`.
[[nodiscard]] host::Command verify_command(const host::Account& account,
                                           const std::vector<std::string>& files);
/// Verdict on systemd-analyze: exit 0 and no diagnostic line naming one of `files` (systemd only
/// warns, exit 0, for unknown keys), else Errc::command_failed "units: systemd-analyze --user verify
/// rejected the units: <first such line or last stderr line>".
[[nodiscard]] Result<void> judge_verify(const std::vector<std::string>& files,
                                        const Result<host::CommandResult>& run);
/// Runs the right validator. Live host: the installed Quadlet generator (none is Errc::unsupported)
/// or systemd-analyze for classic units (skipped when it or the user's runtime dir is missing).
/// Under --root: the tree's own Quadlet generator through chroot; a warning, not an error, when the
/// tree has none or chroot cannot run it (classic units: not validated, with a warning).
[[nodiscard]] Result<void> validate_units(const host::HostView& view,
                                          host::CommandRunner& runner,
                                          const profile::Stack& stack,
                                          const checks::UnitsContext& ctx,
                                          const checks::RenderedUnits& rendered);

/// The "units" step: Units plus checks::make_units_checks.
[[nodiscard]] Step make_units_step(const profile::Config& config, const StepContext& context);

} // namespace zt::provisioners
