// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 8 (units): the pod and its containers as systemd user units of the service user, rendered
// for the unit style of the *installed* podman (checks/stack.hpp), plus the stack's data files
// (Config::stack.files, e.g. caddy/Caddyfile under data_root).
//
// Rendering is pure: render_units() turns a UnitsSpec, the account, the style and the secret store
// into the exact bytes of every file and the enablement symlinks, deterministically (golden files
// in tests/data/units/). The provisioner (provisioners/units.cpp) compares and writes; the checks
// here compare what is on disk with the same rendering.
//
// Styles (names of the resulting services are the same in all of them, checks/stack.hpp):
//   quadlet_pod        ~/.config/containers/systemd/<pod>.pod + <pod>-<name>.container (Pod=<pod>.pod)
//   quadlet_container  ~/.config/systemd/user/<pod>-pod.service (creates the pod) +
//                      ~/.config/containers/systemd/<pod>-<name>.container (PodmanArgs=--pod=<pod>)
//   classic            ~/.config/systemd/user/<pod>-pod.service + <pod>-<name>.service (podman run),
//                      and root's /etc/systemd/system/user@<uid>.service.d/ztagent-<pod>.conf
// Quadlet styles below podman 5.3: every pod and container unit also waits for the host network
// (pasta) through ~/.config/systemd/user/<pod>-wait-network-online.service (units_versions.hpp);
// from 5.3 Quadlet orders its units after podman's own podman-user-wait-network-online.service.
// Classic units use slirp4netns and have no wait.
// Enabling is done with symlinks exactly like `systemctl --user enable` would (works offline):
// ztagent-written .service units get default.target.wants/X -> ../X; Quadlet units are enabled by
// their [Install] section through the generator. podman-auto-update.timer is enabled in every style.
//
// Quoting follows systemd.syntax(7) and systemd.service(5): '%' is always written '%%'
// (specifiers); in values that end up on an ExecStart= line (every Quadlet [Container] value, every
// classic podman argument) '$' is written '$$'; words with blanks, quotes or backslashes are
// double-quoted with C escapes. Values with control characters (newlines) are rejected.

#include "checks/check.hpp"
#include "checks/stack.hpp"
#include "profile/spec.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// What the units step needs from the config.
struct UnitsSpec {
  std::string user = "ztnet";
  std::string data_root = "/opt/ztnet-data";
  profile::PortStrategy port_strategy = profile::PortStrategy::sysctl;
  bool selinux_labels = false;  // ":Z" on every volume
  profile::ProfileSpec profile; // package manager, to read the installed podman version
  profile::Stack stack;
};
[[nodiscard]] UnitsSpec units_spec_from(const profile::Config& config);

/// A file the units step owns, with the exact bytes and mode it must have (owner: see Kind).
struct ManagedFile {
  /// unit, stack_file: owned by the service user. user_manager_dropin: the classic style's drop-in
  /// for the system's user@<uid>.service (see user_manager_dropin_path), owned by root, as are the
  /// directories ztagent creates for it.
  enum class Kind { unit, stack_file, user_manager_dropin };
  std::string path; // host path
  std::string content;
  std::uint32_t mode = 0644;
  Kind kind = Kind::unit;
  /// The directory that must already exist (home, data_root, or /etc for the drop-in); ztagent
  /// creates what lies between it and the file (0755, owned like the file).
  std::string base_dir;
};

/// An enablement symlink: path -> target (target written verbatim, relative or absolute).
struct EnableLink {
  std::string path;
  std::string target;
  friend bool operator==(const EnableLink&, const EnableLink&) = default;
};

struct RenderedUnits {
  std::vector<ManagedFile> files; // pod, containers (stack order), [classic: the drop-in], stack files
  std::vector<EnableLink> links;  // enablement symlinks, podman-auto-update.timer last
};


/// "%"->"%%" (and "$"->"$$" with `exec_line`), double-quoted with C escapes when the word has blanks,
/// quotes, backslashes or ';' or is empty. Errc::invalid_config for control characters.
[[nodiscard]] Result<std::string> systemd_word(std::string_view word, bool exec_line);
/// The podman auto-update policy for an image: "registry" (pull when the registry has a newer
/// digest) for images from a registry, "local" for "localhost/..." images, which have no registry
/// to ask (with "registry" `podman auto-update` fails on them with exit 125) and are updated by
/// rebuilding or re-importing them locally. [podman-auto-update(1)]
[[nodiscard]] std::string_view auto_update_policy(std::string_view image);
/// One Environment= value: `KEY=value` quoted as one word (see systemd_word). `exec_line` for
/// Quadlet, whose Environment= ends up as `--env` on ExecStart=.
[[nodiscard]] Result<std::string>
environment_assignment(std::string_view key, std::string_view value, bool exec_line);

/// The resolved facts every units check and the provisioner need.
struct UnitsContext {
  host::Account account;
  std::string podman_version; // "4.3.1"
  UnitStyle style = UnitStyle::classic;
  SecretStore store = SecretStore::files;
};

/// Every unit file, stack file and enablement link for the installed podman (ctx): the style, the
/// secret store, the network wait (ztagent's unit below podman 5.3, podman's own from 5.3) and a
/// check that every Quadlet key is known to that podman's generator (Errc::unsupported otherwise).
/// Errc::invalid_config when a value cannot be written into a unit (control characters), a
/// container's `after` names an unknown container, or a secret reference names an undeclared secret.
[[nodiscard]] Result<RenderedUnits> render_units(const UnitsSpec& spec, const UnitsContext& ctx);
/// The same for a style without a version: quadlet_pod as for podman >= 5.3 (podman's network
/// wait), quadlet_container with ztagent's network wait, classic without one; no key check.
[[nodiscard]] Result<RenderedUnits>
render_units(const UnitsSpec& spec, const host::Account& account, UnitStyle style, SecretStore store);
/// "<home>/.config/systemd/user/<pod>-wait-network-online.service" (written only below podman 5.3).
[[nodiscard]] std::string network_wait_unit_path(const profile::Stack& stack, const host::Account& account);

/// The unit files and enablement links of `style` (no stack files), by host path. Used to find files
/// ztagent wrote for another style: only these names are ever removed.
[[nodiscard]] std::vector<std::string>
style_unit_paths(const profile::Stack& stack, const host::Account& account, UnitStyle style);
[[nodiscard]] std::vector<std::string>
style_link_paths(const profile::Stack& stack, const host::Account& account, UnitStyle style);
/// Classic style only: /etc/systemd/system/user@<uid>.service.d/ztagent-<pod>.conf, an ExecStop= of
/// the service user's manager that stops the pod unit (and so every container unit, which requires
/// it) while that manager is still fully up. Without it, on Debian 12 (podman 4.3, systemd 252) the
/// manager's own shutdown stops podman's scopes in parallel with the stack and the units' podman
/// commands hang until their stop timeouts (measured in the debian12-classic e2e scenario, README
/// "Known limitations").
[[nodiscard]] std::string user_manager_dropin_path(const profile::Stack& stack, const host::Account& account);
/// Unit and stack files live in directories the service user owns: they are read with
/// Fs::read_untrusted under these rules (at most 1 MiB, one link; any owner, since their bytes
/// are only compared with the rendered ones and units.owner-mode judges the owner).
[[nodiscard]] host::UntrustedRead unit_file_rules(const host::Account& account);
/// "/usr/lib/systemd/user/podman-auto-update.timer"
[[nodiscard]] std::string_view auto_update_timer_unit();

/// Looks up the user, the installed podman version and the secret store. Errc::not_found (with a
/// "run the ... step" hint) when the user or podman is missing.
[[nodiscard]] Result<UnitsContext> resolve_units_context(const host::HostView& host, const UnitsSpec& spec);

/// Styles whose unit files are present on disk (any of the style's own files), in enum order.
[[nodiscard]] Result<std::vector<UnitStyle>>
styles_on_disk(const host::HostView& host, const UnitsSpec& spec, const host::Account& account);

/// "units.files", "units.owner-mode", "units.enabled", "units.no-secrets", "units.style".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_units_checks(const UnitsSpec& spec);

} // namespace zt::checks
